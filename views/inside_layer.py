"""Inside a layer — one block of a modern decoder opened up, on the live model and the learner's prompt."""

import numpy as np
import streamlit as st

from explain import encoder_decoder, layer_parts, residual, writing_attention
from ui import inside_layer as view
from ui import drawn, state
from ui.attention import VIEW_CAP, attention_heatmap, token_label
from ui.embeddings import cached_position_scheme
from ui.i18n import N_, _, format_number, format_percent
from ui.presenter import side_by_side
from ui.reveal import ChoiceGame, choose_before_reveal
from ui.walk import next_step_link

WRITE_KEY = "layer_write_request"
ROPE_TOKENS_KEY = "layer_rope_ids"  # the prompt the query/key token pickers index
ATTENTION, FEED_FORWARD = N_("the attention block"), N_("the feed-forward network")
ALL_LAYERS, ALL_HEADS = N_("average of all layers"), N_("average of all heads")


def n(value: float, digits: int = 0) -> str:
    return format_number(value, digits)


def guess_the_bigger_writer(lm, ids, writes: residual.BlockWrites) -> None:
    """Predict, then reveal: which block writes more into the stream, in most layers?"""
    game = ChoiceGame(
        toggle=_("🎯 Predict, then reveal"),
        question=_("Guess first: in most layers, which block writes the longer change into the last token's stream?"),
        button=_("Reveal the answer"),
        waiting=_("Make your guess first. The chart and the rest of the page stay hidden until you press Reveal."),
    )
    choice = choose_before_reveal("layer", (lm.name, ids), game, [ATTENTION, FEED_FORWARD], format_func=_)
    if choice is None:
        return
    n_ffn = int((writes.ffn_norm > writes.attn_norm).sum())
    n_layer = len(writes.ffn_norm)
    answer = FEED_FORWARD if n_ffn * 2 > n_layer else ATTENTION
    values = dict(answer=_(answer), ffn=n_ffn, layers=n_layer, attn=n_layer - n_ffn)
    if n_ffn * 2 == n_layer:
        st.info(_("A tie: on your prompt the feed-forward network writes the longer vector in **{ffn} of "
                  "{layers}** layers, attention in the other **{attn}**.").format(**values))
    elif choice == answer:
        st.success(_("Right: {answer}. On your prompt the feed-forward network writes the longer vector in "
                     "**{ffn} of {layers}** layers, attention in **{attn}**.").format(**values))
    else:
        st.warning(_("Not this time: it is {answer}. On your prompt the feed-forward network writes the longer "
                     "vector in **{ffn} of {layers}** layers, attention in **{attn}**.").format(**values))


