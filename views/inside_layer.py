"""Inside a layer — one block of a modern decoder opened up, on the live model and the learner's prompt."""

import numpy as np
import streamlit as st

from explain import encoder_decoder, layer_parts, residual, writing_attention
from explain.anatomy import model_anatomy
from ui import inside_layer as view
from ui import state
from ui.attention import VIEW_CAP, attention_heatmap, token_label
from ui.embeddings import cached_position_scheme
from ui.presenter import show_chart
from ui.walk import next_step_link

WRITE_KEY = "layer_write_request"


def section_stream(lm, ids, pieces) -> residual.ResidualTrace:
    st.header("1 · The residual stream, one layer at a time")
    trace = view.cached_trace(lm.name, ids)
    writes = residual.block_writes(trace)
    readout = view.cached_readout(lm.name, ids)
    last = view.quoted(pieces[-1])
    st.markdown(
        f"Follow the vector of the last token, {last}, through all **{trace.n_layer} layers**. It starts "
        "as the token's embedding; then each layer does two things: **norm → attention → add** the "
        "result back, and **norm → feed-forward → add** it back. The vector that flows through and gets "
        "added to is the **residual stream**; each block only writes a change into it."
    )
    show_chart(view.writes_figure(writes), key="layer_writes")
    top_attn, top_ffn = int(writes.attn_norm.argmax()), int(writes.ffn_norm.argmax())
    st.markdown(
        f"Measured on your prompt: the stream grows from length **{writes.stream_norm[0]:.1f}** (the "
        f"embedding) to **{writes.stream_norm[-1]:.1f}** before the final norm. The largest attention write "
        f"is in layer **{top_attn}** (length {writes.attn_norm[top_attn]:.1f}), the largest feed-forward "
        f"write in layer **{top_ffn}** ({writes.ffn_norm[top_ffn]:.1f}). Feed-forward blocks write more "
        f"than attention in **{int((writes.ffn_norm > writes.attn_norm).sum())} of {trace.n_layer}** layers."
    )
    show_chart(view.cosine_figure(writes), key="layer_cosines")
    st.caption(
        "Cosine of each write with the stream it was added to: near 0, the block adds something new "
        "(a new direction); positive, it strengthens what is there; negative, it erases part of it. "
        f"Mean over layers: attention {writes.attn_cosine.mean():+.2f}, feed-forward {writes.ffn_cosine.mean():+.2f}."
    )
    changes = readout.changes()
    st.markdown(
        "**What the stream “says”** after each half-layer: the final norm and the output head applied "
        f"to it, as if the model stopped there. The top guess changes **{len(changes)} times**; the last "
        f"change is after **{readout.steps[changes[-1]] if changes else 'the embedding'}**, to "
        f"{view.quoted(readout.top_pieces[-1][0])} ({readout.top_probs[-1][0]:.1%}), the model's answer."
    )
    with st.expander("Table: every half-layer's top 3 guesses and the sizes of the writes"):
        st.dataframe(
            {
                "after": readout.steps,
                **{f"guess {k + 1}": [f"'{token_label(p[k])}' {q[k]:.1%}" for p, q in zip(readout.top_pieces, readout.top_probs)]
                   for k in range(len(readout.top_pieces[0]))},
                "write length": [None] + [float(v) for pair in zip(writes.attn_norm, writes.ffn_norm) for v in pair],
            },
            hide_index=True, key="layer_readout",
        )
    st.page_link("views/softmax.py", label="The same idea per layer, with a chart: the logit lens on the Softmax page →", icon="🌡️")
    return trace


