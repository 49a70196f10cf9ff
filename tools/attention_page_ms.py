"""First render of the Attention page for a new prompt, model already cached (for tools.bench).

Run in its own process because it needs Streamlit's AppTest, which the explain library never imports.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Time the page alone: no background warm-up competing with it for the cores.
os.environ.setdefault("LLM_EXPLAINER_WARMUP", "0")

from streamlit.testing.v1 import AppTest  # noqa: E402


def render_ms(prompt: str) -> float:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.session_state["prompt"] = prompt
    at.switch_page("views/attention.py")
    start = time.perf_counter()
    at.run()
    assert not at.exception, at.exception
    return (time.perf_counter() - start) * 1000


render_ms("Warm up: this loads the model into the app's cache.")
print(render_ms(sys.argv[1]))
