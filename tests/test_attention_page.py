"""The Attention page: AppTest with its widgets driven, and real Chromium with the internet blocked."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import quote

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explain import attention, tokens
from explain.engine import analysis
from tests import pages
from tests.pages import ForwardCounter
from tests.pages import chart as spec
from tests.pages import plotly_array as array

CAT = "The cat sat on the mat because it was warm."
HOSTILE = "<img src=x onerror=alert(1)> and </script><b>bold</b>"


def run_page(prompt: str | None = CAT, **state) -> AppTest:
    return pages.run_page("views/attention.py", prompt, timeout=240, **state)


def iframe_html(at: AppTest) -> str:
    frames = at.get("iframe")
    assert frames, "no bertviz iframe on the page"
    return frames[0].proto.srcdoc


def params_of(page: str) -> dict:
    return json.loads(re.search(r"const params = (\{.*?\});", page).group(1))


@pytest.fixture(scope="module")
def cat_page():
    return run_page()


@pytest.fixture(scope="module")
def cat_reference(lm):
    ids = tokens.encode(lm, CAT)
    return ids, analysis.analyze_prompt(lm, ids)


def test_default_view_shows_every_part(cat_page, cat_reference):
    at = cat_page
    assert not at.exception, at.exception
    ids, ref = cat_reference
    page = iframe_html(at)
    assert "cdnjs" not in page and "d3js.org v5.7.0" in page
    params = params_of(page)
    assert params["attention"][0]["left_text"][7] == "·it"
    layer = at.slider(key="attn_layer").value
    np.testing.assert_allclose(np.array(params["attention"][0]["attn"][0]), ref.attentions[layer], atol=5e-4)
    heat = spec(at, "attn_heatmap")["data"][0]
    z = array(heat["z"]).astype(float)
    assert np.all(np.isnan(z[np.triu_indices(len(ids), k=1)]))  # the causal mask is visible
    np.testing.assert_allclose(np.nan_to_num(z), ref.attentions[layer, 0], atol=1e-6)
    assert "attends to" in heat["hovertemplate"]
    assert at.selectbox(key="attn_follow").value == 7  # "it" is followed by default
    assert any("“·because”" in m.value for m in at.markdown)  # whatever the model does: measured
    focus = attention.follow_token(ref.attentions, 7)
    tops = [max(range(1, 7), key=lambda j: focus.mean_over_heads[l, j]) for l in range(ref.n_layer)]
    reader = next(m.value for m in at.markdown if "A reader links" in m.value)
    for position, word in ((1, "cat"), (5, "mat")):  # computed, whatever the numbers are
        assert f"“·{word}” is its most attended earlier token in {tops.count(position)} of {ref.n_layer} layers" in reader
    kinds_table = at.dataframe[0].value
    assert list(kinds_table["kind"]) == list(attention.KIND_RULES)
    stats = attention.head_statistics(ref.attentions)
    assert list(kinds_table["heads"]) == [sum(r.count(k) for r in stats.kinds) for k in attention.KIND_RULES]
    text = "\n".join(m.value for m in at.markdown)
    assert "d = 64" in text


def test_moving_layer_and_head_never_reruns_the_model(cat_page, cat_reference):
    at = cat_page
    from explain.engine.models import EMBEDDED_MODEL
    from ui.state import get_model

    _, ref = cat_reference
    with ForwardCounter(get_model(EMBEDDED_MODEL).model) as forwards:  # the app's own model instance
        at.slider(key="attn_layer").set_value(3).run()
        at.slider(key="attn_head").set_value(5).run()
        assert not at.exception
        assert forwards.calls == 0
        heat = np.nan_to_num(array(spec(at, "attn_heatmap")["data"][0]["z"]))
        np.testing.assert_allclose(heat, ref.attentions[3, 5], atol=1e-6)
        # the gallery outlines the same head, and the scores view is that head too
        gallery = spec(at, "attn_gallery")["data"]
        assert (gallery[1]["x"], gallery[1]["y"]) == ([5], [3])
        weights = np.nan_to_num(array(spec(at, "attn_scores_weights")["data"][0]["z"]))
        np.testing.assert_allclose(weights, ref.attentions[3, 5], atol=2e-5)  # softmax(scores) shown
        row = at.dataframe[1].value  # the worked row: weight = e^(score − max) / row total
        exp = np.array(row["e^(score − max)"])
        np.testing.assert_allclose(np.array(row["weight"]), exp / exp.sum(), atol=1e-6)
        np.testing.assert_allclose(np.array(row["weight"]), ref.attentions[3, 5, 7], atol=2e-5)
        stats = attention.head_statistics(ref.attentions)
        assert any(f"Layer 3, head 5 is a {stats.kinds[3][5]}" in m.value for m in at.markdown)
        # gallery colours equal the statistics, for each choice
        for statistic in attention.STATISTICS:
            at.radio(key="attn_statistic").set_value(statistic).run()
            colours = array(spec(at, "attn_gallery")["data"][0]["marker"]["color"])
            np.testing.assert_allclose(colours, stats.values(statistic).ravel(), atol=1e-6)
        at.radio(key="attn_view").set_value("model").run()
        assert not at.exception
        assert params_of(iframe_html(at))["include_layers"] == [0, 1, 2, 3, 4, 5]
    assert forwards.calls == 0  # no control needed a forward


def test_beside_the_presets_the_page_says_what_this_model_attends_to(cat_page, cat_reference, lm):
    """Issue 20.1: on a preset, the followed word's most attended earlier token, computed (not the
    "cat" or "mat" a reader expects)."""
    from ui.html import visible_text

    ids, ref = cat_reference
    rows = ref.attentions[:, :, 7, :8].mean(axis=1)  # (layer, key): "it" (token 7), heads averaged
    rows[:, [0, 7]] = -1  # the sink and itself left out
    wins = np.bincount(rows.argmax(axis=1), minlength=8)
    top = int(wins.argmax())  # ties: the earlier token, as the page breaks them
    caption = next(c.value for c in cat_page.caption if c.value.startswith("On this example"))
    token = visible_text(tokens.token_piece(lm, ids[top], top).display)
    assert f"“·it” attends most to “{token}”: in {wins[top]} of {len(rows)} layers" in caption


def test_preset_button_and_follow_head(cat_page, lm):
    at = cat_page
    at.selectbox(key="attn_follow").set_value(4).run()
    at.button(key="attn_preset_Bank").click().run()
    assert not at.exception
    assert at.session_state["prompt"] == "I went to the bank to deposit my money."
    follow = at.selectbox(key="attn_follow")  # reset to the new prompt's own default
    assert follow.value == 4 and follow.options[4] == "4: ·bank"  # the preset's word, not the old choice
    assert at.selectbox(key="attn_score_row").value == 4
    at.selectbox(key="attn_follow_head").set_value(2).run()
    assert not at.exception


def test_a_two_token_prompt_labels_no_heads():
    at = run_page("Hello world")
    assert not at.exception
    assert any("can't be told apart" in i.value for i in at.info)
    assert not any("previous-token head" in m.value for m in at.markdown)
    assert not any(re.search(r"head \d+ is a", m.value) for m in at.markdown)
    assert not [d for d in at.dataframe if "kind" in d.value]  # no table of head kinds either


def test_hostile_prompt_is_text_everywhere():
    at = run_page(HOSTILE)
    assert not at.exception
    page = iframe_html(at)
    assert "<img" not in page and "<b>bold" not in page
    assert "\\u003c" in page and "alert" in page  # the text is there, as JSON escapes
    labels = spec(at, "attn_heatmap")["data"][0]["x"]
    assert all("<" not in label for label in labels)
    assert any("&lt;" in label for label in labels)
    found: set[str] = set()

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.add(tag)

    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            for field in ("x", "y", "customdata", "hovertemplate"):
                Tags().feed(json.dumps(trace.get(field, "")))
    assert not found & {"img", "script", "b"}


def test_one_token_prompt_is_friendly():
    at = run_page("Hello")
    assert not at.exception
    assert any("can't be told apart" in i.value for i in at.info)
    assert params_of(iframe_html(at))["attention"][0]["left_text"] == ["Hello"]


def test_prompt_over_the_cap_shows_the_first_48_tokens():
    at = run_page("word " * 70)
    assert not at.exception
    assert any("first 48" in w.value for w in at.warning)
    assert len(params_of(iframe_html(at))["attention"][0]["left_text"]) == 48
    assert array(spec(at, "attn_heatmap")["data"][0]["z"]).shape == (48, 48)


def test_empty_prompt_gets_the_hint():
    at = run_page("   ")
    assert not at.exception
    assert any("Type a prompt" in i.value for i in at.info)
    assert not at.get("iframe")


# ---------------------------------------------------------------------------------------------
# Real Chromium, no internet


def test_head_view_draws_offline_in_chromium(site, browser):
    from tests.browser import ARTIFACTS, open_page

    context, page, blocked = open_page(browser, f"{site}/attention?prompt={quote(CAT)}", width=1440, height=3000)
    try:
        assert page.locator('[data-testid="stException"]').count() == 0
        frame = page.frame_locator("iframe").first
        frame.locator("svg text").first.wait_for(timeout=30_000)
        texts = frame.locator("svg text").all_text_contents()
        assert texts.count("·it") == 2 and texts.count("·mat") == 2  # both token columns drawn
        assert frame.locator("svg line").count() > 50  # attention lines drawn
        assert not blocked, blocked  # nothing tried to reach a CDN
        page.locator("iframe").first.screenshot(path=str(ARTIFACTS / "attention-head-view.png"))
        page.screenshot(path=str(ARTIFACTS / "attention-1440.png"))
    finally:
        context.close()


def test_hostile_prompt_in_chromium_runs_no_script(site, browser):
    from tests.browser import ARTIFACTS, open_page

    context, page, blocked = open_page(browser, f"{site}/attention?prompt={quote(HOSTILE)}", width=390, height=2400)
    try:
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        frame = page.frame_locator("iframe").first
        frame.locator("svg text").first.wait_for(timeout=30_000)
        shown = frame.locator("svg text").all_text_contents()
        assert "<" in shown and "img" in shown  # shown as text
        assert frame.locator("img").count() == 0
        assert dialogs == [] and not blocked
        page.screenshot(path=str(ARTIFACTS / "attention-390.png"))
    finally:
        context.close()


def test_attention_view_can_be_saved_as_a_standalone_offline_page():
    at = run_page()
    assert not at.exception
    assert at.get("download_button"), "the bertviz view has a download button"
    srcdoc = at.get("iframe")[0].proto.srcdoc
    assert "cdnjs" not in srcdoc and "<script" in srcdoc  # the saved file is this same offline document


def test_preset_button_moves_the_followed_token_into_the_new_prompt(site, browser):
    """Issue 20.1: after a preset the follow box must name a token of the NEW prompt."""
    from tests.browser import ARTIFACTS, open_page, wait_until_idle

    context, page, blocked = open_page(browser, f"{site}/attention", width=1440, height=5000)
    try:
        follow = page.get_by_role("combobox", name="Token to follow")
        before = follow.input_value()
        assert before == "4: ·is"  # the default prompt, "The capital of France is", ends at token 4
        page.get_by_role("button", name="Where does “it” look?").click()
        page.get_by_text("A reader links").wait_for(timeout=120_000)
        wait_until_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert follow.input_value() == "7: ·it"
        said = re.search(r"attends most to (“.+?”): in (\d+) of (\d+) layers", page.get_by_text("On this example").inner_text())
        assert page.get_by_text(f"{said[1]} in {said[2]} of {said[3]} layers").count() == 1  # as section 4 measures
        assert page.get_by_role("combobox", name="Work through one row (query token)").input_value() == "7: ·it"
        chart = page.locator('[data-testid="stPlotlyChart"]').nth(2)  # heatmap, gallery, follow
        assert "7 ·it" in chart.locator(".xtick").all_text_contents()  # the chart follows "it" too
        assert not blocked
        page.locator('[data-testid="stSelectbox"]', has_text="Token to follow").screenshot(
            path=str(ARTIFACTS / "attention-preset-follow.png")
        )
    finally:
        context.close()


def test_presenter_mode_enlarges_bertviz_and_keeps_heatmap_titles_inside(site, browser):
    """Issue 20.6: the head view's text is large in presenter mode; no heatmap title is clipped."""
    from tests.browser import ARTIFACTS, open_page

    heights = {}
    for present in (False, True):
        url = f"{site}/attention?prompt={quote(CAT)}" + ("&present=true" if present else "")
        context, page, _ = open_page(browser, url, width=1280, height=720)
        try:
            word = page.frame_locator("iframe").first.locator("svg text", has_text="because").first
            word.wait_for(timeout=30_000)
            heights[present] = word.bounding_box()["height"]
            for index in (0, 3, 4):  # the heatmap and the two scores charts
                chart = page.locator('[data-testid="stPlotlyChart"]').nth(index)
                chart.scroll_into_view_if_needed()
                frame = chart.bounding_box()
                boxes = {sel: chart.locator(sel).first.bounding_box() for sel in ("text.gtitle", "text.xtitle", "text.ytitle")}
                for sel, box in boxes.items():
                    assert box is not None, sel
                    assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1, sel
                    assert frame["y"] <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"] + 1, sel
                title, axis = boxes["text.gtitle"], boxes["text.xtitle"]
                assert title["y"] + title["height"] <= axis["y"]  # the title never sits on the axis title
            if present:
                page.screenshot(path=str(ARTIFACTS / "attention-presenter-1280.png"))
        finally:
            context.close()
    assert heights[True] >= 1.5 * heights[False] and heights[True] >= 24  # ~27 px on a projector


