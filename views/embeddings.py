"""Embeddings — a token is a vector, and meaning shows up as angles between vectors."""

import streamlit as st

from explain import embeddings as emb
from explain.tokens import EmptyPrompt
from ui import embeddings as view
from ui import drawn, state
from ui.embeddings import table_toggle
from ui.html import markdown_escape
from ui.i18n import N_, _, format_number, format_percent, ngettext
from ui.figures import with_export_title
from ui.charts import show_shared_presenter_chart
from ui.reveal import guess_before_reveal
from ui.presenter import show_table
from ui.walk import next_step_link

MAX_WORDS = 50
BACKGROUND_TOKENS = 300
PROMPT_ROWS = 32
WORD_PRESET = "king, queen, man, woman, apple, banana, Paris, France, London"
CONTEXT_PRESETS = {  # (sentence A, sentence B, the word they share); English: the model reads English best
    N_("bank: river vs money"): (
        "I sat on the river bank and watched the water.", "I went to the bank to deposit my money.", "bank"
    ),
    N_("bat: animal vs baseball"): ("A bat flew out of the cave at dusk.", "He swung the bat and hit the ball.", "bat"),
    N_("light: lamp vs weight"): (
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
        return view.cached_word_vector(lm, word, leading_space)
    except emb.EmptyWord:
        return None


def show_titled_chart(build, key: str, title: str, about: str, inputs) -> None:
    """The chart `build()` draws, whose saved PNG says what it shows: its title, the words it is about,
    the model. Built once per process for these `inputs` (what it reads besides the model: ui.drawn)."""
    show_shared_presenter_chart(lambda: with_export_title(build(), title, about, lm.name),
                                (lm.name, title, about, inputs), key)


def locate_in(lm, sentences: tuple[str, str], word: str):
    """The shared word in both sentences, or the message that says what to fix."""
    found = []
    for sentence in sentences:
        try:
            found.append(view.cached_locate_word(lm, sentence, word))
        except emb.EmptyWord:
            return _("✍️ Type two sentences and the word they share.")
        except emb.WordNotFound:
            return _("✍️ “{word}” does not appear as a whole word in “{sentence}”.").format(
                word=markdown_escape(word.strip()), sentence=markdown_escape(sentence.strip()))
    return found


def game_verdict(lm, index, word, guess_text: str, leading_space: bool) -> str:
    """The revealed answer: where the guess stands among the word's neighbours, and the real nearest."""
    exclude = tuple(word.ids)
    nearest = emb.nearest_neighbours(lm, index, word.vector, 1, dict.fromkeys(exclude, ""))
    answer = _("The nearest token apart from “{word}” itself is `{token}` (cosine {cosine}).").format(
        word=markdown_escape(word.word), token=view.piece_label(nearest.pieces[0]),
        cosine=format_number(nearest.similarities[0], 3))
    guess = view.cached_word_vector(lm, guess_text, leading_space)
    similarity, rank = emb.rank_among(index, word.vector, guess.vector, exclude)
    if rank == 1:
        return _("✅ Right!") + " " + answer
    return _("“{guess}” is number {rank} of {vocab} tokens, counted from the nearest (cosine {cosine}).").format(
        guess=markdown_escape(guess.word), rank=format_number(rank), vocab=format_number(index.vocab_size),
        cosine=format_number(similarity, 3)) + " " + answer


st.title(_("🧭 Embeddings: words as vectors"))
st.markdown(_(
    "Each token id picks one row of the model's **embedding matrix**: a list of numbers, a "
    "*vector*. Nobody writes these numbers; training moves them until tokens **used in similar ways "
    "point in similar directions**. So closeness is measured by the **angle** between two vectors "
    "(its cosine, the *cosine similarity*: 1 = same direction, 0 = unrelated, −1 = opposite). "
    "word2vec (2013) learned word vectors like this before transformers existed."
))
st.info(_(
    "**Misconception:** “the model stores a definition of each word.” It stores only numbers; a "
    "word's “meaning” is nothing but where its vector sits relative to all the others."
))

lm = state.current_model()
index = view.cached_index(lm)

left, right = st.columns([2, 3])
word_text = left.text_input(_("A word"), key="emb_word", max_chars=emb.MAX_WORD_CHARS, bind="query-params")
leading_space = right.checkbox(
    _("Read words as in mid-sentence (with a leading space)"),
    value=True,
    key="emb_space",
    bind="query-params",
    help=_("“ king” (after a space) and “king” (at the start of a text) are different tokens with "
           "different vectors. Inside a sentence, words come with their space."),
)

# 1 · A token's vector ------------------------------------------------------------------------
st.header(_("1 · A token's vector"))
word = word_or_none(lm, word_text, leading_space)
if word is None:
    st.info(_("✍️ Type a word above to see its vector and its nearest neighbours."))
else:
    st.html(view.pieces_html(word))
    cols = st.columns(3)
    cols[0].metric(_("Dimensions"), index.d_model)
    cols[1].metric(_("Length (norm)"), format_number(word.norm, 2))
    cols[2].metric(_("Typical token's length"), format_number(index.median_norm, 2),
                   help=_("The median norm over the whole vocabulary."))
    show_titled_chart(lambda: view.vector_picture(word), "emb_vector", _("The vector of one token"), word.word,
                      (word_text, leading_space))
    st.markdown(view.vector_sentence(word))
    if table_toggle("emb_vector_table"):
        show_table(view.vector_table(word))
    st.caption(_(
        "All {dims} numbers of “{word}”, folded into rows of {columns} (read left to right, top to bottom); "
        "red is positive, blue negative. No single number means anything on its own — only the "
        "direction of the whole vector does."
    ).format(dims=index.d_model, word=markdown_escape(word.word), columns=view.VECTOR_COLUMNS))

with st.expander(_("Your prompt as a table of vectors")):
    try:
        prompt = state.cached_prompt_tokens(lm, state.current_prompt_text())
    except EmptyPrompt:
        st.caption(_("Type a prompt in the Prompt box to see it as vectors."))
    else:
        shown = prompt.pieces[:PROMPT_ROWS]
        vectors = emb.prompt_vectors(lm, [p.id for p in shown])
        st.markdown(ngettext(
            "Your prompt's {count} token becomes {count} row of {dims} numbers: this table is what the first layer receives.",
            "Your prompt's {count} tokens become {count} rows of {dims} numbers: this table is what the first layer receives.",
            len(prompt.ids),
        ).format(count=len(prompt.ids), dims=index.d_model)
            + (" " + _("The first {rows} rows are drawn.").format(rows=PROMPT_ROWS) if len(prompt.ids) > PROMPT_ROWS else ""))
        show_titled_chart(lambda: view.prompt_vectors_figure(shown, vectors), "emb_prompt_vectors",
                          _("Your prompt as vectors"), state.current_prompt_text(), tuple(prompt.ids))
        st.markdown(view.prompt_vectors_sentence(shown, vectors))
        if table_toggle("emb_prompt_table"):
            labels = [f"{p.index}: {view.piece_label(p)}" for p in shown]
            show_table(view.rows_table(labels, vectors, _("token")))

# 2 · Nearest neighbours ----------------------------------------------------------------------
st.header(_("2 · Nearest neighbours"))
if word is not None:
    if st.session_state.get("emb_game") or st.query_params.get("emb_game") == "true":
        st.markdown(_("**Predict:** which word is nearest to “{word}” (apart from “{word}” itself)?").format(
            word=markdown_escape(word.word)))
    guess = guess_before_reveal("emb", (lm.name, word_text, leading_space), _("the neighbours"),
                                max_chars=emb.MAX_WORD_CHARS, example="queen")
    if guess is not None:
        st.success(game_verdict(lm, index, word, guess, leading_space))
    left, right = st.columns([2, 3])
    k = left.slider(_("Neighbours"), 10, 20, 15, key="emb_k", bind="query-params")
    leave_out_self = right.checkbox(_("Leave out the word's own token(s)"), value=False, key="emb_exclude_self",
                                    bind="query-params")
    exclude = {token_id: _("the query word itself") for token_id in word.ids} if leave_out_self else {}
    neighbours = drawn.shared(("emb_neighbours", lm.name, word_text, leading_space, k, leave_out_self),
                              lambda: emb.nearest_neighbours(lm, index, word.vector, k, exclude))
    st.markdown(
        _("The {k} tokens of all {vocab} whose vectors make the smallest angle with “{word}”.").format(
            k=k, vocab=format_number(index.vocab_size), word=markdown_escape(word.word))
        + (" " + _("A word of several pieces is compared through the mean of its pieces.") if word.n_pieces > 1 else "")
        + " " + _("A single-token word finds itself first, with similarity 1 (angle 0°).")
    )
    show_table(view.neighbours_table(neighbours), key="emb_neighbours",
               height=view.table_height(k), column_config=view.neighbour_columns())
    if neighbours.excluded:
        st.caption(view.excluded_note(neighbours))
    st.caption(_(
        "Neighbours are often the same word with another case, another space or a plural — to the "
        "model those are different tokens, learned separately."
    ))
else:
    st.caption(_("Type a word above."))

# 3 · Angle matrix ----------------------------------------------------------------------------
st.header(_("3 · Angles between words"))
top = st.columns([5, 1])
words_text = top[0].text_area(
    _("Words (separated by commas)"), key="emb_words", height=80, max_chars=2_000, bind="query-params",
    help=_("Up to {count} words; each is read with the setting above.").format(count=MAX_WORDS),
)
top[1].button(_("Preset"), on_click=use_word_preset, help=WORD_PRESET, key="emb_words_preset")
names, n_dropped = emb.parse_word_list(words_text, MAX_WORDS)
if n_dropped:
    st.warning(_("Only the first {count} words are used; {dropped} more were left out.").format(
        count=MAX_WORDS, dropped=n_dropped))
word_list = [view.cached_word_vector(lm, name, leading_space) for name in names]
if len(word_list) < 2:
    st.info(_("✍️ Type at least two words, separated by commas (or press **Preset**)."))
else:
    split = [w for w in word_list if w.n_pieces > 1]
    matrix = drawn.shared(("emb_matrix", lm.name, tuple(names), leading_space), lambda: emb.similarity_matrix(word_list))
    show_titled_chart(lambda: view.similarity_heatmap(matrix), "emb_matrix", _("Cosine similarity of every pair"), words_text,
                      (tuple(names), leading_space))
    st.markdown(view.similarity_sentence(matrix))
    if table_toggle("emb_matrix_table"):
        show_table(view.similarity_table(matrix))
    st.caption(
        _("Cosine similarity of every pair (point at or tap a cell for the angle). The diagonal is each "
          "word with itself: 1. Related words share a larger value than unrelated ones.")
        + (" " + _("Split into several tokens (so the mean of their pieces is used): {words}").format(
            words=", ".join(f"{markdown_escape(w.word)} → {' + '.join(repr(p.display) for p in w.pieces)}" for w in split))
           if split else "")
    )

# 4 · A 2-D map -------------------------------------------------------------------------------
st.header(_("4 · A map of the words"))
if len(word_list) < 3:
    st.info(_("The map needs at least three words in the list above."))
else:
    background = st.checkbox(
        _("Show {count} common tokens in the background").format(count=BACKGROUND_TOKENS), value=True,
        key="emb_background", bind="query-params",
    )
    pieces = view.cached_common_words(lm, BACKGROUND_TOKENS) if background else []
    word_map = drawn.shared(("emb_map", lm.name, tuple(names), leading_space, background),
                            lambda: emb.word_map(word_list, pieces, emb.embedding_matrix(lm)))
    kept = float(word_map.explained_variance_ratio.sum())
    st.markdown(_(
        "The {dims} dimensions squeezed onto the 2 directions along which your words differ most "
        "(principal component analysis, PCA). These 2 directions keep **{kept}** of the spread "
        "between your words; **{lost} is lost**, so distances on this map are distorted. Trust the "
        "angle table above more than the map."
    ).format(dims=index.d_model, kept=format_percent(kept, 0), lost=format_percent(1 - kept, 0)))
    show_titled_chart(lambda: view.map_figure(word_map), "emb_map", _("A map of the words (PCA)"), words_text,
                      (tuple(names), leading_space, background))
    st.markdown(view.map_sentence(word_map))
    if table_toggle("emb_map_table"):
        show_table(view.map_table(word_map))
    if background:
        st.caption(_(
            "Grey dots: the first whole-word tokens the tokenizer learned (BPE learns the most frequent "
            "pieces first), projected onto the same two directions. Drag (or pinch) to zoom, "
            "double-click (double-tap) to reset; point at or tap a dot for its token."
        ))

# 5 · Analogy arithmetic ----------------------------------------------------------------------
st.header(_("5 · Arithmetic with meanings"))
cols = st.columns(4)
a_text = cols[0].text_input("a", key="emb_a", max_chars=emb.MAX_WORD_CHARS, bind="query-params")
b_text = cols[1].text_input("− b", key="emb_b", max_chars=emb.MAX_WORD_CHARS, bind="query-params")
c_text = cols[2].text_input("+ c", key="emb_c", max_chars=emb.MAX_WORD_CHARS, bind="query-params")
target_text = cols[3].text_input(_("expected (optional)"), key="emb_target", max_chars=emb.MAX_WORD_CHARS,
                                 bind="query-params")
a, b, c = (word_or_none(lm, text, leading_space) for text in (a_text, b_text, c_text))
if a is None or b is None or c is None:
    st.info(_("✍️ Fill in a, b and c (for example king − man + woman)."))
else:
    target = word_or_none(lm, target_text, leading_space)
    result = drawn.shared(("emb_analogy", lm.name, a_text, b_text, c_text, target_text, leading_space),
                          lambda: emb.analogy(lm, index, a, b, c, k=10, target=target))
    st.markdown(_(
        "Take the vector of **{a}**, subtract **{b}**, add **{c}**: the tokens nearest to the result "
        "are below. Left out: the three input words and every token that is one of them in another "
        "case or with or without its leading space (to the model those are other tokens, but not an "
        "answer) — they are usually nearest of all; the list is under the table. What remains is "
        "shown, whatever it is: small models often miss, and that is part of the lesson."
    ).format(a=markdown_escape(a.word), b=markdown_escape(b.word), c=markdown_escape(c.word)))
    show_table(view.neighbours_table(result.neighbours), key="emb_analogy",
               height=view.table_height(len(result.neighbours.ids)), column_config=view.neighbour_columns())
    st.caption(view.excluded_note(result.neighbours))
    if target is not None:
        if result.target_rank == 1:
            verdict = _("“{word}” has cosine **{cosine}** with the result: the nearest token — the arithmetic worked.")
        else:
            verdict = _("“{word}” has cosine **{cosine}** with the result: number {rank} of {count} tokens — "
                        "the arithmetic did not land on it.")
        st.markdown(verdict.format(
            word=markdown_escape(target.word), cosine=format_number(result.target_similarity, 3),
            rank=format_number(result.target_rank),
            count=format_number(index.vocab_size - len(result.neighbours.excluded))))

# 6 · Same word, two contexts -----------------------------------------------------------------
st.header(_("6 · Same word, two contexts"))
st.markdown(_(
    "The input embedding of a token is the same everywhere: the row is looked up, whatever the "
    "sentence. Then every layer mixes in information from the tokens around it, so the vectors "
    "of “bank” in *river bank* and in *bank account* can differ after each layer: the chart "
    "measures how similar they stay, layer by layer."
))
st.selectbox(
    _("Examples"), list(CONTEXT_PRESETS), index=None, key="emb_context_preset", format_func=_,
    placeholder=_("Pick a word with two meanings…"), on_change=use_context_preset,
)
cols = st.columns([5, 5, 2])
sentence_a = cols[0].text_input(_("Sentence A"), key="emb_sentence_a", max_chars=emb.MAX_SENTENCE_CHARS,
                                bind="query-params")
sentence_b = cols[1].text_input(_("Sentence B"), key="emb_sentence_b", max_chars=emb.MAX_SENTENCE_CHARS,
                                bind="query-params")
shared = cols[2].text_input(_("Shared word"), key="emb_shared", max_chars=emb.MAX_WORD_CHARS, bind="query-params")
located = locate_in(lm, (sentence_a, sentence_b), shared)
if isinstance(located, str):
    st.info(located)
else:
    in_a, in_b = located
    hidden_a = state.cached_analysis(lm, tuple(in_a.ids)).hidden_states
    hidden_b = state.cached_analysis(lm, tuple(in_b.ids)).hidden_states
    drift = drawn.shared(("emb_drift", lm.name, sentence_a, sentence_b, shared),
                         lambda: emb.context_drift(lm, in_a, in_b, hidden_a, hidden_b))
    for label, found in (("A", in_a), ("B", in_b)):
        st.html(view.sentence_html(found))
        pieces_text = " + ".join(f"‘{markdown_escape(view.piece_label(found.pieces[i]))}’" for i in found.positions)
        where = ", ".join(map(str, found.positions))
        if len(found.positions) > 1:
            message = _("Sentence {label}: “{word}” is {pieces} (outlined; positions {positions}, counting "
                        "from 0) — its vector is the mean of these pieces.")
        else:
            message = _("Sentence {label}: “{word}” is {pieces} (outlined; position {positions}, counting from 0).")
        st.caption(message.format(label=label, word=markdown_escape(found.found), pieces=pieces_text, positions=where))
    if not drift.same_pieces:
        st.warning(_(
            "The word is split into different tokens in the two sentences (e.g. a capital letter or a "
            "missing space), so even its input vectors differ: similarity {similarity} at the start."
        ).format(similarity=format_number(drift.input_similarity, 3)))
    n_layer = len(drift.similarities) - 1
    layer = st.slider(_("Layer"), 0, n_layer, n_layer // 2, key="emb_layer", bind="query-params")
    show_titled_chart(lambda: view.drift_figure(drift, in_a.found, layer), "emb_drift",
                      _("The same word in two sentences, layer by layer"), f"{sentence_a} | {sentence_b}",
                      (sentence_a, sentence_b, shared, layer))
    st.markdown(view.drift_sentence(drift, in_a.found))
    if table_toggle("emb_drift_table"):
        show_table(view.drift_table(drift))
    cols = st.columns(3)
    cols[0].metric(_("Input embeddings"), format_number(drift.input_similarity, 3))
    cols[1].metric(_("After layer {layer}").format(layer=layer), format_number(drift.similarities[layer], 3),
                   delta=f"{drift.similarities[layer] - drift.input_similarity:+.3f}", delta_color="off")
    cols[2].metric(_("Other tokens of B, layer {layer}").format(layer=layer), format_number(drift.baseline[layer], 3))
    st.caption(
        _("Cosine similarity of the word's vector in sentence A with its vector in sentence B, after "
          "each layer, from the model's own hidden states. Layer 0 is what enters the first layer; "
          "the last point is after the final normalisation. The dashed line is the reference: the "
          "word against all the other tokens of sentence B. Inside the layers all vectors share some "
          "common directions, so compare the two lines rather than reading the values alone.")
        + (" " + _("In this model layer 0 already includes a learned position vector, so the same word at "
                   "two different positions starts slightly below 1.")
           if view.cached_position_scheme(lm).kind == "learned absolute" else "")
    )

# 7 · Position --------------------------------------------------------------------------------
st.header(_("7 · Position: where in the sentence"))
st.markdown(_(
    "A transformer reads all tokens at once, so without help it would not know their order: "
    "“dog bites man” would equal “man bites dog”. The original transformer (*Attention Is All You "
    "Need*, 2017) **adds** a fixed wave pattern to each token's vector: every dimension pair is a "
    "sine and a cosine of the position, at a slower frequency for later dimensions."
))
cols = st.columns(2)
n_positions = cols[0].slider(_("Positions"), 10, 200, 64, key="emb_positions", bind="query-params")
dims = cols[1].select_slider(_("Dimensions"), [32, 64, 128, 256, index.d_model], value=128, key="emb_dims",
                             bind="query-params")
sinusoids = view.cached_sinusoids(n_positions, dims)
show_shared_presenter_chart(lambda: view.positions_heatmap(sinusoids, _("Sinusoidal position encodings")),
                            (n_positions, dims), "emb_sinusoids")
st.markdown(view.sinusoids_sentence(dims))
if table_toggle("emb_sinusoids_table"):
    show_table(view.rows_table(list(range(n_positions)), sinusoids, _("position")))
st.caption("PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)).")
scheme = view.cached_position_scheme(lm)
st.markdown(_("**The live model:** {statement}").format(statement=view.position_statement(scheme, lm.name)))
if scheme.learned is not None:
    show_shared_presenter_chart(
        lambda: view.positions_heatmap(scheme.learned[:n_positions, :dims], _("The live model's learned position vectors")),
        (lm.name, n_positions, dims), "emb_learned_positions",
    )
    if table_toggle("emb_learned_table"):
        show_table(view.rows_table(list(range(n_positions)), scheme.learned[:n_positions, :dims], _("position")))

next_step_link("embeddings")
