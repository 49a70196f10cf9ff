"""Classroom polish without a browser: export names and titles, the share list (and a name for every
URL-bound control), the prompt bar, the Sampling page's charts (titled with the prompt, PNGs named
by page/chart/prompt, beam markers), and the link to the next step at the end of every page."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from explain import lessons
from tests.pages import chart, chart_config, chart_keys, run_page
from ui import figures, share
from ui.walk import WALK


@pytest.mark.parametrize(
    ("prompt", "name"),
    [
        ("The capital of France is", "sampling-filter-the-capital-of-france-is"),
        ("<script>alert(1)</script>", "sampling-filter-script-alert-1-script"),
        ("🍕🍕", "sampling-filter-prompt"),
        ("今天天气很好", "sampling-filter-今天天气很好"),
        ("word " * 100, "sampling-filter-" + ("word-" * 8)[:40].strip("-")),
    ],
)
def test_export_filename_names_page_chart_and_prompt(prompt, name):
    assert figures.export_filename("Sampling", "filter", prompt) == name
    config = figures.plotly_config("Sampling", "filter", prompt)
    assert config["toImageButtonOptions"] == {"format": "png", "scale": 2, "filename": name}
    assert "/" not in name and "." not in name


def test_export_title_carries_the_escaped_prompt_and_model():
    original = go.Figure(go.Bar(x=[1], y=[2]), layout=dict(height=300, margin=dict(t=30)))
    fig = figures.with_export_title(original, "Filter <b>", "<i>cat</i>\nsat " + "x" * 80, "SmolLM2")
    assert fig.layout.title.text == "Filter &lt;b&gt;"
    subtitle = fig.layout.title.subtitle.text
    assert subtitle.startswith("“&lt;i&gt;cat&lt;/i&gt; ⏎ sat x") and subtitle.endswith("…”<br>SmolLM2")
    assert len(subtitle) < 120
    assert fig.layout.margin.t == 30 + figures.EXPORT_TITLE_TOP_PX
    assert fig.layout.height == 300 + figures.EXPORT_TITLE_TOP_PX  # the plot keeps its height
    assert fig.layout.yaxis.automargin and fig.layout.xaxis.automargin
    assert fig is original  # titled in place: the figure was just built for it


@pytest.mark.parametrize(
    "title, lines",
    [
        ("The five most likely next tokens", ["The five most likely next tokens"]),
        ("¿Se transmite la información a lo largo del flujo residual?",
         ["¿Se transmite la información a lo largo", "del flujo residual?"]),
        ("Ce que chaque bloc écrit dans le flux\u00a0: la norme de la couche",
         ["Ce que chaque bloc écrit dans le flux\u00a0:", "la norme de la couche"]),  # ":" keeps to its word
        ("每个模块写入残差流的内容，以及方向是否一致", ["每个模块写入残差流的内容，以及方向是否一", "致"]),
        ("每个模块写入残差流的内容以及它们写入方向，是否一致", ["每个模块写入残差流的内容以及它们写入方向，", "是否一致"]),  # no line starts with "，"
        ("a" * 50 + " b", ["a" * 50, "b"]),
    ],
)
def test_long_titles_wrap_between_words_to_a_phone_s_width(title, lines):
    assert figures.wrapped_lines(title) == lines
    assert all(figures.columns(line) <= figures.EXPORT_TITLE_COLUMNS for line in lines if " " in line)


def test_a_wrapped_export_title_gets_the_room_of_its_lines():
    fig = figures.with_export_title(go.Figure(layout=dict(margin=dict(t=30))), "word " * 12, "今天" * 40, "SmolLM2")
    assert fig.layout.title.text.count("<br>") == 1
    assert fig.layout.margin.t == (30 + figures.EXPORT_TITLE_TOP_PX + figures.EXPORT_TITLE_LINE_PX
                                  + figures.WRAPPED_TITLE_DROP_PX)
    assert fig.layout.height == fig.layout.margin.t - 30 + figures.PLOTLY_DEFAULT_HEIGHT
    prompt_line = fig.layout.title.subtitle.text.split("<br>")[0]
    assert figures.columns(prompt_line) <= figures.EXPORT_PROMPT_COLUMNS + 2  # + the quotes


def test_presenter_figures_enlarge_a_builder_s_small_print():
    """Issue 20.6: a note given its own 13 px font, and a label's `<sup>` line (Plotly draws it at
    70 %), are projector-size in presenter mode; the figure a page built is left as it was."""
    from ui.presenter import presenter_figure

    fig = go.Figure(go.Bar(x=[3, 5], y=["WordPiece<br><sup>BERT</sup>", "Word"], orientation="h"))
    fig.add_annotation(x=3, y=0, text="LSTM: 65 steps", font=dict(size=13))
    shown = presenter_figure(fig)
    assert shown.layout.annotations[0].font.size >= 18
    assert list(shown.data[0].y) == ["WordPiece<br>BERT", "Word"]
    assert fig.layout.annotations[0].font.size == 13 and fig.data[0].y[0] == "WordPiece<br><sup>BERT</sup>"


def test_presenter_tables_print_numbers_as_the_data_grid_does():
    """Issue 20.6: presenter mode's st.table shows each number as the screen's data grid would (a
    column's printf format, else at most 4 decimals, not pandas' "0.3040"), under its configured
    label, and reads no Markdown in a token or header."""
    import streamlit as st

    from ui.presenter import presented_frame

    shown = presented_frame({"rank": [1, 2], "cos": [0.30412, 1.0], "p": [0.304, 2.0], "token": ["**", "#"]},
                            {"rank": st.column_config.NumberColumn("#"), "cos": st.column_config.NumberColumn(format="%.3f")})
    assert shown.hide(axis="index").to_string(delimiter="|").splitlines() == [
        r"\#|cos|p|token", r"1|0.304|0.304|\*\*", r"2|1.000|2|\#"]


def test_share_list_is_read_from_the_link_and_escaped():
    lines = share.kept_lines({"prompt": "**bold** [x](y)\nnext", "sampling_top_p": "0.5", "odd_key": "1"})
    assert lines[0] == r"- prompt: “\*\*bold\*\* \[x\]\(y\) ⏎ next”"
    assert lines[1] == r"- p: “0\.5”"
    assert lines[2] == r"- odd\_key: “1”"
    assert share.short("a" * 100).endswith("…") and len(share.short("a" * 100)) == share.VALUE_CHARS


def sampling_page(query: dict[str, str] | None = None) -> AppTest:
    return run_page("views/sampling.py", "The capital of France is", timeout=240, query_params=query)


def test_sampling_charts_are_titled_named_and_mark_the_beams_by_shape(lm):
    at = sampling_page()
    at.button(key="sampling_beam_run").click().run()  # beam search runs when asked
    assert not at.exception
    assert len(chart_keys(at)) == 2
    drawn = {key: (chart(at, key), chart_config(at, key)) for key in ("filter_chart", "beam_tree")}
    for key, name in (("filter_chart", "sampling-filter-"), ("beam_tree", "sampling-beam-tree-")):
        spec, config = drawn[key]
        assert config["toImageButtonOptions"]["filename"] == name + "the-capital-of-france-is"
        title = spec["layout"]["title"]
        assert "The capital of France is" in title["subtitle"]["text"] and lm.name in title["subtitle"]["text"]
    assert drawn["filter_chart"][0]["layout"]["title"]["text"] == "Filter: sampling, T = 1, top-p = 0.9"
    beam = drawn["beam_tree"][0]["data"]
    symbols = {trace["name"]: trace["marker"]["symbol"] for trace in beam if trace.get("name")}
    assert symbols["winner ★"] == "star"
    assert len(set(symbols.values())) == len(symbols)  # one shape per status: colour is never alone
    winner_line = max((t for t in beam if t["mode"] == "lines"), key=lambda t: t["line"]["width"])
    assert winner_line["line"]["color"] == "#D55E00"  # vermilion: the words say orange
    assert "thick orange line" in " ".join(m.value for m in at.markdown)
    # Filter labels keep the figure's font size instead of shrinking to the bar.
    kept = drawn["filter_chart"][0]["data"][1]
    assert kept["constraintext"] == "none"
    assert all(float(t.rstrip("%")) >= 2 for t in kept["text"] if t)


def test_sampling_controls_come_back_from_the_link(lm):
    at = sampling_page({"sampling_strategy": "Top-k", "sampling_top_k": "3"})
    assert not at.exception
    assert at.radio(key="sampling_strategy").value == "Top-k"
    assert at.slider(key="sampling_top_k").value == 3
    assert any(m.label == "Candidates kept" and m.value == "3 of 49,152" for m in at.metric)


# ---------------------------------------------------------------------------------------------
# Issue 20.7: the share popover names every control a link can carry. A URL-bound widget's key
# is its parameter in the link; the keys are read from the code (constants, module names,
# function arguments at their call sites, and f-strings over them), so a new bound control
# without a name in ui.share.PARAM_NAMES fails here instead of showing its raw key.

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "app.py", *sorted((ROOT / "views").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]


def _literal(node: ast.AST) -> str | None:
    """A string constant, or the English text of N_("…")."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "N_" and node.args:
        return _literal(node.args[0])
    return None