def test_presenter_figures_grow_markers_and_labels_never_shrink_them():
    import plotly.graph_objects as go

    from explain.attention import head_statistics
    from ui.attention import gallery_figure
    from ui.presenter import presenter_figure

    stats = head_statistics(np.tril(np.ones((1, 2, 5, 5))) / np.arange(1, 6)[:, None])
    normal = gallery_figure(stats, "first", (0, 1))
    big = presenter_figure(normal)
    for before, after in zip(normal.data, big.data):  # the gallery squares and the chosen-head outline
        assert after.marker.size > before.marker.size
    words = go.Figure(go.Scatter(x=[0], y=[0], mode="markers+text", text=["king"], textfont=dict(size=14)))
    words.update_layout(title=dict(text="t", font=dict(size=14)))
    shown = presenter_figure(words)
    assert shown.data[0].textfont.size >= 18 and shown.layout.title.font.size >= 20
    assert shown.layout.xaxis.tickfont.size >= 17


# ---------------------------------------------------------------------------------------------
# Predict, then reveal · other languages (issues 17 and 18)


def test_predict_then_reveal_hides_every_picture_until_reveal_and_checks_the_model(cat_reference):
    _, ref = cat_reference
    at = run_page(attn_game=True)
    assert not at.exception, at.exception
    assert not at.get("plotly_chart") and not at.get("iframe") and not at.dataframe  # nothing to peek at
    assert any("which earlier word does “·it” attend to most" in m.value for m in at.markdown)
    at.text_input(key="attn_guess").set_value("cat").run()
    assert not at.get("plotly_chart")  # typing is not revealing
    at.button(key="attn_reveal").click().run()
    assert not at.exception, at.exception
    counts = attention.follow_token(ref.attentions, 7).layer_counts({0, 7})
    top, wins = next(iter(counts.items()))
    verdict = at.success[0].value
    assert f"attends most to “{['The', '·cat', '·sat', '·on', '·the', '·mat', '·because'][top]}”: in {wins} of {ref.n_layer} layers" in verdict
    assert (f"wins in {counts.get(1, 0)} of {ref.n_layer}" in verdict) if top != 1 else verdict.startswith("✅")
    assert at.get("plotly_chart") and at.get("iframe")  # revealed: the pictures are back
    at.session_state["prompt"] = "The dog slept on the rug because it was tired."
    at.run()  # a new prompt: the old guess is gone and the pictures hide again
    assert at.text_input(key="attn_guess").value == "" and not at.get("plotly_chart")