@st.fragment
def section_norm(lm, trace: residual.ResidualTrace) -> None:
    st.header("2 · The norm before each block")
    layer = st.slider("Layer", 0, trace.n_layer - 1, 0, key="layer_norm_layer")
    step = layer_parts.apply_norm(layer_parts.norm_module(lm, layer), trace.stream_entering(layer))
    if step.kind == "RMSNorm":
        st.latex(r"\mathrm{RMSNorm}(x) = g \odot \frac{x}{\sqrt{\tfrac{1}{d}\sum_k x_k^2 + \varepsilon}}")
        how = (f"divides every number by the root-mean-square of the vector, **{step.divisor:.3f}**, then "
               "multiplies dimension by dimension by a learned gain g. Unlike **LayerNorm** (GPT-2, BERT), it "
               "does not subtract the mean first and has no bias: less work, and it trains as well.")
    else:
        st.latex(r"\mathrm{LayerNorm}(x) = g \odot \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}} + b")
        how = (f"subtracts the vector's mean (**{step.mean:.3f}**), divides by its standard deviation "
               f"(**{step.divisor:.3f}**), then applies a learned gain g and bias b. Modern decoders use "
               "RMSNorm instead: no mean subtraction and no bias.")
    st.markdown(
        f"The last token's stream entering layer **{layer}** goes through {lm.name}'s **{step.kind}**, which {how} "
        f"Before: values from {step.before.min():.2f} to {step.before.max():.2f} (length "
        f"{np.linalg.norm(step.before):.1f}); after: {step.after.min():.2f} to {step.after.max():.2f} "
        f"(length {np.linalg.norm(step.after):.1f}). The gain ranges from {step.gain.min():.2f} to "
        f"{step.gain.max():.2f} (median {np.median(step.gain):.2f})."
    )
    show_chart(view.norm_figure(step), key="layer_norm_chart")
    show_chart(view.gain_figure(step), key="layer_gain_chart")
    biggest = step.largest_after(5)
    st.caption("Largest after the norm: " + "; ".join(
        f"dimension {k}: {step.before[k]:.2f} → {step.after[k]:.2f} (gain {step.gain[k]:.2f})" for k in biggest) + ".")


@st.fragment
def section_gqa(lm, analysis, pieces) -> None:
    st.header("3 · Grouped-query attention: query heads share keys and values")
    layout = layer_parts.grouped_query_layout(lm)
    mib = 1024 * 1024
    context = lm.config.max_position_embeddings
    if layout.n_kv_head == layout.n_head:
        st.markdown(
            f"{lm.name} gives each of its **{layout.n_head} query heads its own key and value** (classic "
            f"multi-head attention, no grouping): while writing, it keeps {layout.kv_numbers_per_token:,} "
            "numbers per token in its key/value cache. Modern models such as SmolLM2 let several query "
            "heads share one key/value head to shrink that cache."
        )
        return
    st.markdown(
        f"Each layer of {lm.name} has **{layout.n_head} query heads** but only **{layout.n_kv_head} key/value "
        f"heads**: every {layout.group_size} query heads read the same keys and values (from the config's "
        f"`num_key_value_heads`, and the key projection has {layout.n_kv_head} × {layout.head_dim} rows). "
        "While generating, the model keeps every earlier token's keys and values (the **KV cache**); sharing "
        f"makes it **{layout.kv_numbers_one_per_head // layout.kv_numbers_per_token}× smaller**: "
        f"{layout.kv_numbers_per_token:,} numbers per token instead of {layout.kv_numbers_one_per_head:,} "
        f"(2 × {layout.n_layer} layers × {layout.n_kv_head} heads × {layout.head_dim}); for a full "
        f"{context:,}-token context in fp32, {layout.cache_bytes(context) / mib:,.0f} MiB instead of "
        f"{layout.cache_bytes(context, one_per_head=True) / mib:,.0f} MiB."
    )
    cols = st.columns(2)
    layer = cols[0].slider("Layer", 0, layout.n_layer - 1, 3, key="layer_gqa_layer")
    kv = cols[1].radio("Key/value head", list(range(layout.n_kv_head)), horizontal=True, key="layer_gqa_kv",
                       format_func=lambda g: f"K/V{g}")
    show_chart(view.gqa_figure(layout, kv), key="layer_gqa_drawing")
    shared = layer_parts.shared_key_heads(analysis.attentions, layout, layer, kv)
    shown = min(len(pieces), VIEW_CAP)
    columns = st.columns(len(shared.heads))
    for col, head, pattern in zip(columns, shared.heads, shared.patterns):
        with col:
            show_chart(attention_heatmap(pattern[:shown, :shown], pieces, f"Query head {head}"), key=f"layer_gqa_head_{head}")
    pairs = [(a, b) for a in range(len(shared.heads)) for b in range(a + 1, len(shared.heads))]
    st.markdown(
        f"Layer {layer}: query heads {', '.join(map(str, shared.heads))} all read key/value head {kv}, yet "
        "their patterns differ, because each asks its own question (its own query). Mean difference of "
        "their rows (total variation: 0 = identical, 1 = no overlap): "
        + "; ".join(f"heads {shared.heads[a]} and {shared.heads[b]} {shared.distance[a, b]:.2f}" for a, b in pairs)
        + ". The last token looks most at: "
        + "; ".join(f"head {h} → {view.quoted(pieces[k])}" for h, k in zip(shared.heads, shared.top_key_of_last)) + "."
    )


