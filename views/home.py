"""Home — the whole journey: from the prompt to the next token, on the live model."""

import streamlit as st

from explain.anatomy import anatomy_table, model_anatomy, storage_by_part, storage_by_type
from explain.engine.gguf_file import TYPE_DESCRIPTIONS, gguf_of, nominal_bits, read_gguf
from explain.next_token import distribution_from_logits
from ui import state
from ui.figures import anatomy_bars, probability_bars
from ui.html import path_diagram, token_spans
from ui.presenter import show_chart
from ui.sampling import greedy_stream
from ui.snapshot import show_snapshot
from ui.walk import next_step_link
from explain.snapshot import load_snapshot

CONTINUATION_TOKENS = 20
# How word order enters, by ModelAnatomy.position_encoding.
POSITION_TEXT = {
    "rope": "Word order is **not** added to these vectors: this model (RoPE) adds nothing to them for "
            "position. Instead, inside every attention layer, each token's queries and keys are "
            "rotated by an angle that grows with its position.",
    "learned": "Word order is added here: this model adds a learned *position vector* (one per "
               "position, up to {context:,}) to each token's vector.",
    "none": "This model's parameters and settings show no position signal.",
}


def explained_on(stem: str, title: str, icon: str) -> None:
    st.page_link(f"views/{stem}.py", label=f"Explained on the {title} page →", icon=icon)


st.title("🔎 How a language model picks its next word")
st.markdown(
    "A **large language model** (LLM) is trained on huge amounts of text to do one thing: "
    "**predict the next token**. Chatbots, summaries, translation and code completion are all that "
    "one step, repeated. **GPT** = **G**enerative (writes new text), **P**re-trained (learned from a "
    "large corpus first), **T**ransformer (the architecture built on attention). Below, the live "
    "model runs on your prompt (edit it in the sidebar) — every number is computed right now."
)
st.markdown(
    "**The path:** text → tokens → token ids → embedding vectors → layers of "
    "self-attention and feed-forward networks → logits over the whole vocabulary → softmax → "
    "probabilities → choose a token → append it and repeat. Your text is the *prompt*, what the "
    "model adds is the *completion*, running the model is *inference*, and the most tokens it can "
    "read at once is its *context window*."
)

# While the model loads (first start, or a Space waking up), show the precomputed default view.
snapshot_slot = st.empty()
if not state.model_is_loaded(state.selected_model_name()) and state.current_prompt_text() == state.DEFAULT_PROMPT:
    shipped = load_snapshot()
    if shipped is not None:
        with snapshot_slot.container():
            show_snapshot(shipped)
lm = state.current_model()
snapshot_slot.empty()
prompt = state.current_prompt_tokens(lm)
anatomy = model_anatomy(lm)
ids = tuple(prompt.ids)

st.header("1 · Text → tokens → ids")
st.markdown(
    f"The tokenizer cuts your text into **{len(ids)} tokens** and looks each one up in a vocabulary "
    f"of {anatomy.vocab_size:,} to get its **id** (the number under each piece). "
    "A token is often a piece of a word, not a word."
)
explained_on("tokenization", "Tokenization", "✂️")
st.html(token_spans(prompt.pieces))

st.header("2 · Ids → vectors")
path_in_words = (
    f"Your {len(ids)} tokens become {len(ids)} vectors of {anatomy.d_model} numbers each; they pass "
    f"through {anatomy.n_layer} layers; the last token's vector becomes {anatomy.vocab_size:,} "
    "probabilities, one for every token of the vocabulary."
)
st.html(path_diagram(
    [
        (f"{len(ids)}", "tokens", f"ids from a vocabulary of {anatomy.vocab_size:,}"),
        (f"{len(ids)} × {anatomy.d_model}", "numbers", f"one vector of {anatomy.d_model} per token"),
        (f"{anatomy.n_layer}", "layers", f"attention ({anatomy.n_head} heads) + feed-forward in each"),
        (f"{anatomy.vocab_size:,}", "probabilities", "one per vocabulary token, for the next token"),
    ],
    path_in_words,
))
st.caption(f"The path on your prompt, in words: {path_in_words}")
st.markdown(
    f"Each id picks one row of the embedding matrix: a vector of **{anatomy.d_model} numbers**. "
    f"Your prompt becomes a table of {len(ids)} × {anatomy.d_model} numbers. Tokens used in similar "
    "ways get similar vectors. "
    + POSITION_TEXT[anatomy.position_encoding].format(context=anatomy.context_length)
)
explained_on("embeddings", "Embeddings", "🧭")

st.header("3 · Vectors → attention layers")
st.markdown(
    f"The vectors pass through **{anatomy.n_layer} layers**. In each, **{anatomy.n_head} attention "
    f"heads** let every token look back at the tokens before it ({anatomy.n_layer} × {anatomy.n_head} "
    f"= {anatomy.n_layer * anatomy.n_head} attention patterns), and a feed-forward network "
    "transforms the result."
)
explained_on("attention", "Attention", "👀")
explained_on("inside_layer", "Inside a layer", "🔬")