def test_attention_page_in_spanish():
    at = run_page(lang="es")
    assert not at.exception, at.exception
    headers = [h.value for h in at.header]
    assert headers[0] == "1 · Líneas de cada token a los tokens a los que presta atención"
    heat = spec(at, "attn_heatmap")
    assert heat["layout"]["xaxis"]["title"]["text"] == "mira a (clave)"
    assert heat["layout"]["separators"] == ",."  # Plotly's numbers with a decimal comma
    assert "presta atención a" in heat["data"][0]["hovertemplate"]
    said = next(m.value for m in at.markdown if m.value.startswith("En la capa"))
    assert re.search(r"“·it” presta más atención a “[^”]+” \(\d+,\d\s%\)", said)  # a computed, localised sentence
    assert list(at.dataframe[0].value)[0] == "tipo"


def test_every_chart_has_a_sentence_and_a_table(cat_reference):
    _, ref = cat_reference
    at = run_page(attn_heatmap_table=True, attn_head_view_table=True, attn_gallery_table=True,
                  attn_follow_table=True, attn_scores_table=True)
    assert not at.exception, at.exception
    layer = at.slider(key="attn_layer").value
    tables = [d.value for d in at.dataframe]
    heat = next(t for t in tables if "token that looks (query)" in t.columns)
    np.testing.assert_allclose(heat["7 ·it"].to_numpy(dtype=float)[7:], ref.attentions[layer, 0, 7:, 7], atol=1e-3)
    assert any("heads averaged" in t.columns for t in tables)  # the head view as a table
    assert any(len(t) == ref.n_layer * ref.n_head for t in tables)  # the gallery, one row per head
    text = "\n".join(m.value for m in at.markdown)
    best = int(ref.attentions[layer, 0, 7].argmax())
    assert f"In layer {layer}, head 0, “·it” attends most to" in text and f"({ref.attentions[layer, 0, 7, best]:.1%})" in text
    assert "The lines show layer" in text and "Coloured by attention to the first token: highest in layer" in text