@st.fragment
def section_rope(lm, analysis, pieces, scheme) -> None:
    st.header("4 · Rotary positions (RoPE), live")
    if scheme.kind != "rotary":
        st.info(f"{scheme.statement} So there is no rotation to show here: the position is in the vector itself.")
        st.page_link("views/embeddings.py", label="Position vectors on the Embeddings page →", icon="🧭")
        return
    T = len(pieces)
    layout = layer_parts.grouped_query_layout(lm)
    cols = st.columns(4)
    layer = cols[0].slider("Layer", 0, layout.n_layer - 1, 6, key="layer_rope_layer")
    head = cols[1].slider("Query head", 0, layout.n_head - 1, 0, key="layer_rope_head")
    i = cols[2].selectbox("Query token i", list(range(T)), index=T - 1, key="layer_rope_i",
                          format_func=lambda p: f"{p}: {token_label(pieces[p])}")
    j = cols[3].selectbox("Key token j", list(range(i + 1)), index=max(0, i - 1), key="layer_rope_j",
                          format_func=lambda p: f"{p}: {token_label(pieces[p])}")
    demo = view.cached_rope(lm.name, tuple(p.id for p in pieces), layer, head, i, j)
    pair = st.slider("Pair of numbers to watch (p and p + d/2)", 0, demo.head_dim // 2 - 1, 6, key="layer_rope_pair")
    st.markdown(
        f"Query of {view.quoted(pieces[i])} (position {i}, head {head}) and key of {view.quoted(pieces[j])} "
        f"(position {j}, key/value head {demo.kv_head}), layer {layer}, taken **before** rotation. RoPE cuts "
        f"each vector of {demo.head_dim} numbers into {demo.head_dim // 2} pairs and turns pair p by "
        f"position × θ^(−2p/{demo.head_dim}) radians, θ = {demo.theta:,.0f}. Pair {pair} turns "
        f"**{demo.radians_per_position(pair):.4f} rad ({np.degrees(demo.radians_per_position(pair)):.2f}°) per "
        "position**: early pairs spin fast (they sense nearby order), late pairs slowly (far distances)."
    )
    left, right = st.columns(2)
    with left:
        show_chart(view.pair_figure(demo, pair, np.arange(max(i, j) + 21)), key="layer_rope_pair_chart")
    with right:
        show_chart(view.rope_score_figure(demo), key="layer_rope_scores")
    st.caption(
        f"Left: pair {pair} of the query (dots: the same numbers turned to each position; red: at position {i}) "
        f"and of the key (blue, at position {j}). Their angle is {demo.pair_angle_deg(pair):+.1f}°: the angle "
        f"they start with plus (i − j) × {np.degrees(demo.radians_per_position(pair)):.2f}°. Move both tokens "
        "along and both arrows turn together, so the angle — and this pair's part of q·k — stays."
    )
    spread_both = float(np.ptp(demo.score_both_moved))
    spread_one = float(np.ptp(demo.score_query_moved))
    st.markdown(
        f"**Score q·k/√d = {demo.score_both_moved[0]:.4f}** at positions ({i}, {j}) — the score the model "
        f"itself computes there. Placing the same two vectors at ({i} + s, {j} + s) for s up to "
        f"{demo.shifts[-1]}: the score varies by only **{spread_both:.1e}** (float rounding): it depends only "
        f"on the distance i − j = {i - j}. Moving the query alone changes it by up to **{spread_one:.2f}**. "
        "The original transformer instead *added* sine waves to the embeddings (see the Embeddings page), "
        "and GPT-2 adds learned position vectors: there, moving both tokens changes their score."
    )
    st.page_link("views/embeddings.py", label="Sinusoidal and learned positions on the Embeddings page →", icon="🧭")


@st.fragment
def section_ffn(lm, trace: residual.ResidualTrace, last_piece) -> None:
    st.header("5 · The feed-forward network")
    shares = layer_parts.parameter_shares(lm)
    layer = st.slider("Layer", 0, trace.n_layer - 1, trace.n_layer // 2, key="layer_ffn_layer")
    units = layer_parts.feed_forward_units(lm, trace, layer, top_n=10)
    if units.kind == "SwiGLU":
        st.latex(r"\mathrm{FFN}(x) = W_\text{down}\,\big(\mathrm{silu}(W_\text{gate}\,x) \odot W_\text{up}\,x\big)")
        how = (f"**SwiGLU**: {units.d_model} → {units.d_ff:,} twice (a *gate* and an *up* projection), the "
               f"gate's silu multiplied by up, unit by unit, then {units.d_ff:,} → {units.d_model} (*down*).")
    else:
        st.latex(r"\mathrm{FFN}(x) = W_\text{down}\,\mathrm{gelu}(W_\text{up}\,x)")
        how = (f"a plain **GELU** feed-forward: {units.d_model} → {units.d_ff:,} (*up*), GELU, then "
               f"{units.d_ff:,} → {units.d_model} (*down*); SwiGLU models add a second, gating projection.")
    st.markdown(
        f"In {lm.name} the feed-forward is {how} It holds **{shares.feed_forward_share:.0%}** of the "
        f"parameters outside the embeddings ({shares.feed_forward:,} of {shares.non_embedding:,}; attention "
        f"{shares.attention:,}, norms {shares.norms:,}). Each hidden unit is like a detector: the strongest "
        f"ones for {view.quoted(last_piece)} in layer {layer} below — these {len(units.units)} "
        f"of {units.d_ff:,} carry {units.share_of_magnitude:.0%} of the total |value|."
    )
    show_chart(view.units_figure(units), key="layer_ffn_units")
    table = {"unit": units.units, "gate": units.gate, "up": units.up, "value (silu(gate) × up)": units.value}
    if units.kind != "SwiGLU":
        table = {"unit": units.units, "up": units.up, "value (gelu(up))": units.value}
    st.dataframe(
        table, hide_index=True, key="layer_ffn_table",
        column_config={k: st.column_config.NumberColumn(format="%.3f") for k in ("gate", "up")},
    )


@st.fragment
def section_encoder(lm, analysis, prompt) -> None:
    st.header("6 · Encoder vs decoder, on the same sentence")
    try:
        encoder = view.cached_encoder_attention(prompt.text)
    except encoder_decoder.EncoderUnavailable as err:
        st.info(str(err))
        return
    shown = min(len(prompt.pieces), VIEW_CAP)
    decoder_map = analysis.attentions[:, :, :shown, :shown].mean(axis=(0, 1))
    encoder_map = encoder.attentions.mean(axis=(0, 1))
    st.markdown(
        f"An **encoder** ({encoder_decoder.ENCODER_NAME}, a small BERT: {encoder.attentions.shape[0]} layers × "
        f"{encoder.attentions.shape[1]} heads) lets every token look **both ways**; a **decoder** like {lm.name} "
        "only looks **back** (the causal mask), because it writes one token at a time. Measured on your "
        f"prompt: the encoder's tokens give **{encoder_decoder.future_weight(encoder.attentions):.0%}** of their "
        f"attention to *later* tokens, the decoder's **{encoder_decoder.future_weight(analysis.attentions):.0%}**. "
        f"They also cut the text differently: WordPiece ({encoder.vocab_size:,} pieces, lower-cased, `##` marks a word's "
        f"continuation) gives {len(encoder.tokens) - 2} pieces plus [CLS] and [SEP]; byte-level BPE gives "
        f"{len(prompt.pieces)}."
        + (f" The encoder reads the first {encoder_decoder.ENCODER_TOKEN_CAP} pieces only." if encoder.truncated else "")
    )
    left, right = st.columns(2)
    with left:
        show_chart(view.mean_map_figure(encoder_map, encoder.tokens, f"Encoder: all {encoder.attentions.shape[0] * encoder.attentions.shape[1]} heads averaged"),
                   key="layer_encoder_map")
    with right:
        labels = [token_label(p) for p in prompt.pieces[:shown]]
        show_chart(view.mean_map_figure(decoder_map, labels, f"Decoder: all {analysis.n_layer * analysis.n_head} heads averaged"),
                   key="layer_decoder_map")
    st.table(
        {
            "family": ["encoder-only", "decoder-only", "encoder-decoder"],
            "sees": ["the whole text, both ways", "only earlier tokens", "the encoder reads both ways; the decoder writes, looking back and at the encoder"],
            "good for": ["understanding: search, embeddings, classification", "writing: chat, completion, code", "turning one text into another: translation, summaries"],
            "examples": ["BERT, all-MiniLM-L6-v2 (left)", f"GPT, Llama, {lm.name} (right)", "T5, BART (named here, not run)"],
        },
    )


@st.fragment
def section_writing(lm, ids, pieces, analysis) -> None:
    st.header("7 · Attention while it writes")
    total = analysis.n_layer * analysis.n_head
    sinks = writing_attention.sink_heads(analysis.attentions[:, :, -1, :])
    st.markdown(
        "As the model writes, each new token is chosen at the position just before it; that position's "
        "attention row shows where the model looks while choosing. A warning first: the **attention sink**. "
        f"On your prompt, **{sinks} of {total} heads** put their largest weight on the first token, "
        f"{view.quoted(pieces[0])}, when reading the last one"
        + (" (your prompt is one token, so there is nothing else to look at yet)" if len(ids) == 1 else "")
        + ". Heads that have nothing to look for park their weight there; it does not mean the first "
        "token matters most."
    )
    cols = st.columns([1, 2])
    n_new = cols[0].number_input("Tokens to write", 2, 24, 10, key="layer_write_n")
    if cols[1].button("✍️ Write greedily and record attention", key="layer_write_go"):
        st.session_state[WRITE_KEY] = (lm.name, ids, int(n_new))
    if st.session_state.get(WRITE_KEY) != (lm.name, ids, int(n_new)):
        st.caption("Press the button: the model writes the tokens (the most likely one each time) and every step's attention is kept.")
        return
    with st.spinner("Writing…"):
        written = view.cached_writing(lm.name, ids, int(n_new))
    all_pieces = pieces + written.new_pieces
    cols = st.columns(3)
    step = cols[0].select_slider("Step", list(range(written.n_steps)), key="layer_write_step",
                                 format_func=lambda s: f"{s + 1}: {token_label(written.new_pieces[s])}")
    layer_choice = cols[1].selectbox("Layer", ["average of all layers", *range(analysis.n_layer)], key="layer_write_layer")
    head_choice = cols[2].selectbox("Head", ["average of all heads", *range(analysis.n_head)], key="layer_write_head")
    layer = None if isinstance(layer_choice, str) else layer_choice
    head = None if isinstance(head_choice, str) else head_choice
    row = written.row(step, layer, head)
    order = written.top_keys(step, layer, head)
    before = all_pieces[len(ids) + step - 1]
    step_sinks = writing_attention.sink_heads(written.rows[step, :, :, : len(ids) + step])
    st.markdown(
        f"Writing token {step + 1}, {view.quoted(written.new_pieces[step])} (probability "
        f"{written.probs[step]:.0%}), from position {len(ids) + step - 1} ({view.quoted(before)}): "
        f"{written.prompt_share(step, layer, head):.0%} of the weight goes to the prompt. Most looked at: "
        + "; ".join(f"{view.quoted(all_pieces[k])} (position {k}) {row[k]:.2f}" for k in order)
        + f". {step_sinks} of {total} heads have their maximum on the first token at this step."
    )
    show_chart(view.writing_figure(written, all_pieces, layer, head, step), key="layer_write_map")
    with st.expander("Table: this step's attention row"):
        st.dataframe(
            {"position": list(range(row.shape[0])), "token": [token_label(p) for p in all_pieces[: row.shape[0]]],
             "part": ["prompt" if k < len(ids) else "written" for k in range(row.shape[0])], "weight": row.tolist()},
            hide_index=True, key="layer_write_table",
            column_config={"weight": st.column_config.ProgressColumn(format="%.3f", min_value=0.0, max_value=1.0)},
        )
    if written.stopped_at_end_token:
        st.caption(f"It stopped after {written.n_steps} tokens: it chose its end-of-text token.")
    st.caption("Each row: one token being written; the colour in each column: how much it looks at that earlier token "
               "(rows add up to 1). The orange line marks the chosen step.")


st.title("🔬 Inside a layer: the parts of a modern decoder")
lm, prompt, ids = state.page_prompt()
analysis = state.cached_analysis(lm.name, ids)
anatomy = model_anatomy(lm)
st.markdown(
    f"The other pages show what goes in and what comes out. Here one layer of {lm.name} is opened up: a "
    f"{anatomy.architecture} with {anatomy.n_layer} identical layers, each a norm, attention, another norm "
    "and a feed-forward network, all adding into one stream of numbers per token. Every number below is "
    "measured on your prompt (edit it in the sidebar); the controls of a section rerun only that section."
)
pieces = prompt.pieces
trace = section_stream(lm, ids, pieces)
section_norm(lm, trace)
section_gqa(lm, analysis, pieces)
section_rope(lm, analysis, pieces, cached_position_scheme(lm.name))
section_ffn(lm, trace, pieces[-1])
section_encoder(lm, analysis, prompt)
section_writing(lm, ids, pieces, analysis)
st.info(
    "**Misconception:** “a head that attends to the first token finds it important.” Many heads park "
    "their weight on the first token when they have nothing to do (the attention sink, section 7)."
)

next_step_link("inside_layer")