class BoundKeys:
    """Every `key=` of a call with `bind="query-params"` in the site's sources, resolved to strings."""

    def __init__(self, sources: list[Path]) -> None:
        self.trees = [ast.parse(path.read_text()) for path in sources]
        self.parents = {child: node for tree in self.trees for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        self.constants: dict[str, str] = {}
        self.dicts: dict[str, ast.Dict] = {}
        for tree in self.trees:
            for node in tree.body:
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        names = target.elts if isinstance(target, ast.Tuple) else [target]
                        values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                        for name, value in zip(names, values) if len(names) == len(values) else ():
                            if isinstance(name, ast.Name) and _literal(value) is not None:
                                self.constants[name.id] = _literal(value)
                            elif isinstance(name, ast.Name) and isinstance(value, ast.Dict):
                                self.dicts[name.id] = value
        self.calls = [node for tree in self.trees for node in ast.walk(tree) if isinstance(node, ast.Call)]

    def enclosing(self, node: ast.AST, kinds) -> ast.AST | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, kinds):
                return node
        return None

    def values(self, expr: ast.AST, depth: int = 0) -> set[str]:
        """Every string `expr` can be (an empty set: not resolved)."""
        if _literal(expr) is not None:
            return {_literal(expr)}
        if isinstance(expr, ast.JoinedStr):
            out = {""}
            for part in expr.values:
                options = {_literal(part)} if _literal(part) is not None else self.values(part.value, depth)
                out = {a + b for a in out for b in options}
            return out
        name = expr.id if isinstance(expr, ast.Name) else expr.attr if isinstance(expr, ast.Attribute) else None
        if name in self.constants:
            return {self.constants[name]}
        if isinstance(expr, ast.Name) and depth < 3:
            return self.from_call_sites(expr, depth) or self.from_loop(expr)
        return set()

    def from_call_sites(self, name: ast.Name, depth: int) -> set[str]:
        """A function parameter: the values its callers pass."""
        function = self.enclosing(name, (ast.FunctionDef,))
        params = [a.arg for a in function.args.args] if function else []
        if name.id not in params:
            return set()
        index, out = params.index(name.id), set()
        for call in self.calls:
            if getattr(call.func, "id", getattr(call.func, "attr", None)) != function.name:
                continue
            given = call.args[index] if index < len(call.args) else next(
                (k.value for k in call.keywords if k.arg == name.id), None)
            if given is not None:
                out |= self.values(given, depth + 1)
        return out

    def from_loop(self, name: ast.Name) -> set[str]:
        """A loop variable over a module-level dict (`for name, … in X.items()`, or zipped with it): its keys."""
        loop = self.enclosing(name, (ast.For,))
        if loop is None:
            return set()
        for node in ast.walk(loop.iter):
            base = node.func.value if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "items" else None
            if isinstance(base, ast.Name) and base.id in self.dicts:
                return {_literal(k) for k in self.dicts[base.id].keys if _literal(k) is not None}
        return set()

    def bound(self) -> tuple[set[str], list[str]]:
        """(every bound key, the source of each key expression that could not be resolved)."""
        keys, unresolved = set(), []
        for call in self.calls:
            if not any(k.arg == "bind" and _literal(k.value) == "query-params" for k in call.keywords):
                continue
            key = next((k.value for k in call.keywords if k.arg == "key"), None)
            found = self.values(key) if key is not None else set()
            keys |= found
            if not found:
                unresolved.append(ast.unparse(key) if key is not None else ast.unparse(call))
        return keys, unresolved