def section_stream(lm, ids, pieces) -> residual.ResidualTrace:
    st.header(_("1 · The residual stream, one layer at a time"))
    trace = view.cached_trace(lm, ids)
    writes = residual.block_writes(trace)
    readout = view.cached_readout(lm, ids)
    st.markdown(_(
        "Follow the vector of the last token, {last}, through all **{layers} layers**. It starts as the "
        "token's embedding; then each layer does two things: **norm → attention → add** the result back, "
        "and **norm → feed-forward → add** it back. The vector that flows through and gets added to is "
        "the **residual stream**; each block only writes a change into it."
    ).format(last=view.quoted(pieces[-1]), layers=trace.n_layer))
    guess_the_bigger_writer(lm, ids, writes)
    top_attn, top_ffn = int(writes.attn_norm.argmax()), int(writes.ffn_norm.argmax())
    view.described_chart(lambda: view.writes_figure(writes), "layer_writes", _(
        "Measured on your prompt: the stream grows from length **{start}** (the embedding) to **{end}** "
        "before the final norm. The largest attention write is in layer **{attn_layer}** (length "
        "{attn}), the largest feed-forward write in layer **{ffn_layer}** ({ffn}). Feed-forward blocks "
        "write more than attention in **{count} of {layers}** layers."
    ).format(start=n(writes.stream_norm[0], 1), end=n(writes.stream_norm[-1], 1), attn_layer=top_attn,
             attn=n(writes.attn_norm[top_attn], 1), ffn_layer=top_ffn, ffn=n(writes.ffn_norm[top_ffn], 1),
             count=int((writes.ffn_norm > writes.attn_norm).sum()), layers=trace.n_layer),
        lambda: view.writes_rows(writes), title=_("What each block writes into the stream"), inputs=(lm.name, ids))
    view.described_chart(lambda: view.cosine_figure(writes), "layer_cosines", _(
        "Cosine of each write with the stream it was added to: near 0, the block adds something new "
        "(a new direction); positive, it strengthens what is there; negative, it erases part of it. "
        "Mean over layers: attention {attn}, feed-forward {ffn}."
    ).format(attn=view.signed(writes.attn_cosine.mean()), ffn=view.signed(writes.ffn_cosine.mean())),
        lambda: view.cosine_rows(writes), title=_("Does a write point along the stream?"), inputs=(lm.name, ids))
    changes = readout.changes()
    steps = view.readout_steps(trace.n_layer)
    st.markdown(_(
        "**What the stream “says”** after each half-layer: the final norm and the output head applied "
        "to it, as if the model stopped there. The top guess changes **{count} times**; the last change "
        "is after **{step}**, to {token} ({prob}), the model's answer."
    ).format(count=len(changes), step=steps[changes[-1]] if changes else _("the embedding"),
             token=view.quoted(readout.top_pieces[-1][0]), prob=format_percent(readout.top_probs[-1][0])))
    with st.expander(_("Table: every half-layer's top 3 guesses")):
        st.table(drawn.shared_table(("inside_layer", "readout", lm.name, ids), lambda: view.readout_rows(readout, steps)),
                 hide_index=True)  # wraps on a phone, never cuts a column
    st.page_link("views/softmax.py", label=_("The same idea per layer, with a chart: the logit lens on the Softmax page →"), icon="🌡️")
    return trace


@st.fragment
def section_norm(lm, ids, trace: residual.ResidualTrace) -> None:
    st.header(_("2 · The norm before each block"))
    explanation = st.container()  # filled below the slider's value: the slider sits right above its charts
    step_layer = st.slider(_("Layer (norm)"), 0, trace.n_layer - 1, 0, key="layer_norm_layer", bind="query-params")
    step = layer_parts.apply_norm(layer_parts.norm_module(lm, step_layer), trace.stream_entering(step_layer))
    with explanation:
        explain_norm(lm, step, step_layer)
    inputs = (lm.name, ids, step_layer)
    view.show_titled(lambda: view.norm_figure(step), "layer_norm_chart",
                     _("Before and after the norm, layer {layer}").format(layer=step_layer), inputs=inputs)
    biggest = step.largest_after(5)
    view.described_chart(lambda: view.gain_figure(step), "layer_gain_chart", _("Largest after the norm: {dimensions}.").format(
        dimensions="; ".join(_("dimension {dim}: {before} → {after} (gain {gain})").format(
            dim=k, before=n(step.before[k], 2), after=n(step.after[k], 2), gain=n(step.gain[k], 2)) for k in biggest)),
        lambda: view.norm_rows(step), title=_("The learned gain, layer {layer}").format(layer=step_layer),
        table_label=_("Show both charts as a table"), inputs=inputs)


