"""Home — the whole journey: from the prompt to the next token, on the live model."""

import streamlit as st

from explain.anatomy import anatomy_table, model_anatomy, storage_by_part, storage_by_type
from explain.engine.gguf_file import TYPE_DESCRIPTIONS, gguf_of, nominal_bits, read_gguf
from explain.next_token import distribution_from_logits, typed_token
from explain.snapshot import load_snapshot
from explain.word_probability import next_word_text, spaced_by_default
from ui import state
from ui.charts import show_shared_chart
from ui.drawn import shared_table
from ui.figures import anatomy_bars, probability_bars
from ui.html import markdown_escape, path_diagram, token_spans, visible_text, with_byte_piece_note
from ui.i18n import N_, _, format_number, format_percent, ngettext
from ui.presenter import show_table, side_by_side
from ui.reveal import guess_before_reveal
from ui.sampling import greedy_stream
from ui.snapshot import show_snapshot
from ui.walk import next_step_link

CONTINUATION_TOKENS = 20
# How word order enters, by ModelAnatomy.position_encoding.
POSITION_TEXT = {
    "rope": N_("Word order is **not** added to these vectors: this model (RoPE) adds nothing to them for "
               "position. Instead, inside every attention layer, each token's queries and keys are "
               "rotated by an angle that grows with its position."),
    "learned": N_("Word order is added here: this model adds a learned *position vector* (one per "
                  "position, up to {context}) to each token's vector."),
    "none": N_("This model's parameters and settings show no position signal."),
}
# ModelAnatomy.params_by_part names and anatomy_table's columns, marked here to be shown translated.
PART_NAMES = (N_("embeddings"), N_("norms"), N_("attention"), N_("feed-forward"), N_("output head"), N_("other"))
TABLE_COLUMNS = (N_("part"), N_("stored in the model file as"), N_("millions"), N_("share"), N_("parameters"))
# gguf_file.TYPE_DESCRIPTIONS (and its fallback), marked here to be shown translated.
TYPE_TEXT = (
    N_("32-bit floats (not quantized)"), N_("16-bit floats"), N_("bfloat16"),
    N_("8-bit integers, one scale per block of 32"), N_("4-bit integers, one scale per block of 32"),
    N_("4-bit integers, a scale and a minimum per block of 32"), N_("5-bit integers, one scale per block of 32"),
    N_("5-bit integers, a scale and a minimum per block of 32"), N_("a ggml storage type"),
)


def explained_on(stem: str, title: str, icon: str) -> None:
    st.page_link(f"views/{stem}.py", label=_("Explained on the {page} page →").format(page=title), icon=icon)


def top5_sentence(dist) -> str:
    """The top-5 chart in words: the favourite and what the next four share, and, when a candidate
    is a byte piece (`<F0 9F>`), that it is part of a character, not a word."""
    sentence = _("The most likely next token is {token} at {top}; the next four share {rest}.").format(
        token=markdown_escape(repr(visible_text(dist.pieces[0].display))), top=format_percent(dist.probs[0]),
        rest=format_percent(sum(dist.probs[1:])))
    return with_byte_piece_note(sentence, dist.pieces)



def guess_verdict(lm, logits, prompt_text: str, guess: str) -> str:
    """The learner's next-word guess checked against the model: its first token's rank and probability."""
    text = next_word_text(guess, spaced_by_default(prompt_text, guess))
    answer = typed_token(lm, logits, text)
    if answer is None:
        return _("Type a word to compare it with the model.")
    token = markdown_escape(repr(visible_text(answer.pieces[0].display)))
    if answer.rank == 1:
        return _("🎉 Your guess starts with {token}: the model's **first choice**, at {prob}.").format(
            token=token, prob=format_percent(answer.prob))
    return _("Your guess starts with the token {token}: the model ranks it **{rank}** of {vocab}, at {prob}.").format(
        token=token, rank=format_number(answer.rank), vocab=format_number(answer.vocab_size),
        prob=format_percent(answer.prob, 2))


st.title(_("🔎 How a language model picks its next word"))
st.markdown(_(
    "A **large language model** (LLM) is trained on huge amounts of text to do one thing: "
    "**predict the next token**. Chatbots, summaries, translation and code completion are all that "
    "one step, repeated. **GPT** = **G**enerative (writes new text), **P**re-trained (learned from a "
    "large corpus first), **T**ransformer (the architecture built on attention). Below, the live "
    "model runs on your prompt (edit it in the Prompt box) — every number is computed right now."
))
st.markdown(_(
    "**The path:** text → tokens → token ids → embedding vectors → layers of "
    "self-attention and feed-forward networks → logits over the whole vocabulary → softmax → "
    "probabilities → choose a token → append it and repeat. Your text is the *prompt*, what the "
    "model adds is the *completion*, running the model is *inference*, and the most tokens it can "
    "read at once is its *context window*."
))

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
n = len(ids)

