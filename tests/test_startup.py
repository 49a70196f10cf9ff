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
