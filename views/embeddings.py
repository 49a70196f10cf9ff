"""Embeddings — a token is a vector, and meaning shows up as angles between vectors."""

import streamlit as st

from explain import embeddings as emb
from explain.tokens import EmptyPrompt
from ui import embeddings as view
from ui import state
from ui.presenter import show_chart
from ui.walk import next_step_link

MAX_WORDS = 50
BACKGROUND_TOKENS = 300
PROMPT_ROWS = 32
WORD_PRESET = "king, queen, man, woman, apple, banana, Paris, France, London"
CONTEXT_PRESETS = {  # (sentence A, sentence B, the word they share)
    "bank: river vs money": (
        "I sat on the river bank and watched the water.", "I went to the bank to deposit my money.", "bank"
    ),
    "bat: animal vs baseball": ("A bat flew out of the cave at dusk.", "He swung the bat and hit the ball.", "bat"),
    "light: lamp vs weight": (
        "Please turn on the light in the kitchen.", "This bag is light enough to carry.", "light"
    ),
}
DEFAULTS = {
    "emb_word": "king",
    "emb_words": WORD_PRESET,
    "emb_a": "king",
    "emb_b": "man",
    "emb_c": "woman",
    "emb_target": "queen",
    "emb_sentence_a": CONTEXT_PRESETS["bank: river vs money"][0],
    "emb_sentence_b": CONTEXT_PRESETS["bank: river vs money"][1],
    "emb_shared": "bank",
}
for key, value in DEFAULTS.items():
    st.session_state.setdefault(key, value)


def use_word_preset() -> None:
    st.session_state["emb_words"] = WORD_PRESET


def use_context_preset() -> None:
    choice = st.session_state.get("emb_context_preset")
    if choice in CONTEXT_PRESETS:
        a, b, word = CONTEXT_PRESETS[choice]
        st.session_state.update(emb_sentence_a=a, emb_sentence_b=b, emb_shared=word)


def word_or_none(lm, word: str, leading_space: bool):
    try:
        return view.cached_word_vector(lm.name, word, leading_space)
    except emb.EmptyWord:
        return None


st.title("🧭 Embeddings: words as vectors")
st.markdown(
    "Each token id picks one row of the model's **embedding matrix**: a list of numbers, a "
    "*vector*. Nobody writes these numbers; training moves them until tokens **used in similar ways "
    "point in similar directions**. So closeness is measured by the **angle** between two vectors "
    "(its cosine, the *cosine similarity*: 1 = same direction, 0 = unrelated, −1 = opposite). "
    "word2vec (2013) learned word vectors like this before transformers existed."
)
st.info(
    "**Misconception:** “the model stores a definition of each word.” It stores only numbers; a "
    "word's “meaning” is nothing but where its vector sits relative to all the others."
)

lm = state.current_model()
index = view.cached_index(lm.name)

left, middle, right = st.columns([2, 2, 1])
word_text = left.text_input("A word", key="emb_word", max_chars=emb.MAX_WORD_CHARS)
leading_space = middle.checkbox(
    "Read words as in mid-sentence (with a leading space)",
    value=True,
    key="emb_space",
    help="“ king” (after a space) and “king” (at the start of a text) are different tokens with "
    "different vectors. Inside a sentence, words come with their space.",
)
k = right.slider("Neighbours", 10, 20, 15, key="emb_k")

# 1 · A token's vector ------------------------------------------------------------------------
st.header("1 · A token's vector")
word = word_or_none(lm, word_text, leading_space)
if word is None:
    st.info("✍️ Type a word above to see its vector and its nearest neighbours.")
else:
    st.html(view.pieces_html(word))
    cols = st.columns(3)
    cols[0].metric("Dimensions", index.d_model)
    cols[1].metric("Length (norm)", f"{word.norm:.2f}")
    cols[2].metric("Typical token's length", f"{index.median_norm:.2f}",
                   help="The median norm over the whole vocabulary.")
    show_chart(view.vector_picture(word), key="emb_vector")
    st.caption(
        f"All {index.d_model} numbers of “{word.word}”, folded into rows of 48 (read left to right, "
        "top to bottom); red is positive, blue negative. No single number means anything on its "
        "own — only the direction of the whole vector does."
    )