st.header(_("1 · Text → tokens → ids"))
st.markdown(_(
    "The tokenizer cuts your text into **{tokens}** and looks each one up in a vocabulary of {vocab} "
    "to get its **id** (the number under each piece). A token is often a piece of a word, not a word."
).format(tokens=ngettext("{count} token", "{count} tokens", n).format(count=format_number(n)),
         vocab=format_number(anatomy.vocab_size)))
explained_on("tokenization", _("Tokenization"), "✂️")
st.html(token_spans(prompt.pieces))

st.header(_("2 · Ids → vectors"))
path_in_words = _(
    "Your {count} tokens become {count} vectors of {width} numbers each; they pass through {layers} "
    "layers; the last token's vector becomes {vocab} probabilities, one for every token of the vocabulary."
).format(count=format_number(n), width=format_number(anatomy.d_model), layers=anatomy.n_layer,
         vocab=format_number(anatomy.vocab_size))
st.html(path_diagram(
    [
        (format_number(n), _("tokens"), _("ids from a vocabulary of {vocab}").format(vocab=format_number(anatomy.vocab_size))),
        (f"{n} × {anatomy.d_model}", _("numbers"), _("one vector of {width} per token").format(width=anatomy.d_model)),
        (f"{anatomy.n_layer}", _("layers"), _("attention ({heads} heads) + feed-forward in each").format(heads=anatomy.n_head)),
        (format_number(anatomy.vocab_size), _("probabilities"), _("one per vocabulary token, for the next token")),
    ],
    path_in_words,
))
st.caption(_("The path on your prompt, in words: {path}").format(path=path_in_words))
st.markdown(_(
    "Each id picks one row of the embedding matrix: a vector of **{width} numbers**. Your prompt "
    "becomes a table of {count} × {width} numbers. Tokens used in similar ways get similar vectors."
).format(width=anatomy.d_model, count=n) + " "
    + _(POSITION_TEXT[anatomy.position_encoding]).format(context=format_number(anatomy.context_length)))
explained_on("embeddings", _("Embeddings"), "🧭")

st.header(_("3 · Vectors → attention layers"))
st.markdown(_(
    "The vectors pass through **{layers} layers**. In each, **{heads} attention heads** let every "
    "token look back at the tokens before it ({layers} × {heads} = {patterns} attention patterns), and "
    "a feed-forward network transforms the result."
).format(layers=anatomy.n_layer, heads=anatomy.n_head, patterns=anatomy.n_layer * anatomy.n_head))
explained_on("attention", _("Attention"), "👀")
explained_on("inside_layer", _("Inside a layer"), "🔬")

st.header(_("4 · The last vector → a probability for every token"))
logits = state.cached_analysis(lm, ids).last_logits
guess = guess_before_reveal("home", ids, _("the model's five most likely next tokens"))
if guess is not None:
    st.success(guess_verdict(lm, logits, prompt.text, guess))
dist = distribution_from_logits(lm, logits, temperature=1.0, top_n=5)
st.markdown(_(
    "The last token's vector is scored against all {vocab} tokens (the *logits*); softmax turns the "
    "scores into probabilities that add up to 1. The five most likely next tokens take {mass} of the "
    "probability."
).format(vocab=format_number(dist.vocab_size), mass=format_percent(dist.top_n_mass, 0)))
explained_on("softmax", _("Softmax"), "🌡️")
left, right = side_by_side([3, 2])  # in presenter mode the table goes under the chart, at full width


def top5_bars():
    bars = probability_bars(dist)
    bars.update_xaxes(title=_("probability"))
    return bars


def top5_rows() -> list[dict]:
    return [{_("rank"): rank, _("token"): repr(piece.display), "id": token_id, _("probability"): format_percent(p, 2)}
            for rank, (piece, token_id, p) in enumerate(zip(dist.pieces, dist.token_ids, dist.probs), start=1)]


with left:  # built once for every session showing this prompt (a class opening the same link)
    show_shared_chart(top5_bars, (lm.name, ids), key="top5", page="home",
                      title=_("The five most likely next tokens"), prompt=prompt.text, model_name=lm.name)
with right:
    show_table(shared_table(("home_top5", lm.name, ids), top5_rows), key="top5_table")
st.markdown(top5_sentence(dist))

st.header(_("5 · Choose, append, repeat"))
sentence, strip = st.empty(), st.empty()  # cleared at once: no continuation of an older prompt stays
sentence.markdown(_("⏳ Choosing the most likely token, {count} times…").format(count=CONTINUATION_TOKENS))
strip.html(token_spans(prompt.pieces, show_ids=False))
# Each token is drawn as soon as it is chosen (or the whole stored continuation at once). Drawing
# is an `st.*` call, where Streamlit stops a script whose rerun was requested: a new prompt stops
# this loop after at most one more token.
for continuation in greedy_stream(lm.name, ids, CONTINUATION_TOKENS):
    strip.html(token_spans(prompt.pieces + continuation.pieces, show_ids=False, highlight_from=len(ids)))