def explain_norm(lm, step: layer_parts.NormStep, step_layer: int) -> None:
    """The norm's formula and what it did to this layer's input, in numbers."""
    if step.kind == "RMSNorm":
        st.latex(r"\mathrm{RMSNorm}(x) = g \odot \frac{x}{\sqrt{\tfrac{1}{d}\sum_k x_k^2 + \varepsilon}}")
        how = _("divides every number by the root-mean-square of the vector, **{divisor}**, then multiplies "
                "dimension by dimension by a learned gain g. Unlike **LayerNorm** (GPT-2, BERT), it does not "
                "subtract the mean first and has no bias: less work, and it trains as well.").format(
            divisor=n(step.divisor, 3))
    else:
        st.latex(r"\mathrm{LayerNorm}(x) = g \odot \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}} + b")
        how = _("subtracts the vector's mean (**{mean}**), divides by its standard deviation (**{divisor}**), "
                "then applies a learned gain g and bias b. Modern decoders use RMSNorm instead: no mean "
                "subtraction and no bias.").format(mean=n(step.mean, 3), divisor=n(step.divisor, 3))
    st.markdown(_(
        "The last token's stream entering layer **{layer}** goes through {model}'s **{kind}**, which {how} "
        "Before: values from {before_min} to {before_max} (length {before_len}); after: {after_min} to "
        "{after_max} (length {after_len}). The gain ranges from {gain_min} to {gain_max} (median {gain_median})."
    ).format(layer=step_layer, model=lm.name, kind=step.kind, how=how, before_min=n(step.before.min(), 2),
             before_max=n(step.before.max(), 2), before_len=n(np.linalg.norm(step.before), 1),
             after_min=n(step.after.min(), 2), after_max=n(step.after.max(), 2),
             after_len=n(np.linalg.norm(step.after), 1), gain_min=n(step.gain.min(), 2),
             gain_max=n(step.gain.max(), 2), gain_median=n(np.median(step.gain), 2)))


@st.fragment
def section_gqa(lm, analysis, pieces) -> None:
    st.header(_("3 · Grouped-query attention: query heads share keys and values"))
    layout = view.cached_layout(lm)
    mib = 1024 * 1024
    context = lm.config.max_position_embeddings
    if layout.n_kv_head == layout.n_head:
        st.markdown(_(
            "{model} gives each of its **{heads} query heads its own key and value** (classic multi-head "
            "attention, no grouping): while writing, it keeps {numbers} numbers per token in its key/value "
            "cache. Modern models such as SmolLM2 let several query heads share one key/value head to "
            "shrink that cache."
        ).format(model=lm.name, heads=layout.n_head, numbers=n(layout.kv_numbers_per_token)))
        return
    st.markdown(_(
        "Each layer of {model} has **{heads} query heads** but only **{kv_heads} key/value heads**: every "
        "{group} query heads read the same keys and values (from the config's `num_key_value_heads`, and "
        "the key projection has {kv_heads} × {head_dim} rows). While generating, the model keeps every "
        "earlier token's keys and values (the **KV cache**); sharing makes it **{times}× smaller**: "
        "{numbers} numbers per token instead of {numbers_all} (2 × {layers} layers × {kv_heads} heads × "
        "{head_dim}); for a full {context}-token context in fp32, {mib} MiB instead of {mib_all} MiB."
    ).format(model=lm.name, heads=layout.n_head, kv_heads=layout.n_kv_head, group=layout.group_size,
             head_dim=layout.head_dim, times=layout.kv_numbers_one_per_head // layout.kv_numbers_per_token,
             numbers=n(layout.kv_numbers_per_token), numbers_all=n(layout.kv_numbers_one_per_head),
             layers=layout.n_layer, context=n(context), mib=n(layout.cache_bytes(context) / mib),
             mib_all=n(layout.cache_bytes(context, one_per_head=True) / mib)))
    cols = st.columns(2)
    layer = cols[0].slider(_("Layer (grouped-query attention)"), 0, layout.n_layer - 1, 3, key="layer_gqa_layer", bind="query-params")
    kv = cols[1].radio(_("Key/value head"), list(range(layout.n_kv_head)), horizontal=True, key="layer_gqa_kv",
                       bind="query-params", format_func=lambda g: f"K/V{g}")
    view.described_chart(lambda: view.gqa_figure(layout, kv), "layer_gqa_drawing", _(
        "Key/value head {kv} is read by query heads {heads}.").format(
        kv=kv, heads=", ".join(map(str, layout.queries_of(kv)))), lambda: view.gqa_rows(layout),
        title=_("Which query heads share key/value head {kv}").format(kv=kv), inputs=(lm.name, kv))
    shared = layer_parts.shared_key_heads(analysis.attentions, layout, layer, kv)
    shown = min(len(pieces), VIEW_CAP)
    columns = side_by_side(len(shared.heads))  # one under another on a projector, each map at full width
    for col, head, pattern in zip(columns, shared.heads, shared.patterns):
        with col:
            title = _("Layer {layer}, query head {head}").format(layer=layer, head=head)
            view.show_titled(lambda: attention_heatmap(pattern[:shown, :shown], pieces, title), f"layer_gqa_head_{head}",
                             title, inputs=(lm.name, tuple(p.id for p in pieces), layer, kv, head))
    pairs = [(a, b) for a in range(len(shared.heads)) for b in range(a + 1, len(shared.heads))]
    st.markdown(_(
        "Layer {layer}: query heads {heads} all read key/value head {kv}, yet their patterns differ, "
        "because each asks its own question (its own query). Mean difference of their rows (total "
        "variation: 0 = identical, 1 = no overlap): {distances}. The last token looks most at: {looks}."
    ).format(layer=layer, heads=", ".join(map(str, shared.heads)), kv=kv,
             distances="; ".join(_("heads {a} and {b} {distance}").format(
                 a=shared.heads[a], b=shared.heads[b], distance=n(shared.distance[a, b], 2)) for a, b in pairs),
             looks="; ".join(_("head {head} → {token}").format(head=h, token=view.quoted(pieces[k]))
                             for h, k in zip(shared.heads, shared.top_key_of_last))))
    with st.expander(_("Show the three heads as a table")):
        st.table(drawn.shared_table(("inside_layer", "gqa_heads", lm.name, tuple(p.id for p in pieces), layer, kv),
                                    lambda: view.shared_heads_rows(shared, pieces[:shown])), hide_index=True)