def test_a_shared_link_restores_the_attention_view(site, browser):
    """Issue 20.7: the view, the gallery colouring, the followed token and the heads come back from the link."""
    from tests.browser import ARTIFACTS, open_page

    query = {"prompt": CAT, "attn_view": "Model view (all heads, 6 layers)", "attn_statistic": "attention to the previous token",
             "attn_follow": "5: ·mat", "attn_follow_head": "head 3", "attn_layer": "3", "attn_head": "4"}
    url = f"{site}/attention?" + "&".join(f"{k}={quote(v)}" for k, v in query.items())
    context, page, blocked = open_page(browser, url, width=1440, height=7000)
    try:
        assert page.locator('[data-testid="stException"]').count() == 0 and not blocked
        assert page.get_by_role("radio", name="Model view (all heads, 6 layers)").is_checked()
        assert page.get_by_role("radio", name="attention to the previous token").is_checked()
        assert page.get_by_role("combobox", name="Token to follow").input_value() == "5: ·mat"
        assert page.get_by_role("combobox", name="Heads").input_value() == "head 3"
        assert page.get_by_text("Layer 3, head 4 is a").count() == 1
        page.screenshot(path=str(ARTIFACTS / "attention-link-1440.png"))
    finally:
        context.close()


# ---------------------------------------------------------------------------------------------
# Issue 20.5: every control beside the chart it drives