done = len(continuation.new_ids)
if continuation.stopped_at_end_token:
    sentence.markdown(ngettext(
        "Choosing the most likely token every time (*greedy* decoding) and feeding it back in, {count} "
        "time, continues your prompt like this (new tokens outlined), stopping at the end-of-text token.",
        "Choosing the most likely token every time (*greedy* decoding) and feeding it back in, {count} "
        "times, continues your prompt like this (new tokens outlined), stopping at the end-of-text token.",
        done).format(count=done))
else:
    sentence.markdown(ngettext(
        "Choosing the most likely token every time (*greedy* decoding) and feeding it back in, {count} "
        "time, continues your prompt like this (new tokens outlined).",
        "Choosing the most likely token every time (*greedy* decoding) and feeding it back in, {count} "
        "times, continues your prompt like this (new tokens outlined).",
        done).format(count=done))
st.caption(_("A continuation can drift: each token is only the most likely next one, never checked "
             "against your question or the facts — plausible text, not necessarily true text."))
explained_on("sampling", _("Sampling"), "🎲")
st.markdown(_(
    "Before transformers, recurrent networks read one word at a time and carried a fixed-size "
    "memory. Two small models trained by us show the difference side by side:"
))
st.page_link("views/rnn_vs_transformer.py", label=_("RNN vs Transformer →"), icon="🔁")

st.header(_("Model anatomy"))
st.markdown(_(
    "**{model}** is a decoder-only transformer ({architecture}) with **{millions} million parameters** "
    "— the learned weights. For scale: GPT-3 has 175 billion, Llama 3 has 8 or 70 billion. Bigger "
    "models know more but need more memory and time; small ones can still be good at focused tasks. "
    "Model families: *encoder-only* (BERT: classification), *encoder-decoder* (T5, BART: translation, "
    "summaries) and *decoder-only* (GPT, Llama, SmolLM: generation) — this one is decoder-only."
).format(model=lm.name, architecture=anatomy.architecture, millions=format_number(anatomy.n_params / 1e6)))
gguf = gguf_of(lm)
storage = storage_by_part(read_gguf(str(gguf))) if gguf else []
if storage:
    types = storage_by_type(storage)
    main = types[0]
    stored = "; ".join(
        _("**{count} as {type}** ({parts}: {description})").format(
            count=t.n_tensors, type=t.type_name, parts=", ".join(_(p) for p in t.parts),
            description=_(TYPE_DESCRIPTIONS.get(t.type_name, "a ggml storage type")))
        for t in types
    )
    st.markdown(_(
        "**What you see is a {bits}-bit quantized model computed in {dtype}.** The header of its model "
        "file, {file}, says how its {count} tensors are stored: {stored}. The site turns every weight "
        "back into a {dtype} number and computes with those, so every number on these pages is the "
        "quantized model's: close to, but not exactly, what the original, unquantized weights would give."
    ).format(bits=nominal_bits(main.type_name), dtype=anatomy.dtype, file=gguf.name,
             count=sum(t.n_tensors for t in types), stored=stored))
else:
    st.markdown(_("Its weights are computed in {dtype}.").format(dtype=anatomy.dtype))
cols = st.columns(3)
cols[0].metric(_("Layers"), anatomy.n_layer)
cols[1].metric(_("Attention heads per layer"), anatomy.n_head)
cols[2].metric(_("Vector size"), anatomy.d_model)
cols = st.columns(3)
cols[0].metric(_("Vocabulary"), format_number(anatomy.vocab_size))
cols[1].metric(_("Context window (tokens)"), format_number(anatomy.context_length))
cols[2].metric(_("Feed-forward width"), format_number(anatomy.d_ff))


def parameter_bars():
    parts = anatomy_bars(anatomy)
    parts.update_traces(y=[_(p) for p in parts.data[0].y])
    parts.update_xaxes(title=_("parameters"))
    return parts


def anatomy_rows() -> list[dict]:
    table = anatomy_table(anatomy, storage)
    table["part"] = [_(p) for p in table["part"]]
    columns = {_(column): values for column, values in table.items()}
    return [dict(zip(columns, row)) for row in zip(*columns.values())]


show_shared_chart(parameter_bars, lm.name, key="anatomy", page="home", title=_("Where the parameters are"),
                  prompt=prompt.text, model_name=lm.name)
largest, count = max(anatomy.params_by_part.items(), key=lambda item: item[1])
st.markdown(_("The largest part is the {part}: {count} of the {total} parameters ({share}).").format(
    part=_(largest), count=format_number(count), total=format_number(anatomy.n_params),
    share=format_percent(count / anatomy.n_params, 0)))
show_table(shared_table(("home_anatomy", lm.name), anatomy_rows), key="anatomy_table")
notes = []
if anatomy.tied_embeddings:
    notes.append(_("The output head reuses the embedding matrix (tied weights), so it adds no parameters."))
if storage:
    notes.append(_("Bits per weight include each block's scale (and minimum)."))
notes.append(_("Loaded from the {source} in {seconds} s.").format(source=lm.source, seconds=format_number(lm.load_seconds, 1)))
st.caption(" ".join(notes))

next_step_link("home")
