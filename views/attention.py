"""Attention — every token looks back at the tokens before it; each head looks for something else."""

import streamlit as st
from babel.lists import format_list

from explain import attention as attn
from explain import limits
from explain import tokens
from ui import attention as view
from ui import state
from ui.bertviz_offline import OfflineAssetsMissing, with_caption
from ui.drawn import shared_table
from ui.embeddings import table_toggle
from ui.i18n import N_, _, babel_locale, format_number, ngettext
from ui.figures import export_filename, with_export_title
from ui.charts import show_shared_presenter_chart
from ui.presenter import iframe_zoom, show_table
from ui.reveal import guess_before_reveal
from ui.walk import next_step_link

PRESETS = {  # name -> (prompt, the token section 4 follows, the earlier words a reader links it to)
    N_("Where does “it” look?"): ("The cat sat on the mat because it was warm.", "it", ("cat", "mat")),
    N_("Pronouns"): ("He gave her a gift because she'd helped him.", "she", ("her",)),
    N_("Ambiguity"): ("The teacher taught the students with the book.", "with", ("taught", "students")),
    N_("Bank"): ("I went to the bank to deposit my money.", "bank", ()),
}
FOLLOW_DEFAULT = "it"  # followed when the prompt is no preset and contains it; else the last token
LAYER_KEY, HEAD_KEY, GALLERY_KEY = "attn_layer", "attn_head", "attn_gallery"
FOLLOW_KEY, ROW_KEY, TOKENS_KEY = "attn_follow", "attn_score_row", "attn_tokens_for"
PICKED_KEY = "attn_gallery_picked"  # set by a gallery click: the whole page follows the new head
HEAT_LAYER_KEY = "attn_heat_layer"  # section 2's copy of the layer slider at the top
SCORES_LAYER_KEY, SCORES_HEAD_KEY = "attn_scores_layer", "attn_scores_head"  # section 5's own sliders
SCORES_FOLLOWS_KEY = "attn_scores_follows"  # the top sliders' (layer, head) section 5 last took
VIEWS = {"head": N_("Head view (one layer)"), "model": N_("Model view (all heads, {count} layers)")}
AVERAGE = -1  # the follow chart's "average of all heads" choice


def show_titled_chart(build, key: str, title: str, inputs, **kwargs) -> None:
    """The chart `build()` draws, whose saved PNG says what it shows: its title, the prompt and the
    model. Built once per process for these `inputs` (what it reads besides the prompt: ui.drawn)."""
    prompt_text = state.current_prompt_text()
    show_shared_presenter_chart(lambda: with_export_title(build(), title, prompt_text, lm.name),
                                (lm.name, ids, title, prompt_text, inputs), key, **kwargs)


def pick_from_gallery() -> None:
    """Gallery click → the layer/head sliders (a callback may set widget state)."""
    points = st.session_state[GALLERY_KEY].selection.points
    if points:
        st.session_state[LAYER_KEY] = int(points[0]["y"])
        st.session_state[HEAD_KEY] = int(points[0]["x"])
        st.session_state[PICKED_KEY] = True


def use_heat_layer() -> None:
    """Section 2's layer slider moved → the one at the top (and so the URL) takes its value."""
    st.session_state[LAYER_KEY] = st.session_state[HEAT_LAYER_KEY]


def sync_token_controls(ids: tuple[int, ...], defaults: dict[str, int]) -> None:
    """Controls that pick a token of the prompt start from their defaults when the prompt changes
    (a preset, the sidebar); a link's own value is kept when the page opens (issue 20.1)."""
    opened = TOKENS_KEY not in st.session_state
    if st.session_state.get(TOKENS_KEY) == ids:
        return
    st.session_state[TOKENS_KEY] = ids
    for key, default in defaults.items():
        if not (opened and key in st.query_params):
            st.session_state[key] = default