def test_section_two_and_five_have_their_own_sliders_beside_their_charts(cat_reference):
    _, ref = cat_reference
    at = run_page()
    assert not at.exception, at.exception
    at.slider(key="attn_heat_layer").set_value(4).run()  # section 2's layer moves the whole page's layer
    assert at.slider(key="attn_layer").value == 4
    np.testing.assert_allclose(np.nan_to_num(array(spec(at, "attn_heatmap")["data"][0]["z"])), ref.attentions[4, 0], atol=1e-6)
    assert (at.slider(key="attn_scores_layer").value, at.slider(key="attn_scores_head").value) == (4, 0)  # 5 follows
    at.slider(key="attn_scores_layer").set_value(9).run()  # section 5's own: the rest of the page stays
    at.slider(key="attn_scores_head").set_value(2).run()
    assert not at.exception, at.exception
    assert at.slider(key="attn_layer").value == 4 and at.slider(key="attn_head").value == 0
    weights = np.nan_to_num(array(spec(at, "attn_scores_weights")["data"][0]["z"]))
    np.testing.assert_allclose(weights, ref.attentions[9, 2], atol=2e-5)
    np.testing.assert_allclose(np.nan_to_num(array(spec(at, "attn_heatmap")["data"][0]["z"])), ref.attentions[4, 0], atol=1e-6)
    at.slider(key="attn_head").set_value(6).run()  # the top's head moves again: section 5 follows it
    assert (at.slider(key="attn_scores_layer").value, at.slider(key="attn_scores_head").value) == (4, 6)


