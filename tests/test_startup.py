"""Process-wide settings happen in one explicit start-up call (app.py), never on import."""

import subprocess
import sys

_PROBE = """
import sys, torch
torch.set_num_threads(1)
import explain.engine.models, ui.state
before = ("pandas" in sys.modules, torch.get_num_threads())
from ui import startup
startup.configure_server_process()
print(before, ("pandas" in sys.modules, torch.get_num_threads()))
"""


def test_importing_the_library_and_ui_changes_nothing_until_start_up_runs():
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True,
        env={"LLM_EXPLAINER_THREADS": "2", "PATH": "/usr/bin:/bin"},
    ).stdout.strip()
    assert out == "(False, 1) (True, 2)"


_WAIT_PROBE = """
import os, sys
import streamlit
from ui import startup
assert "torch" not in sys.modules  # app.py's first lines load no torch before the start-up call
startup.configure_server_process()
print(os.environ["OMP_WAIT_POLICY"])
"""


def test_start_up_makes_openmp_threads_wait_passively_unless_told_otherwise():
    env = {"PATH": "/usr/bin:/bin"}
    passive = subprocess.run([sys.executable, "-c", _WAIT_PROBE], capture_output=True, text=True, check=True, env=env)
    assert passive.stdout.strip() == "PASSIVE"
    told = subprocess.run([sys.executable, "-c", _WAIT_PROBE], capture_output=True, text=True, check=True,
                          env=env | {"OMP_WAIT_POLICY": "ACTIVE"})
    assert told.stdout.strip() == "ACTIVE"


def test_streamlit_runs_no_full_garbage_collection_after_every_script_run():
    """With the caches full, the collection after each run cost more than the page itself when 30
    visitors opened the same link (docs/performance-history.md); Python's own collector still runs."""
    import tomllib

    from tests.browser import ROOT

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