def test_the_share_popover_names_every_control_a_link_can_carry():
    from ui.i18n import LANG_KEY

    keys, unresolved = BoundKeys(SOURCES).bound()
    assert unresolved == []
    assert {"prompt", "model", LANG_KEY, "attn_follow", "icl_Few-shot", "emb_vector_table", "tok_game", "hall_seed"} <= keys
    assert sorted(keys - set(share.PARAM_NAMES)) == []
    assert {lessons.LESSON_KEY, lessons.STEP_KEY} <= set(share.PARAM_NAMES)  # the lesson panel writes these itself


# ---------------------------------------------------------------------------------------------
# Issue 20.12: every page of the walk ends with the link to the next step.


@pytest.mark.parametrize("stem", [step.stem for step in WALK])
def test_every_page_ends_with_the_link_to_the_next_step(stem):
    last = ast.parse((ROOT / "views" / f"{stem}.py").read_text()).body[-1]
    assert ast.unparse(last) == f"next_step_link({stem!r})"


def test_no_message_sends_a_phone_to_the_sidebar_for_the_prompt():
    """Issue 20.2: a phone folds the sidebar away and shows the prompt in a bar at the top of the
    page (the same Prompt box), so a hint to type or edit the prompt names the box, not the sidebar."""
    from babel.messages import pofile

    sends = re.compile(r"\b(type|edit|write)\b[^.;:()]*\bin the sidebar", re.IGNORECASE)
    found = []
    for path in sorted((ROOT / "locales" / "es" / "LC_MESSAGES").glob("*.po")):
        with open(path, "rb") as catalog:
            found += [message.id for message in pofile.read_po(catalog) if isinstance(message.id, str)
                      and sends.search(message.id)]
    assert found == []
