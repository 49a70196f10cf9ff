"""Attention — every token looks back at the tokens before it; each head looks for something else."""

import streamlit as st

from explain import attention as attn
from ui import attention as view
from ui import state
from ui.bertviz_offline import OfflineAssetsMissing, with_caption
from ui.presenter import iframe_zoom, show_chart
from ui.walk import next_step_link

PRESETS = {  # name -> (prompt, the token section 4 follows, the earlier words a reader links it to)
    "Where does “it” look?": ("The cat sat on the mat because it was warm.", "it", ("cat", "mat")),
    "Pronouns": ("He gave her a gift because she'd helped him.", "she", ("her",)),
    "Ambiguity": ("The teacher taught the students with the book.", "with", ("taught", "students")),
    "Bank": ("I went to the bank to deposit my money.", "bank", ()),
}
FOLLOW_DEFAULT = "it"  # followed when the prompt is no preset and contains it; else the last token
LAYER_KEY, HEAD_KEY, GALLERY_KEY = "attn_layer", "attn_head", "attn_gallery"


def use_preset(text: str) -> None:
    st.session_state[state.PROMPT_KEY] = text


def pick_from_gallery() -> None:
    """Gallery click → the layer/head selectors (a callback may set widget state)."""
    points = st.session_state[GALLERY_KEY].selection.points
    if points:
        st.session_state[LAYER_KEY] = int(points[0]["y"])
        st.session_state[HEAD_KEY] = int(points[0]["x"])


st.title("👀 Attention: which earlier tokens each token looks at")
st.markdown(
    "In every layer, each token asks a question (its **query**); every earlier token offers a "
    "label (its **key**). The match **query · key** gives a score for every earlier token, a "
    "**softmax** turns the scores into weights that add up to 1, and the token takes that weighted "
    "mix of the earlier tokens' **values**. In a model that writes text, a token only sees the past "
    "(the **causal mask**). A layer has several **heads** that do this independently, each learning "
    "its own kind of relation; layers stack them."
)
st.info(
    "**Misconception:** “attention weights explain the model's reasoning.” They show where "
    "information flows between positions, not why the model predicts what it does."
)
cols = st.columns(len(PRESETS))
for col, (name, (text, _, _)) in zip(cols, PRESETS.items()):
    col.button(name, on_click=use_preset, args=(text,), width="stretch", help=text, key=f"attn_preset_{name}")

lm, prompt, ids = state.page_prompt()
analysis = state.cached_analysis(lm.name, ids)
n_layer, n_head = analysis.n_layer, analysis.n_head
shown = min(len(ids), view.VIEW_CAP)
pieces = prompt.pieces[:shown]
labels = tuple(view.token_label(p) for p in pieces)
if len(ids) > view.VIEW_CAP:
    st.warning(
        f"Your prompt has {len(ids)} tokens; the pictures show the first {view.VIEW_CAP} (beyond "
        "that they become unreadable and slow). Because a token only sees earlier tokens, these "
        "weights are exactly those of the first tokens alone. The head gallery uses all tokens."
    )