def game_verdict(guess: str, texts: list[str], labels: tuple[str, ...], position: int, n_layer: int, focus) -> str:
    """The revealed answer: which earlier token the followed one attends to most, against the guess."""
    token = view.quoted(labels[position])
    if position < 2:
        return _("{token} has no earlier token besides the first one: follow a later token.").format(token=token)
    counts = focus.layer_counts({0, position})
    top, wins = next(iter(counts.items()))
    guessed = attn.find_token(texts[:position], guess)
    answer = _("{token} attends most to {top}: in {wins} of {total} layers (heads averaged, the first token left out).").format(
        token=token, top=view.quoted(labels[top]), wins=wins, total=n_layer)
    if guessed is None:
        return _("“{guess}” is not one of the tokens before {token}.").format(guess=guess, token=token) + " " + answer
    if guessed == top:
        return _("✅ Right!") + " " + answer
    return _("Not this time: {guess} wins in {count} of {total} layers.").format(
        guess=view.quoted(labels[guessed]), count=counts.get(guessed, 0), total=n_layer) + " " + answer


st.title(_("👀 Attention: which earlier tokens each token looks at"))
st.markdown(_(
    "In every layer, each token asks a question (its **query**); every earlier token offers a "
    "label (its **key**). The match **query · key** gives a score for every earlier token, a "
    "**softmax** turns the scores into weights that add up to 1, and the token takes that weighted "
    "mix of the earlier tokens' **values**. In a model that writes text, a token only sees the past "
    "(the **causal mask**). A layer has several **heads** that do this independently, each learning "
    "its own kind of relation; layers stack them."
))
st.info(_(
    "**Misconception:** “attention weights explain the model's reasoning.” They show where "
    "information flows between positions, not why the model predicts what it does."
))
cols = st.columns(len(PRESETS))
for col, (name, (text, _word, _linked)) in zip(cols, PRESETS.items()):
    col.button(_(name), on_click=state.use_prompt, args=(text,), width="stretch", help=text, key=f"attn_preset_{name}")

lm, prompt, ids, analysis = state.page_analysis()
n_layer, n_head = analysis.n_layer, analysis.n_head
shown = min(len(ids), view.VIEW_CAP)
pieces = tokens.with_joined_characters(prompt.pieces)[:shown]
labels = tuple(view.token_label(p) for p in pieces)
texts = [p.text for p in pieces]
if len(ids) > view.VIEW_CAP:
    st.warning(_(
        "Your prompt has {count} tokens; the pictures show the first {cap} (beyond that they become "
        "unreadable and slow). Because a token only sees earlier tokens, these weights are exactly "
        "those of the first tokens alone. The head gallery uses all tokens."
    ).format(count=format_number(len(ids)), cap=view.VIEW_CAP))

preset = next((p for p in PRESETS.values() if p[0] == state.current_prompt_text()), None)
follow_word, expected = (preset[1], preset[2]) if preset else (FOLLOW_DEFAULT, ())
position_default = attn.find_token(texts, follow_word)
position_default = shown - 1 if position_default is None else position_default
sync_token_controls(ids, {FOLLOW_KEY: position_default, ROW_KEY: position_default})
followed = st.session_state.get(FOLLOW_KEY, position_default)
followed = followed if isinstance(followed, int) and 0 <= followed < shown else position_default
if preset and position_default >= 2:  # beside the preset buttons: what this model does on it (issue 20.1)
    wins = attn.follow_token(view.view_attentions(lm, ids), position_default).layer_counts({0, position_default})
    top, count = next(iter(wins.items()))
    st.caption(_("On this example, {token} attends most to {top}: in {count} of {total} layers (heads averaged, "
                 "the first token left out). Section 4 follows {token}.").format(
        token=view.quoted(labels[position_default]), top=view.quoted(labels[top]), count=count, total=n_layer))

# Predict, then reveal: the whole page shows the answer, so it waits for the guess -------------
if st.session_state.get("attn_game") or st.query_params.get("attn_game") == "true":
    st.markdown(_("**Predict:** which earlier word does {token} attend to most? (Change the token in section 4.)").format(
        token=view.quoted(labels[followed])))