st.header("4 · The last vector → a probability for every token")
logits = state.cached_analysis(lm.name, ids).last_logits
dist = distribution_from_logits(lm, logits, temperature=1.0, top_n=5)
st.markdown(
    f"The last token's vector is scored against all {dist.vocab_size:,} tokens (the *logits*); "
    "softmax turns the scores into probabilities that add up to 1. The five most likely next "
    f"tokens take {dist.top_n_mass:.0%} of the probability."
)
explained_on("softmax", "Softmax", "🌡️")
left, right = st.columns([3, 2])
with left:
    show_chart(probability_bars(dist), key="top5")
with right:
    st.dataframe(
        {
            "rank": list(range(1, len(dist.pieces) + 1)),
            "token": [repr(piece.display) for piece in dist.pieces],
            "id": dist.token_ids,
            "probability": [f"{p:.2%}" for p in dist.probs],
        },
        hide_index=True,
        key="top5_table",
    )

st.header("5 · Choose, append, repeat")
sentence, strip = st.empty(), st.empty()  # cleared at once: no continuation of an older prompt stays
sentence.markdown(f"⏳ Choosing the most likely token, {CONTINUATION_TOKENS} times…")
strip.html(token_spans(prompt.pieces, show_ids=False))
# Each token is drawn as soon as it is chosen (or the whole stored continuation at once). Drawing
# is an `st.*` call, where Streamlit stops a script whose rerun was requested: a new prompt stops
# this loop after at most one more token.
for continuation in greedy_stream(lm.name, ids, CONTINUATION_TOKENS):
    strip.html(token_spans(prompt.pieces + continuation.pieces, show_ids=False, highlight_from=len(ids)))
sentence.markdown(
    f"Choosing the most likely token every time (*greedy* decoding) and feeding it back in, "
    f"{len(continuation.new_ids)} times, continues your prompt like this (new tokens outlined)"
    + (", stopping at the end-of-text token" if continuation.stopped_at_end_token else "")
    + "."
)
st.caption("A continuation can drift: each token is only the most likely next one, never checked "
           "against your question or the facts — plausible text, not necessarily true text.")
explained_on("sampling", "Sampling", "🎲")
st.markdown(
    "Before transformers, recurrent networks read one word at a time and carried a fixed-size "
    "memory. Two small models trained by us show the difference side by side:"
)
st.page_link("views/rnn_vs_transformer.py", label="RNN vs Transformer →", icon="🔁")

st.header("Model anatomy")
st.markdown(
    f"**{lm.name}** is a decoder-only transformer ({anatomy.architecture}) with "
    f"**{anatomy.n_params / 1e6:.0f} million parameters** — the learned weights. For scale: GPT-3 "
    "has 175 billion, Llama 3 has 8 or 70 billion. Bigger models know more but need more memory "
    "and time; small ones can still be good at focused tasks. Model families: *encoder-only* "
    "(BERT: classification), *encoder-decoder* (T5, BART: translation, summaries) and "
    "*decoder-only* (GPT, Llama, SmolLM: generation) — this one is decoder-only."
)
gguf = gguf_of(lm)
storage = storage_by_part(read_gguf(str(gguf))) if gguf else []
if storage:
    types = storage_by_type(storage)
    main = types[0]
    st.markdown(
        f"**What you see is a {nominal_bits(main.type_name)}-bit quantized model computed in "
        f"{anatomy.dtype}.** The header of its model file, {gguf.name}, says how its "
        f"{sum(t.n_tensors for t in types)} tensors are stored: "
        + "; ".join(
            f"**{t.n_tensors} as {t.type_name}** ({', '.join(t.parts)}: "
            f"{TYPE_DESCRIPTIONS.get(t.type_name, 'a ggml storage type')})"
            for t in types
        )
        + f". The site turns every weight back into a {anatomy.dtype} number and computes with those, "
        "so every number on these pages is the quantized model's: close to, but not exactly, what "
        "the original, unquantized weights would give."
    )
else:
    st.markdown(f"Its weights are computed in {anatomy.dtype}.")
cols = st.columns(3)
cols[0].metric("Layers", anatomy.n_layer)
cols[1].metric("Attention heads per layer", anatomy.n_head)
cols[2].metric("Vector size", anatomy.d_model)
cols = st.columns(3)
cols[0].metric("Vocabulary", f"{anatomy.vocab_size:,}")
cols[1].metric("Context window (tokens)", f"{anatomy.context_length:,}")
cols[2].metric("Feed-forward width", f"{anatomy.d_ff:,}")
show_chart(anatomy_bars(anatomy), key="anatomy")
st.dataframe(anatomy_table(anatomy, storage), hide_index=True, key="anatomy_table")
st.caption(
    ("The output head reuses the embedding matrix (tied weights), so it adds no parameters. "
     if anatomy.tied_embeddings else "")
    + ("Bits per weight include each block's scale (and minimum). " if storage else "")
    + f"Loaded from the {lm.source} in {lm.load_seconds:.1f} s."
)

next_step_link("home")