st.session_state.setdefault(LAYER_KEY, n_layer // 2)
st.session_state.setdefault(HEAD_KEY, 0)
if st.session_state[LAYER_KEY] >= n_layer or st.session_state[HEAD_KEY] >= n_head:
    st.session_state[LAYER_KEY], st.session_state[HEAD_KEY] = 0, 0
left, right = st.columns(2)
layer = left.slider("Layer", 0, n_layer - 1, key=LAYER_KEY, bind="query-params", help="0 = the first layer, next to the embeddings.")
head = right.slider("Head", 0, n_head - 1, key=HEAD_KEY, bind="query-params")
st.caption(
    f"{lm.name}: {n_layer} layers × {n_head} heads = {n_layer * n_head} attention patterns, all "
    "from one run of the model over your prompt — moving these sliders doesn't run it again."
)

# 1 · bertviz ---------------------------------------------------------------------------------
st.header("1 · Lines from each token to the tokens it attends to")
mode = st.radio(
    "View", ["Head view (one layer)", "Model view (all heads, six layers)"], horizontal=True, key="attn_view"
)
try:
    if mode.startswith("Head"):
        st.markdown(
            f"Layer **{layer}** (change it with the slider above). Each colour is a head; hover a "
            "token on the left to see only its lines; the thicker a line, the larger the weight. "
            "Double-click a colour square to show only that head."
        )
        st.iframe(view.cached_head_view(lm.name, ids, labels, layer, iframe_zoom()), height="content")
        document = view.cached_head_view(lm.name, ids, labels, layer)  # the saved page: unzoomed
        view_name = f"head view, layer {layer}"
        download_name = f"attention-head-view-layer-{layer}.html"
    else:
        starts = list(range(0, n_layer, 6))
        start = starts[0] if len(starts) == 1 else st.select_slider(
            "Layers", options=starts, value=(layer // 6) * 6, key="attn_model_layers",
            format_func=lambda s: f"{s}–{min(s + 5, n_layer - 1)}",
        )
        layers = tuple(range(start, min(start + 6, n_layer)))
        st.markdown("One thumbnail per head (columns) and layer (rows). Click a thumbnail to enlarge it.")
        document = view.cached_model_view(lm.name, ids, labels, layers)
        st.iframe(document, height="content")
        view_name = f"model view, layers {layers[0]}–{layers[-1]}"
        download_name = f"attention-model-view-layers-{layers[0]}-{layers[-1]}.html"
    caption = f"Attention {view_name} · {lm.name} · prompt: {state.current_prompt_text()}"
    st.download_button(
        "⬇️ Save this view as a web page (works offline)", with_caption(document, caption), file_name=download_name,
        mime="text/html", key="attn_download", on_click="ignore",
    )
except OfflineAssetsMissing as err:
    st.error(str(err))
st.caption("Drawn with bertviz (Jesse Vig), working offline: its scripts are bundled with this site.")

# 2 · Heatmap ---------------------------------------------------------------------------------
st.header("2 · One head as a table of weights")
weights = view.view_attentions(lm.name, ids)[layer, head]
show_chart(view.attention_heatmap(weights, pieces, f"Layer {layer}, head {head}"), key="attn_heatmap")
st.caption(
    "Row = the token that looks, column = the token it looks at; each row adds up to 1. The empty "
    "upper-right triangle is the causal mask: a token can't see the future."
)

# 3 · Head gallery ----------------------------------------------------------------------------
st.header("3 · Every head at once: each learns something different")
try:
    stats = view.cached_statistics(lm.name, ids)
except attn.PromptTooShort as err:
    st.info(str(err))
else:
    statistic = st.radio(
        "Colour each head by", list(attn.STATISTICS), horizontal=True, key="attn_statistic",
        format_func=lambda key: attn.STATISTICS[key][0],
    )
    show_chart(
        view.gallery_figure(stats, statistic, (layer, head)), key=GALLERY_KEY,
        on_select=pick_from_gallery, selection_mode="points",
    )
    st.caption(
        f"Each square is one head: {attn.STATISTICS[statistic][1]}, measured on the {stats.n_rows} "
        f"token{'s' if stats.n_rows != 1 else ''} from token 2 on (token 0 can only look at itself, "
        "and for token 1 the previous token is the first token). **Click a square** to show that "
        "head in the heatmap above (outlined in orange)."
    )
    kind = stats.kinds[layer][head]
    st.markdown(
        f"**Layer {layer}, head {head} is a {kind}**: to the first token "
        f"{stats.first[layer, head]:.2f}, to the previous token {stats.previous[layer, head]:.2f}, "
        f"to itself {stats.self[layer, head]:.2f}, entropy {stats.entropy[layer, head]:.2f} bits "
        f"(a uniform spread would be {stats.max_entropy:.2f})."
    )
    counts = {name: sum(row.count(name) for row in stats.kinds) for name in attn.KIND_RULES}
    st.dataframe(
        {  # the count before the long rule, so a phone shows it without scrolling sideways
            "kind": list(attn.KIND_RULES),
            "heads": [counts[name] for name in attn.KIND_RULES],
            "rule (checked in this order)": list(attn.KIND_RULES.values()),
        },
        hide_index=True, key="attn_kinds",
    )
    st.caption(
        "Most heads of small models park their attention on the first token when they have nothing "
        "to do (an “attention sink”); the few heads that don't are the interesting ones."
    )

# 4 · Follow one token ------------------------------------------------------------------------
st.header("4 · Follow one token through the layers")
texts = [p.text for p in pieces]
preset = next((p for p in PRESETS.values() if p[0] == state.current_prompt_text()), None)
follow_word, expected = (preset[1], preset[2]) if preset else (FOLLOW_DEFAULT, ())
position_default = attn.find_token(texts, follow_word)
position = st.selectbox(  # keyed on the prompt: a new prompt starts from its own default token
    "Token to follow", list(range(shown)), index=shown - 1 if position_default is None else position_default,
    format_func=lambda i: f"{i}: {labels[i]}", key=view.prompt_key("attn_follow", ids),
)
head_choice = st.selectbox(
    "Heads", ["average of all heads", *[f"head {h}" for h in range(n_head)]], key="attn_follow_head"
)
focus = attn.follow_token(view.view_attentions(lm.name, ids), position)
chosen_head = None if head_choice.startswith("average") else int(head_choice.split()[1])
show_chart(view.follow_figure(focus, pieces, chosen_head), key="attn_follow_chart")
if position == 0:
    st.caption("The first token has nothing before it: it can only attend to itself.")
else:
    counts = focus.layer_counts({0} | ({position} if position > 1 else set()))
    st.markdown(
        f"Leaving out the first token (the attention sink) and “{labels[position]}” itself, the "
        f"earlier token it attends to most is, layer by layer (heads averaged): "
        + ", ".join(f"“{labels[i]}” in {n} of {n_layer} layers" for i, n in list(counts.items())[:3])
        + ". Circles mark the most attended token of each layer (sink included)."
    )
    found = [(word, attn.find_token(texts[:position], word)) for word in expected]
    found = [(word, i) for word, i in found if i is not None]
    if position == position_default and found:
        st.markdown(
            f"**A reader links “{labels[position]}” to "
            + " or ".join(f"“{word}”" for word, _ in found)
            + ". This model doesn't have to:** "
            + ", ".join(f"“{labels[i]}” is its most attended earlier token in {counts.get(i, 0)} of {n_layer} layers"
                        for _, i in found)
            + ". Attention weights show where information flows, not which word a pronoun means."
        )

# 5 · Scores before softmax -------------------------------------------------------------------
st.header("5 · Before the softmax: query · key scores")
# two formulas, not one line: on a 390 px phone one line clipped the mask's definition
st.latex(r"\text{weights}_i = \mathrm{softmax}_j\!\left(\frac{q_i \cdot k_j}{\sqrt{d}} \;+\; \text{mask}_{ij}\right)")
st.latex(r"\text{mask}_{ij} = \begin{cases} 0 & j \le i \\ -\infty & j > i\end{cases}")
try:
    scores = view.cached_scores(lm.name, ids, layer)
except attn.ScoresUnavailable as err:
    st.info(f"{err} The weights above come straight from the model, so they are still shown.")
else:
    st.markdown(
        f"Layer **{layer}**, head **{head}** (the sliders above). The queries and keys are recomputed "
        f"from the vector each token carries into this layer, through the layer's own weights "
        f"({scores.architecture}" + (": both are rotated by position, RoPE" if "Llama" in scores.architecture else "")
        + f"). Each has d = {scores.head_dim} numbers, so every score is q·k × 1/√{scores.head_dim} "
        f"= q·k × {scores.scale:.3f}. The softmax of these scores gives exactly the weights above."
    )
    left, right = st.columns(2)
    with left:
        show_chart(view.scores_heatmap(scores, head, pieces), key="attn_scores")
    with right:
        show_chart(
            view.attention_heatmap(scores.weights(head), pieces, "After the softmax: the weights"),
            key="attn_scores_weights",
        )
    row = st.selectbox(
        "Work through one row (query token)", list(range(shown)), index=position,
        format_func=lambda i: f"{i}: {labels[i]}", key=view.prompt_key("attn_score_row", ids),
    )
    st.dataframe(
        view.scores_row_table(scores, head, row, pieces), hide_index=True, key="attn_row_table",
        column_config={
            "q·k/√d": st.column_config.NumberColumn(format="%.3f"),
            "e^(score − max)": st.column_config.NumberColumn(format="%.4f"),
            "weight": st.column_config.ProgressColumn(format="%.3f", min_value=0.0, max_value=1.0),
        },
    )
    st.caption(
        "Each weight is its e^(score − max) divided by the row's total (subtracting the row's "
        "largest score changes nothing and avoids overflow). Future keys get −∞, so e^(−∞) = 0."
    )

next_step_link("attention")
