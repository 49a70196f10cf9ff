"""The layout's rules, checked: the running site never imports the offline tools."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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