with st.expander("Your prompt as a table of vectors"):
    try:
        prompt = state.cached_prompt_tokens(lm.name, state.current_prompt_text())
    except EmptyPrompt:
        st.caption("Type a prompt in the sidebar to see it as vectors.")
    else:
        shown = prompt.pieces[:PROMPT_ROWS]
        st.markdown(
            f"Your prompt's {len(prompt.ids)} tokens become {len(prompt.ids)} rows of "
            f"{index.d_model} numbers: this table is what the first layer receives."
            + (f" The first {PROMPT_ROWS} rows are drawn." if len(prompt.ids) > PROMPT_ROWS else "")
        )
        show_chart(
            view.prompt_vectors_figure(shown, emb.prompt_vectors(lm, [p.id for p in shown])), key="emb_prompt_vectors",
        )

# 2 · Nearest neighbours ----------------------------------------------------------------------
st.header("2 · Nearest neighbours")
if word is not None:
    leave_out_self = st.checkbox("Leave out the word's own token(s)", value=False, key="emb_exclude_self")
    exclude = {token_id: "the query word itself" for token_id in word.ids} if leave_out_self else {}
    neighbours = emb.nearest_neighbours(lm, index, word.vector, k, exclude)
    st.markdown(
        f"The {k} tokens of all {index.vocab_size:,} whose vectors make the smallest angle with "
        f"“{word.word}”"
        + (" (a word of several pieces is compared through the mean of its pieces)" if word.n_pieces > 1 else "")
        + ". A single-token word finds itself first, with similarity 1 (angle 0°)."
    )
    st.dataframe(view.neighbours_table(neighbours), hide_index=True, key="emb_neighbours",
                 height=view.table_height(k), column_config=view.NEIGHBOUR_COLUMNS)
    if neighbours.excluded:
        st.caption(view.excluded_note(neighbours))
    st.caption(
        "Neighbours are often the same word with another case, another space or a plural — to "
        "the model those are different tokens, learned separately."
    )
else:
    st.caption("Type a word above.")

# 3 · Angle matrix ----------------------------------------------------------------------------
st.header("3 · Angles between words")
top = st.columns([5, 1])
words_text = top[0].text_area(
    "Words (separated by commas)", key="emb_words", height=80, max_chars=2_000,
    help=f"Up to {MAX_WORDS} words; each is read with the setting above.",
)
top[1].button("Preset", on_click=use_word_preset, help=WORD_PRESET, key="emb_words_preset")
names, n_dropped = emb.parse_word_list(words_text, MAX_WORDS)
if n_dropped:
    st.warning(f"Only the first {MAX_WORDS} words are used; {n_dropped} more were left out.")
word_list = [view.cached_word_vector(lm.name, name, leading_space) for name in names]
if len(word_list) < 2:
    st.info("✍️ Type at least two words, separated by commas (or press **Preset**).")
else:
    split = [w for w in word_list if w.n_pieces > 1]
    matrix = emb.similarity_matrix(word_list)
    show_chart(view.similarity_heatmap(matrix), key="emb_matrix")
    st.caption(
        "Cosine similarity of every pair (hover for the angle). The diagonal is each word with "
        "itself: 1. Related words share a larger value than unrelated ones."
        + (" Split into several tokens (so the mean of their pieces is used): "
           + ", ".join(f"{w.word} → {' + '.join(repr(p.display) for p in w.pieces)}" for w in split)
           if split else "")
    )

# 4 · A 2-D map -------------------------------------------------------------------------------
st.header("4 · A map of the words")
if len(word_list) < 3:
    st.info("The map needs at least three words in the list above.")