guess = guess_before_reveal("attn", (lm.name, ids, followed), _("the attention pictures"), max_chars=40, example="cat")
if guess is not None:
    st.success(game_verdict(guess, texts, labels, followed, n_layer, attn.follow_token(view.view_attentions(lm, ids), followed)))

st.session_state.setdefault(LAYER_KEY, n_layer // 2)
st.session_state.setdefault(HEAD_KEY, 0)
if st.session_state[LAYER_KEY] >= n_layer or st.session_state[HEAD_KEY] >= n_head:
    st.session_state[LAYER_KEY], st.session_state[HEAD_KEY] = 0, 0
st.caption(_(
    "{model}: {layers} layers × {heads} heads = {patterns} attention patterns, all from one run of "
    "the model over your prompt — moving the layer and head sliders doesn't run it again."
).format(model=lm.name, layers=n_layer, heads=n_head, patterns=format_number(n_layer * n_head)))

# 1 · bertviz ---------------------------------------------------------------------------------
st.header(_("1 · Lines from each token to the tokens it attends to"))
mode = st.radio(_("View"), list(VIEWS), horizontal=True, key="attn_view", bind="query-params",
                format_func=lambda v: _(VIEWS[v]).format(count=limits.MODEL_VIEW_LAYERS))
# the page's layer, right above the view it draws (issue 20.5); sections 2 and 5 have their own beside theirs
layer = st.columns(2)[0].slider(_("Layer"), 0, n_layer - 1, key=LAYER_KEY, bind="query-params",
                               help=_("0 = the first layer, next to the embeddings."))
weights = view.view_attentions(lm, ids)
try:
    if mode == "head":
        st.markdown(_(
            "Layer **{layer}** (the slider above). Each colour is a head; point at (or tap) a token on "
            "the left to see only its lines; the thicker a line, the larger the weight. Double-click "
            "(double-tap) a colour square to show only that head."
        ).format(layer=layer))
        document = view.cached_head_view(lm, ids, labels, layer)  # the saved page: unzoomed
        st.iframe(view.cached_head_view(lm, ids, labels, layer, iframe_zoom()), height="content")
        st.markdown(view.head_view_sentence(weights[layer], pieces, followed, layer))
        if table_toggle("attn_head_view_table"):
            show_table(view.head_view_table(weights[layer], pieces))
        caption = _("Attention head view, layer {layer} · {model} · prompt: {prompt}").format(
            layer=layer, model=lm.name, prompt=state.current_prompt_text())
        download_name = export_filename("attention", f"head-view-layer-{layer}", state.current_prompt_text())
    else:
        per_view = limits.MODEL_VIEW_LAYERS
        starts = list(range(0, n_layer, per_view))
        start = starts[0] if len(starts) == 1 else st.select_slider(
            _("Layers"), options=starts, value=(layer // per_view) * per_view, key="attn_model_layers",
            bind="query-params", format_func=lambda s: f"{s}–{min(s + per_view - 1, n_layer - 1)}",
        )
        layers = tuple(range(start, min(start + per_view, n_layer)))
        st.markdown(_("One thumbnail per head (columns) and layer (rows). Click a thumbnail to enlarge it."))
        document = view.cached_model_view(lm, ids, labels, layers)
        st.iframe(document, height="content")
        try:
            stats = view.cached_statistics(lm, ids)
        except attn.PromptTooShort:
            pass
        else:
            st.markdown(view.kinds_sentence(stats, layers))
            if table_toggle("attn_model_view_table"):
                show_table(view.kinds_grid(stats, layers))
        caption = _("Attention model view, layers {first}–{last} · {model} · prompt: {prompt}").format(
            first=layers[0], last=layers[-1], model=lm.name, prompt=state.current_prompt_text())
        download_name = export_filename("attention", f"model-view-layers-{layers[0]}-{layers[-1]}", state.current_prompt_text())
    st.download_button(
        _("⬇️ Save this view as a web page (works offline)"), with_caption(document, caption),
        file_name=f"{download_name}.html", mime="text/html", key="attn_download", on_click="ignore",
    )
except OfflineAssetsMissing as err:
    st.error(str(err))
st.caption(_("Drawn with bertviz (Jesse Vig), working offline: its scripts are bundled with this site."))

# 2 · Heatmap ---------------------------------------------------------------------------------
st.header(_("2 · One head as a table of weights"))
st.session_state[HEAT_LAYER_KEY] = layer  # a copy of the layer slider at the top, beside this chart
left, right = st.columns(2)
left.slider(_("Layer"), 0, n_layer - 1, key=HEAT_LAYER_KEY, on_change=use_heat_layer)
head = right.slider(_("Head"), 0, n_head - 1, key=HEAD_KEY, bind="query-params")
title = _("Layer {layer}, head {head}").format(layer=layer, head=head)
show_titled_chart(lambda: view.attention_heatmap(weights[layer, head], pieces, title), "attn_heatmap", title, (layer, head))
st.markdown(view.heatmap_sentence(weights[layer, head], pieces, followed, layer, head))
if table_toggle("attn_heatmap_table"):
    show_table(view.matrix_table(weights[layer, head], pieces))
st.caption(_(
    "Row = the token that looks, column = the token it looks at; each row adds up to 1. The empty "
    "upper-right triangle is the causal mask: a token can't see the future."
))


# 3 · Head gallery ----------------------------------------------------------------------------
@st.fragment
def head_gallery(stats: attn.HeadStatistics) -> None:
    """The colouring is local to this section; a click on a head reruns the whole page."""
    if st.session_state.pop(PICKED_KEY, False):
        st.rerun()
    statistic = st.radio(
        _("Colour each head by"), list(attn.STATISTICS), horizontal=True, key="attn_statistic",
        bind="query-params", format_func=view.statistic_label,
    )
    show_titled_chart(
        lambda: view.gallery_figure(stats, statistic, (layer, head)), GALLERY_KEY,
        _("Every head, coloured by {statistic}").format(statistic=view.statistic_label(statistic)),
        (statistic, layer, head), on_select=pick_from_gallery, selection_mode="points",
    )
    st.markdown(view.gallery_sentence(stats, statistic))
    if table_toggle("attn_gallery_table"):
        show_table(view.gallery_table(stats, statistic))
    st.caption(ngettext(
        "Each square is one head: {measure}, measured on the {count} token from token 2 on (token 0 "
        "can only look at itself, and for token 1 the previous token is the first token). **Click "
        "(or tap) a square** to show that head in the heatmap above (outlined in orange).",
        "Each square is one head: {measure}, measured on the {count} tokens from token 2 on (token 0 "
        "can only look at itself, and for token 1 the previous token is the first token). **Click "
        "(or tap) a square** to show that head in the heatmap above (outlined in orange).",
        stats.n_rows,
    ).format(measure=_(view.STATISTIC_TEXT[statistic][1]), count=stats.n_rows))


st.header(_("3 · Every head at once: each learns something different"))
try:
    stats = view.cached_statistics(lm, ids)
except attn.PromptTooShort:
    st.info(view.too_short_message(len(ids)))
else:
    head_gallery(stats)
    st.markdown(_(
        "**Layer {layer}, head {head} is a {kind}**: to the first token {first}, to the previous token "
        "{previous}, to itself {self}, entropy {entropy} bits (a uniform spread would be {uniform})."
    ).format(
        layer=layer, head=head, kind=view.kind_name(stats.kinds[layer][head]),
        first=format_number(stats.first[layer, head], 2), previous=format_number(stats.previous[layer, head], 2),
        self=format_number(stats.self[layer, head], 2), entropy=format_number(stats.entropy[layer, head], 2),
        uniform=format_number(stats.max_entropy, 2),
    ))
    counts = {name: sum(row.count(name) for row in stats.kinds) for name in attn.KIND_RULES}
    show_table(
        shared_table(("attn_kinds", lm.name, ids), lambda: {  # the count before the long rule: a phone shows it unscrolled
            _("kind"): [view.kind_name(name) for name in attn.KIND_RULES],
            _("heads"): [counts[name] for name in attn.KIND_RULES],
            _("rule (checked in this order)"): [view.kind_rule(name) for name in attn.KIND_RULES],
        }),
        key="attn_kinds",
    )
    st.caption(_(
        "Most heads of small models park their attention on the first token when they have nothing "
        "to do (an “attention sink”); the few heads that don't are the interesting ones."
    ))


# 4 · Follow one token ------------------------------------------------------------------------
@st.fragment
def follow_one_token() -> None:
    """The followed token and the head choice only redraw this section."""
    position = st.selectbox(_("Token to follow"), list(range(shown)), format_func=lambda i: f"{i}: {labels[i]}",
                            key=FOLLOW_KEY, bind="query-params")
    head_choice = st.selectbox(
        _("Heads"), [AVERAGE, *range(n_head)], key="attn_follow_head", bind="query-params",
        format_func=lambda h: _("average of all heads") if h == AVERAGE else _("head {head}").format(head=h),
    )
    focus = attn.follow_token(weights, position)
    chosen_head = None if head_choice == AVERAGE else head_choice
    show_titled_chart(lambda: view.follow_figure(focus, pieces, chosen_head), "attn_follow_chart",
                      _("Where {token} looks, layer by layer").format(token=f"“{labels[position]}”"), (position, chosen_head))
    if table_toggle("attn_follow_table"):
        show_table(view.follow_table(focus, pieces, chosen_head))
    if position == 0:
        st.caption(_("The first token has nothing before it: it can only attend to itself."))
        return
    counts = focus.layer_counts({0} | ({position} if position > 1 else set()))
    winners = [_("{token} in {count} of {total} layers").format(token=view.quoted(labels[i]), count=n, total=n_layer)
               for i, n in list(counts.items())[:3]]
    st.markdown(_(
        "Leaving out the first token (the attention sink) and {token} itself, the earlier token it "
        "attends to most is, layer by layer (heads averaged): {winners}. Circles mark the most "
        "attended token of each layer (sink included)."
    ).format(token=view.quoted(labels[position]), winners=format_list(winners, locale=babel_locale())))
    found = [(word, attn.find_token(texts[:position], word)) for word in expected]
    found = [(word, i) for word, i in found if i is not None]
    if position == position_default and found:
        words = format_list([f"“{word}”" for word, _i in found], style="or", locale=babel_locale())
        measured = [_("{token} is its most attended earlier token in {count} of {total} layers").format(
            token=view.quoted(labels[i]), count=counts.get(i, 0), total=n_layer) for _w, i in found]
        st.markdown(_(
            "**A reader links {token} to {words}. This model doesn't have to:** {measured}. Attention "
            "weights show where information flows, not which word a pronoun means."
        ).format(token=view.quoted(labels[position]), words=words,
                 measured=format_list(measured, locale=babel_locale())))


st.header(_("4 · Follow one token through the layers"))
follow_one_token()


# 5 · Scores before softmax: its own layer and head, beside its charts (issue 20.5) --------------
def sync_scores_controls(layer: int, head: int) -> None:
    """Section 5's layer and head start from the sliders at the top and follow them when they (or a
    gallery click) move, or when another model has fewer layers or heads; moving section 5's own
    leaves the rest of the page. A link's values are kept when the page opens."""
    opened = SCORES_FOLLOWS_KEY not in st.session_state
    fits = st.session_state.get(SCORES_LAYER_KEY, 0) < n_layer and st.session_state.get(SCORES_HEAD_KEY, 0) < n_head
    if fits and st.session_state.get(SCORES_FOLLOWS_KEY) == (layer, head):
        return
    st.session_state[SCORES_FOLLOWS_KEY] = (layer, head)
    for key, value in ((SCORES_LAYER_KEY, layer), (SCORES_HEAD_KEY, head)):
        if not (opened and key in st.query_params):
            st.session_state[key] = value


@st.fragment
def scores_before_softmax() -> None:
    """The sliders sit right above the charts they drive; they rerun only this section."""
    explanation = st.container()  # filled once the sliders' values are known
    left, right = st.columns(2)
    chosen_layer = left.slider(_("Layer (scores)"), 0, n_layer - 1, key=SCORES_LAYER_KEY, bind="query-params")
    chosen_head = right.slider(_("Head (scores)"), 0, n_head - 1, key=SCORES_HEAD_KEY, bind="query-params")
    scores = view.cached_scores(lm, ids, chosen_layer)
    with explanation:
        st.markdown(_(
            "Layer **{layer}**, head **{head}** (the two sliders below: they start from the ones at the "
            "top of the page and follow them). The queries and keys are recomputed from the vector each "
            "token carries into this layer, through the layer's own weights ({architecture}). Each has "
            "d = {d} numbers, so every score is q·k × 1/√{d} = q·k × {scale}. The softmax of these "
            "scores gives exactly the attention weights (the second chart)."
        ).format(layer=chosen_layer, head=chosen_head, architecture=scores.architecture, d=scores.head_dim,
                 scale=format_number(scores.scale, 3)))
        if "Llama" in scores.architecture:
            st.markdown(_("In this model both the queries and the keys are first rotated by their position (RoPE)."))
    # one above the other: side by side, a projector's large titles no longer fit half the width
    show_titled_chart(lambda: view.scores_heatmap(scores, chosen_head, pieces), "attn_scores",
                      _("Before the softmax: q·k/√d, layer {layer}, head {head}").format(layer=chosen_layer, head=chosen_head),
                      (chosen_layer, chosen_head))
    after = _("After the softmax: the weights")
    show_titled_chart(lambda: view.attention_heatmap(scores.weights(chosen_head), pieces, after), "attn_scores_weights", after,
                      (chosen_layer, chosen_head))
    st.markdown(view.scores_sentence(scores, chosen_head, pieces, followed))
    if table_toggle("attn_scores_table"):
        show_table(view.matrix_table(scores.masked(chosen_head), pieces, digits=2))
    row = st.selectbox(_("Work through one row (query token)"), list(range(shown)),
                       format_func=lambda i: f"{i}: {labels[i]}", key=ROW_KEY, bind="query-params")
    show_table(
        shared_table(("attn_row", lm.name, ids, chosen_layer, chosen_head, row),
                     lambda: view.scores_row_table(scores, chosen_head, row, pieces)),
        key="attn_row_table",
        column_config={
            "q·k/√d": st.column_config.NumberColumn(format="%.3f"),
            "e^(score − max)": st.column_config.NumberColumn(format="%.4f"),
            _("weight"): st.column_config.ProgressColumn(format="%.3f", min_value=0.0, max_value=1.0),
        },
    )
    st.caption(_(
        "Each weight is its e^(score − max) divided by the row's total (subtracting the row's "
        "largest score changes nothing and avoids overflow). Future keys get −∞, so e^(−∞) = 0."
    ))


st.header(_("5 · Before the softmax: query · key scores"))
# two formulas, not one line: on a 390 px phone one line clipped the mask's definition
st.latex(r"\text{weights}_i = \mathrm{softmax}_j\!\left(\frac{q_i \cdot k_j}{\sqrt{d}} \;+\; \text{mask}_{ij}\right)")
st.latex(r"\text{mask}_{ij} = \begin{cases} 0 & j \le i \\ -\infty & j > i\end{cases}")
try:
    view.cached_scores(lm, ids, layer)
except attn.ScoresUnavailable:
    st.info(_(
        "Scores before the softmax can't be recomputed for {architecture} (only Llama-style and GPT-2 "
        "attention are supported). The weights above come straight from the model, so they are still shown."
    ).format(architecture=type(lm.model).__name__))
else:
    sync_scores_controls(layer, head)
    scores_before_softmax()

next_step_link("attention")
