"""The layout's rules, checked: the site never imports the offline tools, only explain/engine/ knows a
model family's insides, limits live in explain/limits.py, and package docstrings list their modules."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_SCRIPTS = [ROOT / "app.py", *sorted((ROOT / "views").glob("*.py"))]
OFFLINE = ("tools",)


def imported_modules(script: Path) -> set[str]:
    """Every module a script imports by name (top-level and inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(script.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_site_and_everything_it_imports_leave_the_offline_tools_alone():
    wanted = sorted({name for script in RUNTIME_SCRIPTS for name in imported_modules(script)
                     if name.split(".")[0] in {"explain", "ui"}})
    assert len(RUNTIME_SCRIPTS) > 5 and wanted, "the page scripts moved: update RUNTIME_SCRIPTS"
    probe = (
        "import importlib, importlib.util, sys\n"
        f"for name in {wanted!r}:\n"
        "    if importlib.util.find_spec(name.rsplit('.', 1)[0] if '.' in name else name) is None: continue\n"
        "    try: importlib.import_module(name)\n"
        "    except ModuleNotFoundError: pass  # `from ui import helper` names a function, not a module\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {OFFLINE!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_only_the_engine_imports_transformers():
    outside = [path for folder in ("explain", "ui", "views", "tools") for path in (ROOT / folder).rglob("*.py")
               if "engine" not in path.relative_to(ROOT).parts] + [ROOT / "app.py"]
    importers = sorted(str(path.relative_to(ROOT)) for path in outside
                       if any(name.split(".")[0] == "transformers" for name in imported_modules(path)))
    assert importers == []


# Attribute names only one family's modules have: a lesson module or page that reads one of these
# knows a layout that belongs in an adapter of explain/engine/ (family_of(model) gives the parts).
ARCHITECTURE_ATTRIBUTES = {
    "self_attn", "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "act_fn",
    "rotary_emb", "input_layernorm", "post_attention_layernorm", "embed_tokens", "variance_epsilon",
    "num_key_value_groups", "scaling", "c_attn", "c_fc", "c_proj", "split_size", "ln_1", "ln_2", "ln_f",
    "wte", "wpe", "transformer", "mlp", "hf_quantizer", "model_type",
}
IMPORTED = {"DynamicCache", "apply_rotary_pos_emb"}  # transformers names a module would call
CONTAINERS = {"model", "transformer"}  # model.model.layers[i], model.transformer.h[i]


def architecture_reads(source: str) -> list[tuple[int, str]]:
    """(line, name) of every architecture attribute a module reads, by attribute, name or getattr string."""
    reads = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            inner = node.value.attr if isinstance(node.value, ast.Attribute) else None
            if node.attr in ARCHITECTURE_ATTRIBUTES | IMPORTED or (inner in CONTAINERS and node.attr in {"model", "layers", "h"}):
                reads.append((node.lineno, node.attr))
        elif isinstance(node, ast.Name) and node.id in IMPORTED:
            reads.append((node.lineno, node.id))
        elif isinstance(node, ast.Constant) and node.value in ARCHITECTURE_ATTRIBUTES:  # getattr(x, "q_proj")
            reads.append((node.lineno, node.value))
    return reads


def test_the_checker_sees_every_way_of_reaching_into_a_model():
    source = (
        "a = lm.model.model.layers[0]\nb = block.self_attn.q_proj(x)\nc = getattr(part, 'gate_proj', None)\n"
        "d = model.transformer.h[1]\ne = DynamicCache()\nf = config.model_type\ng = lens.layers\n"
    )
    assert sorted(architecture_reads(source)) == [
        (1, "layers"), (1, "model"), (2, "q_proj"), (2, "self_attn"), (3, "gate_proj"),
        (4, "h"), (4, "transformer"), (5, "DynamicCache"), (6, "model_type"),
    ]  # and not `lens.layers`, a lesson's own field


def test_only_the_engine_knows_where_a_models_parts_are():
    """Lesson modules, ui helpers and pages ask `family_of(model)`; the site's own small models
    (explain/small_models/) define their modules and may name them."""
    outside = [path for folder in ("explain", "ui", "views") for path in (ROOT / folder).rglob("*.py")
               if not {"engine", "small_models"} & set(path.relative_to(ROOT).parts)] + [ROOT / "app.py"]
    reads = {str(path.relative_to(ROOT)): found for path in outside if (found := architecture_reads(path.read_text()))}
    assert len(outside) > 30 and reads == {}


def limit_definitions(source: str) -> list[tuple[int, str]]:
    """(line, what) of every token/view cap assigned, and every cache size typed as a number."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign):
            found += [(node.lineno, t.id) for t in node.targets
                      if isinstance(t, ast.Name) and (t.id.endswith("_CAP") or t.id.endswith("_ENTRIES"))]
        elif isinstance(node, ast.keyword) and node.arg == "max_entries" and isinstance(node.value, ast.Constant):
            found.append((node.lineno, f"max_entries={node.value.value}"))
    return found


def test_the_checker_finds_typed_limits():
    source = "VIEW_CAP = 48\nMAX_ENTRIES = 9\n@st.cache_data(max_entries=64)\ndef f(): pass\n@st.cache_data(max_entries=limits.X)\ndef g(): pass\n"
    assert sorted(limit_definitions(source)) == [(1, "VIEW_CAP"), (2, "MAX_ENTRIES"), (3, "max_entries=64")]


def test_the_limits_are_set_in_explain_limits_alone():
    """Token caps, the view cap and cache sizes come from explain/limits.py (with their reasons);
    no cache in ui/ or views/ types its size as a number (a page's own display caps may stay there)."""
    shared = [*(ROOT / "explain").rglob("*.py"), ROOT / "ui" / "state.py", ROOT / "ui" / "results.py", ROOT / "app.py"]
    typed = {str(path.relative_to(ROOT)): found for path in shared
             if path.name != "limits.py" and (found := limit_definitions(path.read_text()))}
    pages = [*(ROOT / "ui").glob("*.py"), *(ROOT / "views").glob("*.py")]
    typed |= {str(path.relative_to(ROOT)): sizes for path in pages
              if (sizes := [f for f in limit_definitions(path.read_text()) if f[1].startswith("max_entries=")])}
    assert len(pages) > 20 and typed == {}


@pytest.mark.parametrize("package", ["explain", "explain/small_models", "explain/engine"])
def test_each_package_docstring_names_its_real_modules(package):
    """A module added or removed without its package's docstring saying so fails here."""
    folder = ROOT / package
    named = set(re.findall(r"`(\w+)(?:\.py)?/?`", ast.get_docstring(ast.parse((folder / "__init__.py").read_text()))))
    modules = {path.stem for path in folder.glob("*.py")} - {"__init__"}
    modules |= {path.name for path in folder.iterdir() if (path / "__init__.py").is_file()}
    assert modules <= named


def test_page_caches_take_the_model_not_its_name():
    """A cached wrapper in ui/ or views/ takes the LoadedModel, keyed by `ui.state.BY_MODEL_NAME`,
    instead of a name it would look up again with `get_model`."""
    wrong = []
    for path in [*(ROOT / "ui").glob("*.py"), *(ROOT / "views").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            decorators = [d for d in node.decorator_list if isinstance(d, ast.Call)
                          and isinstance(d.func, ast.Attribute) and d.func.attr in {"cache_data", "cache_resource"}]
            if not decorators or path.name == "state.py" and node.name == "get_model":
                continue
            takes_model = any(getattr(a.annotation, "id", getattr(a.annotation, "attr", None)) == "LoadedModel" for a in node.args.args)
            keyed = any(k.arg == "hash_funcs" and getattr(k.value, "id", None) == "BY_MODEL_NAME" for k in decorators[0].keywords)
            looks_up = any(isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", None)) == "get_model"
                           for n in ast.walk(node))
            if looks_up or takes_model != keyed:
                wrong.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert wrong == []