else:
    background = st.checkbox(
        f"Show {BACKGROUND_TOKENS} common tokens in the background", value=True, key="emb_background"
    )
    pieces = view.cached_common_words(lm.name, BACKGROUND_TOKENS) if background else []
    word_map = emb.word_map(word_list, pieces, emb.embedding_matrix(lm))
    kept = float(word_map.explained_variance_ratio.sum())
    st.markdown(
        f"The {index.d_model} dimensions squeezed onto the 2 directions along which your words differ "
        f"most (principal component analysis, PCA). These 2 directions keep **{kept:.0%}** of the "
        f"spread between your words; **{1 - kept:.0%} is lost**, so distances on this map are distorted. "
        "Trust the angle table above more than the map."
    )
    show_chart(view.map_figure(word_map), key="emb_map")
    if background:
        st.caption(
            "Grey dots: the first whole-word tokens the tokenizer learned (BPE learns the most "
            "frequent pieces first), projected onto the same two directions. Drag to zoom, "
            "double-click to reset, hover a dot for its token."
        )

# 5 · Analogy arithmetic ----------------------------------------------------------------------
st.header("5 · Arithmetic with meanings")
cols = st.columns(4)
a_text = cols[0].text_input("a", key="emb_a", max_chars=emb.MAX_WORD_CHARS)
b_text = cols[1].text_input("− b", key="emb_b", max_chars=emb.MAX_WORD_CHARS)
c_text = cols[2].text_input("+ c", key="emb_c", max_chars=emb.MAX_WORD_CHARS)
target_text = cols[3].text_input("expected (optional)", key="emb_target", max_chars=emb.MAX_WORD_CHARS)
a, b, c = (word_or_none(lm, text, leading_space) for text in (a_text, b_text, c_text))
if a is None or b is None or c is None:
    st.info("✍️ Fill in a, b and c (for example king − man + woman).")
else:
    target = word_or_none(lm, target_text, leading_space)
    result = emb.analogy(lm, index, a, b, c, k=10, target=target)
    st.markdown(
        f"Take the vector of **{a.word}**, subtract **{b.word}**, add **{c.word}**: the tokens nearest "
        "to the result are below. Left out: the three input words and every token that is one of "
        "them in another case or with or without its leading space (to the model those are other "
        "tokens, but not an answer) — they are usually nearest of all; the list is under the table. What remains "
        "is shown, whatever it is: small models often miss, and that is part of the lesson."
    )
    st.dataframe(view.neighbours_table(result.neighbours), hide_index=True, key="emb_analogy",
                 height=view.table_height(len(result.neighbours.ids)), column_config=view.NEIGHBOUR_COLUMNS)
    st.caption(view.excluded_note(result.neighbours))
    if target is not None:
        verdict = "the nearest token — the arithmetic worked" if result.target_rank == 1 else (
            f"number {result.target_rank:,} of {index.vocab_size - len(result.neighbours.excluded):,} "
            "tokens — the arithmetic did not land on it")
        st.markdown(f"“{target.word}” has cosine **{result.target_similarity:.3f}** with the result: {verdict}.")

# 6 · Same word, two contexts -----------------------------------------------------------------
st.header("6 · Same word, two contexts")
st.markdown(
    "The input embedding of a token is the same everywhere: the row is looked up, whatever the "
    "sentence. Then every layer mixes in information from the tokens around it, so the vectors "
    "of “bank” in *river bank* and in *bank account* can differ after each layer: the chart "
    "measures how similar they stay, layer by layer."
)
st.selectbox(
    "Examples", list(CONTEXT_PRESETS), index=None, key="emb_context_preset",
    placeholder="Pick a word with two meanings…", on_change=use_context_preset,
)
cols = st.columns([5, 5, 2])
sentence_a = cols[0].text_input("Sentence A", key="emb_sentence_a", max_chars=emb.MAX_SENTENCE_CHARS)
sentence_b = cols[1].text_input("Sentence B", key="emb_sentence_b", max_chars=emb.MAX_SENTENCE_CHARS)
shared = cols[2].text_input("Shared word", key="emb_shared", max_chars=emb.MAX_WORD_CHARS)
try:
    in_a = view.cached_locate_word(lm.name, sentence_a, shared)
    in_b = view.cached_locate_word(lm.name, sentence_b, shared)