def forget_stale_token_picks(ids) -> None:
    """A new prompt resets the query/key token pickers (their numbers index the old prompt)."""
    if st.session_state.get(ROPE_TOKENS_KEY, ids) != ids:
        for key in ("layer_rope_i", "layer_rope_j"):
            st.session_state.pop(key, None)
    st.session_state[ROPE_TOKENS_KEY] = ids


@st.fragment
def section_rope(lm, analysis, pieces, scheme) -> None:
    st.header(_("4 · Rotary positions (RoPE), live"))
    if scheme.kind != "rotary":
        st.info(_("{statement} So there is no rotation to show here: the position is in the vector itself.").format(
            statement=scheme.statement))
        st.page_link("views/embeddings.py", label=_("Position vectors on the Embeddings page →"), icon="🧭")
        return
    T = len(pieces)
    forget_stale_token_picks(tuple(p.id for p in pieces))
    layout = view.cached_layout(lm)
    cols = st.columns(4)
    layer = cols[0].slider(_("Layer (RoPE)"), 0, layout.n_layer - 1, 6, key="layer_rope_layer", bind="query-params")
    head = cols[1].slider(_("Query head"), 0, layout.n_head - 1, 0, key="layer_rope_head", bind="query-params")
    i = cols[2].selectbox(_("Query token i"), list(range(T)), index=T - 1, key="layer_rope_i",
                          format_func=lambda p: f"{p}: {token_label(pieces[p])}")
    j = cols[3].selectbox(_("Key token j"), list(range(i + 1)), index=max(0, i - 1), key="layer_rope_j",
                          format_func=lambda p: f"{p}: {token_label(pieces[p])}")
    demo = view.cached_rope(lm, tuple(p.id for p in pieces), layer, head, i, j)
    st.markdown(_(
        "Query of {query} (position {i}, head {head}) and key of {key} (position {j}, key/value head "
        "{kv}), layer {layer}, taken **before** rotation. RoPE cuts each vector of {dim} numbers into "
        "{pairs} pairs and turns pair p by position × θ^(−2p/{dim}) radians, θ = {theta}. Early pairs "
        "spin fast (they sense nearby order), late pairs slowly (far distances)."
    ).format(query=view.quoted(pieces[i]), i=i, head=head, key=view.quoted(pieces[j]), j=j, kv=demo.kv_head,
             layer=layer, dim=demo.head_dim, pairs=demo.head_dim // 2, theta=n(demo.theta)))
    pair = st.slider(_("Pair of numbers to watch (p and p + d/2)"), 0, demo.head_dim // 2 - 1, 6,
                     key="layer_rope_pair", bind="query-params")
    st.markdown(_("Pair {pair} turns **{radians} rad ({degrees}°) per position**.").format(
        pair=pair, radians=n(demo.radians_per_position(pair), 4), degrees=n(np.degrees(demo.radians_per_position(pair)), 2)))
    left, right = st.columns(2)
    with left:
        view.described_chart(lambda: view.pair_figure(demo, pair, np.arange(max(i, j) + 21)), "layer_rope_pair_chart", _(
            "Pair {pair} of the query (dots: the same numbers turned to each position; a solid arrow at "
            "position {i}) and of the key (a dashed arrow, at position {j}). Their angle is {angle}°: the "
            "angle they start with plus (i − j) × {degrees}°. Move both tokens along and both arrows turn "
            "together, so the angle — and this pair's part of q·k — stays."
        ).format(pair=pair, i=i, j=j, angle=view.signed(demo.pair_angle_deg(pair), 1),
                 degrees=n(np.degrees(demo.radians_per_position(pair)), 2)),
            lambda: view.pair_rows(demo, pair, np.arange(max(i, j) + 21)), title=_("Pair {pair}, turned by position").format(pair=pair),
            inputs=(lm.name, ids, layer, head, i, j, pair))
    with right:
        spread_both = float(np.ptp(demo.score_both_moved))
        spread_one = float(np.ptp(demo.score_query_moved))
        view.described_chart(lambda: view.rope_score_figure(demo), "layer_rope_scores", _(
            "**Score q·k/√d = {score}** at positions ({i}, {j}) — the score the model itself computes "
            "there. Placing the same two vectors at ({i} + s, {j} + s) for s up to {max_shift}: the score "
            "varies by only **{spread_both}** (float rounding): it depends only on the distance i − j = "
            "{distance}. Moving the query alone changes it by up to **{spread_one}**."
        ).format(score=n(demo.score_both_moved[0], 4), i=i, j=j, max_shift=demo.shifts[-1],
                 spread_both=f"{spread_both:.1e}", distance=i - j, spread_one=n(spread_one, 2)),
            lambda: view.rope_score_rows(demo), title=_("The score when the tokens move"), inputs=(lm.name, ids, layer, head, i, j))
    st.markdown(_("The original transformer instead *added* sine waves to the embeddings (see the Embeddings "
                  "page), and GPT-2 adds learned position vectors: there, moving both tokens changes their score."))
    st.page_link("views/embeddings.py", label=_("Sinusoidal and learned positions on the Embeddings page →"), icon="🧭")


@st.fragment
def section_ffn(lm, ids, trace: residual.ResidualTrace, last_piece) -> None:
    st.header(_("5 · The feed-forward network"))
    explanation = st.container()  # filled below the slider's value: the slider sits right above its chart
    layer = st.slider(_("Layer (feed-forward)"), 0, trace.n_layer - 1, trace.n_layer // 2, key="layer_ffn_layer", bind="query-params")
    units = layer_parts.feed_forward_units(lm, trace, layer, top_n=10)
    with explanation:
        explain_ffn(lm, units, layer, last_piece)
    view.described_chart(lambda: view.units_figure(units), "layer_ffn_units", _(
        "The strongest unit, {unit}, has the value {value}; {positive} of these {count} are positive."
    ).format(unit=units.units[0], value=view.signed(units.value[0], 3),
             positive=int((np.asarray(units.value) > 0).sum()), count=len(units.units)),
        lambda: view.units_rows(units), title=_("The strongest feed-forward units, layer {layer}").format(layer=layer),
        inputs=(lm.name, ids, layer))


def explain_ffn(lm, units: layer_parts.FeedForwardUnits, layer: int, last_piece) -> None:
    """The feed-forward's formula, its share of the parameters and what the chart below shows."""
    shares = view.cached_parameter_shares(lm)
    if units.kind == "SwiGLU":
        st.latex(r"\mathrm{FFN}(x) = W_\text{down}\,\big(\mathrm{silu}(W_\text{gate}\,x) \odot W_\text{up}\,x\big)")
        how = _("**SwiGLU**: {d} → {d_ff} twice (a *gate* and an *up* projection), the gate's silu multiplied by "
                "up, unit by unit, then {d_ff} → {d} (*down*).").format(d=units.d_model, d_ff=n(units.d_ff))
    else:
        st.latex(r"\mathrm{FFN}(x) = W_\text{down}\,\mathrm{gelu}(W_\text{up}\,x)")
        how = _("a plain **GELU** feed-forward: {d} → {d_ff} (*up*), GELU, then {d_ff} → {d} (*down*); SwiGLU "
                "models add a second, gating projection.").format(d=units.d_model, d_ff=n(units.d_ff))
    st.markdown(_(
        "In {model} the feed-forward is {how} It holds **{share}** of the parameters outside the embeddings "
        "({ffn} of {total}; attention {attention}, norms {norms}). Each hidden unit is like a detector: the "
        "strongest ones for {token} in layer {layer} below — these {count} of {d_ff} carry {magnitude} of "
        "the total |value|."
    ).format(model=lm.name, how=how, share=format_percent(shares.feed_forward_share, 0), ffn=n(shares.feed_forward),
             total=n(shares.non_embedding), attention=n(shares.attention), norms=n(shares.norms),
             token=view.quoted(last_piece), layer=layer, count=len(units.units), d_ff=n(units.d_ff),
             magnitude=format_percent(units.share_of_magnitude, 0)))


@st.fragment
def section_encoder(lm, analysis, prompt) -> None:
    st.header(_("6 · Encoder vs decoder, on the same sentence"))
    try:
        encoder = view.cached_encoder_attention(prompt.text)
    except encoder_decoder.EncoderUnavailable:
        st.info(_("The encoder {name} is not installed: {hint}").format(
            name=encoder_decoder.ENCODER_NAME, hint=encoder_decoder.ENCODER_INSTALL_HINT))
        return
    shown = min(len(prompt.pieces), VIEW_CAP)
    decoder_map = analysis.attentions[:, :, :shown, :shown].mean(axis=(0, 1))
    encoder_map = encoder.attentions.mean(axis=(0, 1))
    st.markdown(_(
        "An **encoder** ({encoder}, a small BERT: {layers} layers × {heads} heads) lets every token look "
        "**both ways**; a **decoder** like {model} only looks **back** (the causal mask), because it writes "
        "one token at a time. Measured on your prompt: the encoder's tokens give **{encoder_future}** of "
        "their attention to *later* tokens, the decoder's **{decoder_future}**. They also cut the text "
        "differently: WordPiece ({vocab} pieces, lower-cased, `##` marks a word's continuation) gives "
        "{pieces} pieces plus [CLS] and [SEP]; byte-level BPE gives {bpe}."
    ).format(encoder=encoder_decoder.ENCODER_NAME, layers=encoder.attentions.shape[0],
             heads=encoder.attentions.shape[1], model=lm.name,
             encoder_future=format_percent(encoder_decoder.future_weight(encoder.attentions), 0),
             decoder_future=format_percent(encoder_decoder.future_weight(analysis.attentions), 0),
             vocab=n(encoder.vocab_size), pieces=len(encoder.tokens) - 2, bpe=len(prompt.pieces)))
    if encoder.truncated:
        st.caption(_("The encoder reads the first {count} pieces only.").format(count=encoder_decoder.ENCODER_TOKEN_CAP))
    decoder_labels = [token_label(p) for p in prompt.pieces[:shown]]
    maps = (
        (encoder_map, encoder.tokens, "layer_encoder_map", _("Encoder: all {count} heads averaged").format(
            count=encoder.attentions.shape[0] * encoder.attentions.shape[1])),
        (decoder_map, decoder_labels, "layer_decoder_map", _("Decoder: all {count} heads averaged").format(
            count=analysis.n_layer * analysis.n_head)),
    )
    for column, (weights, labels, key, title) in zip(st.columns(2), maps):
        with column:
            view.described_chart(lambda: view.mean_map_figure(weights, labels, title), key, view.map_summary(weights, labels),
                                 lambda: view.map_rows(weights, labels), title=title, inputs=(lm.name, tuple(prompt.ids), prompt.text))
    families = (  # a list, not a table: four columns would scroll sideways on a phone
        (_("encoder-only"), _("the whole text, both ways"), _("understanding: search, embeddings, classification"),
         _("BERT, all-MiniLM-L6-v2 (the first map)")),
        (_("decoder-only"), _("only earlier tokens"), _("writing: chat, completion, code"),
         _("GPT, Llama, {model} (the second map)").format(model=lm.name)),
        (_("encoder-decoder"), _("the encoder reads both ways; the decoder writes, looking back and at the encoder"),
         _("turning one text into another: translation, summaries"), _("T5, BART (named here, not run)")),
    )
    st.markdown("\n".join(_("- **{family}** · sees: {sees} · good for: {good} · examples: {examples}").format(
        family=family, sees=sees, good=good, examples=examples) for family, sees, good, examples in families))


def layer_and_head_pickers(analysis) -> tuple[int | None, int | None]:
    """Section 7's layer and head pickers (None: the average of all)."""
    cols = st.columns(2)
    layer = cols[0].selectbox(_("Layer"), [ALL_LAYERS, *range(analysis.n_layer)], key="layer_write_layer",
                              format_func=lambda v: _(v) if isinstance(v, str) else str(v))
    head = cols[1].selectbox(_("Head"), [ALL_HEADS, *range(analysis.n_head)], key="layer_write_head",
                             format_func=lambda v: _(v) if isinstance(v, str) else str(v))
    return (None if isinstance(layer, str) else layer), (None if isinstance(head, str) else head)


@st.fragment
def section_writing(lm, ids, pieces, analysis) -> None:
    st.header(_("7 · Attention while it writes"))
    total = analysis.n_layer * analysis.n_head
    sinks = writing_attention.sink_heads(analysis.attentions[:, :, -1, :])
    one_token = len(ids) == 1
    st.markdown((_(
        "As the model writes, each new token is chosen at the position just before it; that position's "
        "attention row shows where the model looks while choosing. A warning first: the **attention sink**. "
        "On your prompt, **{sinks} of {total} heads** put their largest weight on the first token, {first}, "
        "when reading the last one (your prompt is one token, so there is nothing else to look at yet). "
        "Heads that have nothing to look for park their weight there; it does not mean the first token "
        "matters most.") if one_token else _(
        "As the model writes, each new token is chosen at the position just before it; that position's "
        "attention row shows where the model looks while choosing. A warning first: the **attention sink**. "
        "On your prompt, **{sinks} of {total} heads** put their largest weight on the first token, {first}, "
        "when reading the last one. Heads that have nothing to look for park their weight there; it does "
        "not mean the first token matters most.")).format(sinks=sinks, total=total, first=view.quoted(pieces[0])))
    cols = st.columns([1, 2])
    n_new = cols[0].number_input(_("Tokens to write"), 2, 24, 10, key="layer_write_n", bind="query-params")
    if cols[1].button(_("✍️ Write greedily and record attention"), key="layer_write_go"):
        st.session_state[WRITE_KEY] = (lm.name, ids, int(n_new))
    if st.session_state.get(WRITE_KEY) != (lm.name, ids, int(n_new)):
        st.caption(_("Press the button: the model writes the tokens (the most likely one each time) and every step's attention is kept."))
        return
    with st.spinner(_("Writing…")):
        written = view.cached_writing(lm, ids, int(n_new))
    all_pieces = pieces + written.new_pieces
    step = st.select_slider(_("Step"), list(range(written.n_steps)), key="layer_write_step",
                            format_func=lambda s: f"{s + 1}: {token_label(written.new_pieces[s])}")
    layer, head = layer_and_head_pickers(analysis)
    row = written.row(step, layer, head)
    order = written.top_keys(step, layer, head)
    before = all_pieces[len(ids) + step - 1]
    step_sinks = writing_attention.sink_heads(written.rows[step, :, :, : len(ids) + step])
    summary = _(
        "Writing token {number}, {token} (probability {prob}), from position {position} ({before}): {share} "
        "of the weight goes to the prompt. Most looked at: {looked}. {sinks} of {total} heads have their "
        "maximum on the first token at this step."
    ).format(number=step + 1, token=view.quoted(written.new_pieces[step]), prob=format_percent(written.probs[step], 0),
             position=len(ids) + step - 1, before=view.quoted(before),
             share=format_percent(written.prompt_share(step, layer, head), 0),
             looked="; ".join(_("{token} (position {position}) {weight}").format(
                 token=view.quoted(all_pieces[k]), position=k, weight=n(row[k], 2)) for k in order),
             sinks=step_sinks, total=total)
    view.described_chart(lambda: view.writing_figure(written, all_pieces, layer, head, step), "layer_write_map", summary,
                         lambda: view.writing_rows(row, all_pieces, len(ids)), title=_("Attention while it writes"),
                         table_label=_("Table: this step's attention row"), inputs=(lm.name, ids, int(n_new), layer, head, step))
    if written.stopped_at_end_token:
        st.caption(_("It stopped after {count} tokens: it chose its end-of-text token.").format(count=written.n_steps))
    st.caption(_("Each row: one token being written; the shade in each column: how much it looks at that earlier "
                 "token (rows add up to 1). A line marks the chosen step, a dashed line the end of the prompt."))


st.title(_("🔬 Inside a layer: the parts of a modern decoder"))
lm, prompt, ids, analysis = state.page_analysis()
anatomy = view.cached_anatomy(lm)
st.markdown(_(
    "The other pages show what goes in and what comes out. Here one layer of {model} is opened up: a "
    "{architecture} with {layers} identical layers, each a norm, attention, another norm and a "
    "feed-forward network, all adding into one stream of numbers per token. Every number below is "
    "measured on your prompt (edit it in the Prompt box); the controls of a section rerun only that section."
).format(model=lm.name, architecture=anatomy.architecture, layers=anatomy.n_layer))
pieces = prompt.pieces
trace = section_stream(lm, ids, pieces)
section_norm(lm, ids, trace)
section_gqa(lm, analysis, pieces)
section_rope(lm, analysis, pieces, cached_position_scheme(lm))
section_ffn(lm, ids, trace, pieces[-1])
section_encoder(lm, analysis, prompt)
section_writing(lm, ids, pieces, analysis)
st.info(_(
    "**Misconception:** “a head that attends to the first token finds it important.” Many heads park "
    "their weight on the first token when they have nothing to do (the attention sink, section 7)."
))

next_step_link("inside_layer")