def test_each_slider_sits_right_above_its_chart_on_a_phone_and_a_link_keeps_section_five(site, browser):
    from tests.browser import ARTIFACTS, open_page

    query = f"prompt={quote(CAT)}&attn_layer=3&attn_scores_layer=7&attn_scores_head=2"
    for width, height in ((390, 12000), (1280, 9000)):
        context, page, blocked = open_page(browser, f"{site}/attention?{query}&present={str(width > 600).lower()}",
                                           width=width, height=height)
        try:
            assert page.locator('[data-testid="stException"]').count() == 0 and not blocked
            charts = page.locator('[data-testid="stPlotlyChart"]')
            for label, chart in (("Head", 0), ("Head (scores)", 3)):  # the heatmap; the scores before softmax
                slider = page.locator('[data-testid="stSlider"]').filter(
                    has=page.get_by_text(label, exact=True)).bounding_box()
                top = charts.nth(chart).bounding_box()["y"]
                assert 0 <= top - (slider["y"] + slider["height"]) < 120, label  # nothing between them
            layer = page.locator('[data-testid="stSlider"]').filter(has=page.get_by_text("Layer", exact=True)).first
            below = layer.bounding_box()["y"] + layer.bounding_box()["height"]
            view = page.locator("iframe").first.bounding_box()["y"]  # the bertviz view the top slider draws
            assert 0 <= view - below < 300  # only the view's one-paragraph legend between them
            titles = [t.replace(" ", "").replace("\u00a0", "") for t in page.locator("text.gtitle").all_text_contents()]
            assert [t for t in titles if t.startswith("Beforethesoftmax")] == ["Beforethesoftmax:q·k/√d,layer7,head2"]  # the link's (wrapped on two lines)
            assert page.get_by_text("Layer 3, head 0").first.is_visible()  # the top's, in section 2
            page.screenshot(path=str(ARTIFACTS / f"attention-controls-{width}.png"))
        finally:
            context.close()