except (emb.EmptyWord, emb.WordNotFound) as err:
    st.info(f"✍️ {err}")
else:
    hidden_a = state.cached_analysis(lm.name, tuple(in_a.ids)).hidden_states
    hidden_b = state.cached_analysis(lm.name, tuple(in_b.ids)).hidden_states
    drift = emb.context_drift(lm, in_a, in_b, hidden_a, hidden_b)
    for label, found in (("A", in_a), ("B", in_b)):
        st.html(view.sentence_html(found))
        st.caption(
            f"Sentence {label}: “{found.found}” is "
            + " + ".join(f"‘{view.piece_label(found.pieces[i])}’" for i in found.positions)
            + f" (outlined; position {', '.join(map(str, found.positions))}, counting from 0)"
            + (" — its vector is the mean of these pieces" if len(found.positions) > 1 else "")
        )
    if not drift.same_pieces:
        st.warning(
            "The word is split into different tokens in the two sentences (e.g. a capital letter or "
            "a missing space), so even its input vectors differ: similarity "
            f"{drift.input_similarity:.3f} at the start."
        )
    n_layer = len(drift.similarities) - 1
    layer = st.slider("Layer", 0, n_layer, n_layer // 2, key="emb_layer")
    show_chart(view.drift_figure(drift, in_a.found, layer), key="emb_drift")
    st.markdown(view.drift_sentence(drift, in_a.found))
    cols = st.columns(3)
    cols[0].metric("Input embeddings", f"{drift.input_similarity:.3f}")
    cols[1].metric(f"After layer {layer}", f"{drift.similarities[layer]:.3f}",
                   delta=f"{drift.similarities[layer] - drift.input_similarity:+.3f}", delta_color="off")
    cols[2].metric(f"Other tokens of B, layer {layer}", f"{drift.baseline[layer]:.3f}")
    st.caption(
        "Cosine similarity of the word's vector in sentence A with its vector in sentence B, after "
        "each layer, from the model's own hidden states. Layer 0 is what enters the first layer; "
        "the last point is after the final normalisation. The dashed line is the reference: the "
        "word against all the other tokens of sentence B. Inside the layers all vectors share some "
        "common directions, so compare the two lines rather than reading the values alone."
        + (" In this model layer 0 already includes a learned position vector, so the same word at "
           "two different positions starts slightly below 1."
           if view.cached_position_scheme(lm.name).kind == "learned absolute" else "")
    )

# 7 · Position --------------------------------------------------------------------------------
st.header("7 · Position: where in the sentence")
st.markdown(
    "A transformer reads all tokens at once, so without help it would not know their order: "
    "“dog bites man” would equal “man bites dog”. The original transformer (*Attention Is All You "
    "Need*, 2017) **adds** a fixed wave pattern to each token's vector: every dimension pair is a "
    "sine and a cosine of the position, at a slower frequency for later dimensions."
)
cols = st.columns(2)
n_positions = cols[0].slider("Positions", 10, 200, 64, key="emb_positions")
dims = cols[1].select_slider("Dimensions", [32, 64, 128, 256, index.d_model], value=128, key="emb_dims")
show_chart(
    view.positions_heatmap(view.cached_sinusoids(n_positions, dims), "Sinusoidal position encodings"), key="emb_sinusoids",
)
st.caption("PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)).")
scheme = view.cached_position_scheme(lm.name)
st.markdown(f"**The live model:** {scheme.statement}")
if scheme.learned is not None:
    show_chart(
        view.positions_heatmap(scheme.learned[:n_positions, :dims], "The live model's learned position vectors"), key="emb_learned_positions",
    )

next_step_link("embeddings")
