"""Site-level measurements for `python -m tools.bench` (run as a separate process).

These need a real `streamlit run` server, Chromium, a websocket client and AppTest, which the
`explain` library must not import; tools.bench runs this script and merges the JSON it prints:
- cold_start_s: fresh server, converted-model cache present → Home shows predictions in Chromium;
- first_start_s: the same with an empty cache (the GGUF is converted first);
- rss_after_all_pages_mb: the server's resident memory after one Chromium visitor has opened every
  page (which also takes Streamlit out of pages-directory mode, so deep links run app.py from then on);
- the classroom keys of issue 19 (`classroom`), on a fresh server with its start-up warm-up on, all
  measured server-side over the websocket (tools/streamlit_session.py) from sending the message to
  the moment named, so no browser drawing is included:
  home_top5_s (a new prompt on Home → its first chart, the top 5), home_continuation_s (→ the end
  of that run: the 20-token greedy continuation streamed, and the rest of the page);
  next_token_ms, generate10_s and generate10_first_token_ms (Sampling's buttons: → the end of the
  rerun; → the strip's first redraw after the click, i.e. the first chosen token);
  strategy_comparison_s and strategy_comparison_first_s (→ the end; → the progress bar's redraw
  right after the first strategy's samples were sent);
  beam_search_s (the button, default 3 beams × 4 steps), beam_controls_s (then the width slider
  +1 and the steps slider to the end, the slower of the two reruns);
  warm_up_s (from the first page's end until the server logged the warm-up's end),
  precomputed_preset_ms (then a new session on Softmax with a sidebar example, computed ahead) vs
  new_prompt_softmax_ms (a new session on Softmax with a prompt nobody asked for before);
  attention_80_tokens_s (a new session on Attention with an 80-token prompt → the end of the run);
- concurrent_p50_ms / concurrent_p95_ms / concurrent_errors / concurrent_rss_growth_mb:
  BENCH_SESSIONS (30) sessions at once, each opening the Softmax page (Home if absent) with its own
  prompt, right after the visit above. concurrent_client = "websocket": the sessions are not
  browsers but tools/streamlit_session.py, which speaks the frontend's websocket protocol, so the
  figures are the server's cost (connect → end of the run that rendered the page, Plotly chart
  received) without 30 Chromium renderers competing for the same cores. An `exception` element, a
  failed run or the timeout is an error; the RSS growth is the server's, after minus before;
- same_link_<page>_p50_ms / _p95_ms / _errors, for every page: BENCH_SESSIONS sessions opening the
  same link at once (one prompt, as a class following the teacher's projected link), the first
  time anyone opens it; same_link_<page>_again_*: the same crowd once more, right after, with
  everything computed and drawn (as when the teacher's own visit came first);
- different_prompts_<page>_p50_ms / _p95_ms / _errors, for Home, Softmax and Attention:
  BENCH_SESSIONS sessions at once, each with its own prompt (the concurrent_* keys above are the
  Softmax run of this kind, kept under their old names);
- control_change_<page>_<control>_p50_ms / _p95_ms / _errors: one session opens the page, then moves
  one slider CONTROL_CHANGES times over the websocket (tools/streamlit_session.Session.change_widget);
  each figure is the server's time from the change to the end of the rerun. Controls measured:
  CONTROLS (the Softmax temperature, the Attention layer and the Embeddings layer sliders);
- forwards_per_revisit: model forward calls when every page is opened again with the same prompt
  and model (AppTest, in-process; must be 0);
- soak_* (`--only soak`, not in the default run; `--soak-minutes`, default $BENCH_SOAK_MINUTES or
  20): after one Chromium visit of every page (soak_rss_start_mb is taken then), BENCH_SESSIONS
  websocket sessions keep changing controls for that long, each pausing SOAK_PAUSE_S between two
  changes: a SOAK_SLIDERS slider of its page, another page, or another example prompt
  (`soak_action`; opened as a new link, so sessions also come and go), each a run that must end
  with the page rendered. soak_rss_end_mb is the last
  sample while they ran, soak_rss_max_mb the highest (sampled every second), soak_rss_per_minute_mb
  the last sample of each minute, soak_rss_warm_mb the first sample 2 min in (SOAK_WARM_S: by
  then the class has filled most caches) and soak_rss_drift_from_warm_mb the end minus it, beside soak_rss_drift_mb
  (the end minus the start), soak_rss_after_close_mb 5 s after every session closed and
  soak_rss_after_sessions_expired_mb once Streamlit has dropped the closed sessions (after
  server.disconnectedSessionTTL: until then it keeps up to 128 of them, for reconnecting);
  soak_errors as for the crowds (a session reconnects after one); soak_changes_by_kind counts the
  reruns that succeeded (the first "open" of each session included). Target: the end within
  ±50 MB of the start, 0 errors.

`--only PART` runs some parts; `--pages home,softmax` limits the crowd part to those pages (the
visit, every crowd, the control changes) and the classroom part to the keys of those pages (Home's
two always), e.g. `--only crowd --pages home` for different_prompts_home_* alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.streamlit_session import PageVisit, Session, open_page, page_query  # noqa: E402
from websockets.exceptions import WebSocketException  # noqa: E402
from ui.state import LANGUAGE_PRESETS, PRESETS  # noqa: E402
from ui.walk import WALK  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

PAGES = [step.stem for step in WALK]
# Home's live top-5 chart (key "top5"), drawn: not the precomputed snapshot's chart shown while loading.
PREDICTION_SELECTOR = '.st-key-top5 svg text'
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "30"))
CLASSROOM_PROMPT = "My grandmother keeps a small garden behind her house, where she grows"
ATTENTION_80_PROMPT = (  # 80 tokens with SmolLM2's tokenizer (tests/test_site_bench_client.py checks it)
    "The history of the printing press begins in the fifteenth century, when a goldsmith in Mainz combined "
    "movable metal type with an oil-based ink and a wooden screw press. Within fifty years, printers in more "
    "than two hundred cities had produced millions of books, and ideas began to travel faster than ever "
    "before across the whole of Europe and beyond its borders, changing how people learned, argued and prayed "
    "every"
)
WARMED_PRESET = "Chinese"  # a sidebar example the classroom run opens only after the warm-up
SAME_LINK_PROMPT = "The cat sat on the mat because it was"
DIFFERENT_PROMPT_PAGES = ("home", "softmax", "attention")
# page → (key suffix, slider label, values it is moved to in turn)
CONTROLS = {
    "softmax": ("temperature", "Temperature", (0.5, 2.0, 1.5, 0.8, 1.2)),
    "attention": ("layer", "Layer", (3, 10, 20, 7, 15)),
    "embeddings": ("layer", "Layer", (2, 25, 10, 5, 20)),
}
CONTROL_CHANGES = len(next(iter(CONTROLS.values()))[2])
# The soak: SESSIONS sessions keep changing controls for SOAK_MINUTES (flag --soak-minutes).
SOAK_MINUTES = float(os.environ.get("BENCH_SOAK_MINUTES", "20"))
SOAK_PAUSE_S = (0.5, 3.0)
# The soak's second baseline (soak_rss_warm_mb): in the runs so far the rise came in the first one or two
# minutes, while the class fills the caches (each bounded by its budget, explain/limits.py); the drift
# after it is reported beside the drift from the start, not instead of it.
SOAK_WARM_S = 120  # a session waits this long (uniform) between two changes, as a learner reads
# page → (slider label, values it may be moved to): CONTROLS' sliders and others whose values make new
# cache entries (a bertviz head view per layer, sinusoids per length, a RoPE demo per layer and head).
SOAK_SLIDERS: dict[str, tuple[tuple[str, tuple[float, ...]], ...]] = {
    "softmax": (CONTROLS["softmax"][1:], ("Tokens to show (top N)", (5, 15, 30))),
    "attention": (CONTROLS["attention"][1:], ("Head", (0, 4, 8)), ("Layer (scores)", (1, 12, 29))),
    "embeddings": (CONTROLS["embeddings"][1:], ("Positions", (10, 64, 120, 200))),
    "inside_layer": (("Layer (RoPE)", (0, 6, 17, 29)), ("Query head", (0, 3, 8)), ("Layer (feed-forward)", (2, 15, 28))),
    "sampling": (("Beam width", (2, 3, 4)), ("Steps", (2, 4, 6))),
}
# Every sidebar example, in every language: a class clicking examples, the prompts a lesson uses.
SOAK_PROMPTS = list(dict.fromkeys([*PRESETS.values(), *(p for own in LANGUAGE_PRESETS.values() for p in own.values())]))


def _start_server(env: dict, log=subprocess.DEVNULL) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, **env, "HF_HUB_OFFLINE": "1"},
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            return process, url, started
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("streamlit exited")
            time.sleep(0.05)


def _stop(process: subprocess.Popen) -> None:
    """Terminate the server; kill it if it has not exited within 30 s (a loaded machine is slow)."""
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _page_url(url: str, page: str, prompt: str | None = None) -> str:
    path = "" if page == "home" else page
    return f"{url}/{path}" + (f"?prompt={quote(prompt)}" if prompt else "")


async def _wait_idle(page, timeout_ms: int = 600_000) -> None:
    await page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=timeout_ms)
    await page.wait_for_function(
        """() => { const app = document.querySelector('[data-testid="stApp"]');
                   return app && app.getAttribute('data-test-script-state') === 'notRunning'
                       && document.querySelectorAll('[data-testid="stSkeleton"]').length === 0; }""",
        timeout=timeout_ms,
    )


async def _start_to_predictions(env: dict) -> float:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        process, url, started = _start_server(env)
        try:
            page = await browser.new_page()
            await page.goto(url, timeout=600_000)
            await page.wait_for_selector(PREDICTION_SELECTOR, timeout=600_000)
            return time.perf_counter() - started
        finally:
            _stop(process)
            await browser.close()


async def _visit_all_then_crowd(pages: list[str]) -> dict:
    from playwright.async_api import async_playwright

    results: dict = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        process, url, _ = _start_server({})
        try:
            await _visit_every_page(browser, url, pages)
            if pages == PAGES:
                results["rss_after_all_pages_mb"] = round(_rss_mb(process.pid))

            crowd_page = "softmax" if "softmax" in pages else "home"
            before = _rss_mb(process.pid)
            crowd = await _crowd(url, crowd_page, [f"Student number {i} thinks the answer is" for i in range(SESSIONS)])
            results["concurrent_page"] = crowd_page
            results.update({f"concurrent_{key}": value for key, value in crowd.items()})
            results["concurrent_rss_growth_mb"] = round(_rss_mb(process.pid) - before)
            results["concurrent_client"] = "websocket"
            for name in pages:
                crowd = await _crowd(url, name, [SAME_LINK_PROMPT] * SESSIONS)
                results.update({f"same_link_{name}_{key}": value for key, value in crowd.items()})
                again = await _crowd(url, name, [SAME_LINK_PROMPT] * SESSIONS)
                results.update({f"same_link_{name}_again_{key}": value for key, value in again.items()})
            for name in DIFFERENT_PROMPT_PAGES:
                if name == crowd_page or name not in pages:
                    continue  # the concurrent_* keys are this run for the Softmax page
                prompts = [f"Pupil {i} on the {name} page says the sky is" for i in range(SESSIONS)]
                crowd = await _crowd(url, name, prompts)
                results.update({f"different_prompts_{name}_{key}": value for key, value in crowd.items()})
            if crowd_page in DIFFERENT_PROMPT_PAGES:
                for key in ("p50_ms", "p95_ms", "errors"):
                    results[f"different_prompts_{crowd_page}_{key}"] = results[f"concurrent_{key}"]
            for name, (control, label, values) in CONTROLS.items():
                if name in pages:
                    changes = await _control_changes(url, name, label, values)
                    results.update({f"control_change_{name}_{control}_{key}": value for key, value in changes.items()})
        finally:
            _stop(process)
            await browser.close()
    return results


async def _visit_every_page(browser, url: str, pages: list[str] = PAGES) -> None:
    """One Chromium visitor opens every page (of `pages`) in turn, each until its run has ended."""
    page = await browser.new_page()
    for name in pages:
        await page.goto(_page_url(url, name), timeout=600_000)
        await _wait_idle(page)
    await page.close()


def _summary(seconds: list[float], errors: int) -> dict:
    times = sorted(t * 1000 for t in seconds)
    return {"p50_ms": round(statistics.median(times)), "p95_ms": round(times[int(0.95 * (len(times) - 1))]),
            "errors": errors}


async def _crowd(url: str, page: str, prompts: list[str]) -> dict:
    """One session per prompt, all at once, on `page`: connect → page rendered, p50/p95/errors."""
    path = "" if page == "home" else page
    visits = await asyncio.gather(*(open_page(url, path, page_query(prompt=p)) for p in prompts))
    for visit in visits:
        if not visit.ok:
            print(f"{page}: session failed: {visit.error}", file=sys.stderr)
    return _summary([visit.seconds for visit in visits], sum(not visit.ok for visit in visits))


async def _control_changes(url: str, page: str, label: str, values: tuple[float, ...]) -> dict:
    """One session on `page` moves the slider `label` to each of `values`: time per rerun."""
    async with Session(url) as session:
        opened = await session.open("" if page == "home" else page, page_query(prompt=SAME_LINK_PROMPT))
        if not opened.ok:
            print(f"{page}: could not open for control changes: {opened.error}", file=sys.stderr)
            return {"p50_ms": None, "p95_ms": None, "errors": len(values)}
        changes = [await session.change_widget(label, value) for value in values]
    for change in changes:
        if not change.ok:
            print(f"{page}: change of {label!r} failed: {change.error}", file=sys.stderr)
    return _summary([change.seconds for change in changes], sum(not change.ok for change in changes))


def soak_action(rng: random.Random, page: str, shown: set[str]) -> tuple[str, object]:
    """A learner's next change on `page`: ("slider", (label, value)) for one of its SOAK_SLIDERS that
    the last run showed (`shown`: labels), half the time when there is one; else ("page", another
    page, same prompt) or ("prompt", an example)."""
    sliders = [(label, values) for label, values in SOAK_SLIDERS.get(page, ()) if label in shown]
    if sliders and rng.random() < 0.5:
        label, values = rng.choice(sliders)
        return "slider", (label, rng.choice(values))
    if rng.random() < 0.5:
        return "page", rng.choice([name for name in PAGES if name != page])
    return "prompt", rng.choice(SOAK_PROMPTS)


def rss_summary(start_mb: float, samples: list[tuple[float, float]], warm_s: float = SOAK_WARM_S) -> dict:
    """The soak's memory keys from (seconds since the start, RSS MB) samples taken while it ran:
    the drift from the start, and from the first sample at `warm_s` or later (None if it ran less)."""
    per_minute: dict[int, float] = {}
    for seconds, mb in samples:
        per_minute[int(seconds // 60)] = mb  # the last sample of each minute
    end = samples[-1][1] if samples else start_mb
    warm = next((mb for seconds, mb in samples if seconds >= warm_s), None)
    return {"rss_start_mb": round(start_mb), "rss_end_mb": round(end),
            "rss_max_mb": round(max([start_mb, *(mb for _, mb in samples)])),
            "rss_drift_mb": round(end - start_mb), "rss_per_minute_mb": [round(mb) for mb in per_minute.values()],
            "rss_warm_mb": None if warm is None else round(warm),
            "rss_drift_from_warm_mb": None if warm is None else round(end - warm)}


async def _soak_session(url: str, index: int, deadline: float, tally: dict) -> None:
    """One learner until `deadline`: a page with an example, then changes (`soak_action`) with
    pauses. Another example is opened as a new link (a new session: the frontend would send the
    prompt box's new value, which this client cannot; a deep link with `?prompt=` seeds the box
    only in a new session). A failed change is an error; the learner then reconnects."""
    rng = random.Random(index)
    page, prompt, opening = rng.choice(PAGES), rng.choice(SOAK_PROMPTS), "open"
    while time.perf_counter() < deadline:
        what = f"{page}: {opening} {prompt!r}"
        try:
            async with Session(url) as session:
                ok = _tallied(await session.open("" if page == "home" else page, page_query(prompt=prompt)),
                              opening, what, tally)
                while ok and time.perf_counter() < deadline:
                    await asyncio.sleep(rng.uniform(*SOAK_PAUSE_S))
                    kind, value = soak_action(rng, page, set(session.last.sliders))
                    if kind == "prompt":
                        prompt, opening = value, kind
                        break
                    what = f"{page}: {kind} {value!r}"
                    if kind == "slider":
                        visit = await session.change_widget(*value)
                    else:
                        page = value
                        visit = await session.open("" if page == "home" else page, page_query(prompt=prompt))
                    ok = _tallied(visit, kind, what, tally)
        except (OSError, WebSocketException) as err:
            ok = _tallied(PageVisit(page=page, error=f"connection: {err!r}"), opening, what, tally)
        if not ok:
            opening = "open"
            await asyncio.sleep(SOAK_PAUSE_S[1])


def _tallied(visit: PageVisit, kind: str, what: str, tally: dict) -> bool:
    """Count a change (by kind) or an error (printing the first few); True if it succeeded."""
    if visit.ok:
        tally[kind] = tally.get(kind, 0) + 1
        return True
    tally["errors"] = tally.get("errors", 0) + 1
    if tally["errors"] <= 10:
        print(f"soak: {what}: {visit.error}", file=sys.stderr)
    return False


async def _sample_rss(pid: int, start: float, samples: list, stop: asyncio.Event, every_s: float = 1.0) -> None:
    while not stop.is_set():
        samples.append((time.perf_counter() - start, _rss_mb(pid)))
        try:
            await asyncio.wait_for(stop.wait(), every_s)
        except TimeoutError:
            pass


async def _soak(minutes: float) -> dict:
    """SESSIONS learners change controls across the pages for `minutes` on one server (after one
    Chromium visit of every page, where the start RSS is taken); memory, changes and errors."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        process, url, _ = _start_server({})
        try:
            await _visit_every_page(browser, url)
            await browser.close()
            start_mb, start = _rss_mb(process.pid), time.perf_counter()
            samples: list[tuple[float, float]] = []
            tally: dict = {}
            stop = asyncio.Event()
            sampler = asyncio.create_task(_sample_rss(process.pid, start, samples, stop))
            deadline = start + 60 * minutes
            await asyncio.gather(*(_soak_session(url, i, deadline, tally) for i in range(SESSIONS)))
            stop.set()
            await sampler
            await asyncio.sleep(5)
            after_close = _rss_mb(process.pid)
            after_expiry = await _rss_after_sessions_expire(url, process.pid)
        finally:
            _stop(process)
    errors = tally.pop("errors", 0)
    return {"minutes": minutes, "sessions": SESSIONS, **rss_summary(start_mb, samples),
            "rss_after_close_mb": round(after_close), "rss_after_sessions_expired_mb": round(after_expiry),
            "errors": errors, "changes": sum(tally.values()), "changes_by_kind": tally}


async def _rss_after_sessions_expire(url: str, pid: int) -> float:
    """RSS once the closed sessions are gone. Streamlit keeps up to 128 disconnected sessions, each
    with its session state, for server.disconnectedSessionTTL (120 s by default) so a dropped tab
    can reconnect; its store drops expired ones only when touched, so one visit after the TTL does."""
    from streamlit import config

    await asyncio.sleep(config.get_option("server.disconnectedSessionTTL") + 10)
    await open_page(url, "", page_query(prompt=SOAK_PROMPTS[0]))
    await asyncio.sleep(5)
    return _rss_mb(pid)


async def _classroom(pages: list[str]) -> dict:
    """Issue 19's keys on a fresh server, warm-up on (see the module docstring for each key); of
    the other pages' keys, only those of `pages`."""
    results: dict = {}
    with tempfile.NamedTemporaryFile("w+", prefix="llm-explainer-server-", suffix=".log") as log:
        process, url, _ = _start_server({"LLM_EXPLAINER_WARMUP": "1"}, log)
        try:
            async with Session(url) as first:  # the first visit loads the model, then the warm-up starts
                if not (await first.open("", page_query(prompt=SAME_LINK_PROMPT))).ok:
                    raise RuntimeError("the first Home visit failed")
            served = time.perf_counter()
            async with Session(url) as home:
                visit = _checked(await home.open("", page_query(prompt=CLASSROOM_PROMPT)), "Home")
                results["home_top5_s"] = round(visit.first_seen["plotly_chart"], 2)
                results["home_continuation_s"] = round(visit.seconds, 2)
            if "sampling" in pages:
                results |= await _sampling_buttons(url)
            if "softmax" in pages:
                results["warm_up_s"] = round(await _warm_up_end(log.name, process) - served, 1)
                async with Session(url) as softmax:
                    visit = _checked(await softmax.open("softmax", page_query(prompt=PRESETS[WARMED_PRESET])), "preset")
                    results["precomputed_preset_ms"] = round(visit.seconds * 1000)
                async with Session(url) as softmax:
                    visit = _checked(await softmax.open("softmax", page_query(prompt=CLASSROOM_PROMPT + " roses")),
                                     "new")
                    results["new_prompt_softmax_ms"] = round(visit.seconds * 1000)
            if "attention" not in pages:
                return results
            async with Session(url) as attention:
                visit = _checked(await attention.open("attention", page_query(prompt=ATTENTION_80_PROMPT)), "Attention")
                results["attention_80_tokens_s"] = round(visit.seconds, 2)
        finally:
            _stop(process)
    return results


async def _sampling_buttons(url: str) -> dict:
    """Sampling with a new prompt: Next token, Generate 10, Compare strategies, beam search and its sliders."""
    results: dict = {}
    async with Session(url) as sampling:
        _checked(await sampling.open("sampling", page_query(prompt=CLASSROOM_PROMPT)), "Sampling")
        results["next_token_ms"] = round(_checked(await sampling.click("Next token ▶"), "Next token").seconds * 1000)
        visit = _checked(await sampling.click("Generate 10 ⏩"), "Generate 10")
        strip = max((times for path, times in visit.updates.items() if path.startswith("html@")), key=len)
        results["generate10_s"] = round(visit.seconds, 2)
        results["generate10_first_token_ms"] = round(strip[1] * 1000)  # [0]: the strip before the click
        visit = _checked(await sampling.click("Compare strategies ▶"), "Compare strategies")
        results["strategy_comparison_s"] = round(visit.seconds, 2)
        # The progress bar is redrawn after each strategy's samples are shown: its 2nd draw follows the first.
        progress = max((times for path, times in visit.updates.items() if path.startswith("progress@")), key=len)
        results["strategy_comparison_first_s"] = round(progress[1] if len(progress) > 1 else visit.seconds, 2)
        results["beam_search_s"] = round(_checked(await sampling.click("Run beam search ▶"), "beam").seconds, 2)
        moves = [_checked(await sampling.change_widget("Beam width", 4), "width").seconds,
                 _checked(await sampling.change_widget("Steps", 6), "steps").seconds]
        results["beam_controls_s"] = round(max(moves), 2)
    return results


def _checked(visit, what: str):
    if not visit.ok:
        raise RuntimeError(f"{what}: {visit.error}")
    return visit


async def _warm_up_end(log_path: str, process: subprocess.Popen, timeout: float = 900) -> float:
    """When the server's log says the start-up warm-up ended (ui.startup logs it)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if re.search(r"warm-up: \d+ prompts in", Path(log_path).read_text(errors="replace")):
            return time.perf_counter()
        if process.poll() is not None:
            raise RuntimeError("streamlit exited during the warm-up")
        await asyncio.sleep(0.2)
    raise RuntimeError("the warm-up did not end")


def forwards_per_revisit() -> int:
    """Open every page, then open them all again with the same prompt: count forward calls."""
    from streamlit.testing.v1 import AppTest

    from explain.engine import models
    from ui import startup, state

    from explain.engine import fast_decode

    os.environ[startup.WARMUP_ENV] = "0"  # only the visits' own forwards are counted
    lm = state.get_model(models.EMBEDDED_MODEL)
    calls = 0
    original_forward = lm.model.forward
    # The lean decoder's prompt passes and steps (one row or batched) are forwards too.
    original_prefill, original_step = fast_decode.prefill, fast_decode.decode_step

    def counting_forward(*args, **kwargs):
        nonlocal calls
        calls += 1
        return original_forward(*args, **kwargs)

    def counting(original):
        def count(*args, **kwargs):
            nonlocal calls
            calls += 1
            return original(*args, **kwargs)
        return count

    def visit_all() -> None:
        for name in PAGES:
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
            at.session_state["prompt"] = "The cat sat on the mat because it was"
            at.switch_page(f"views/{name}.py")
            at.run()

    lm.model.forward = counting_forward
    fast_decode.prefill, fast_decode.decode_step = counting(original_prefill), counting(original_step)
    try:
        visit_all()
        calls = 0
        visit_all()
    finally:
        lm.model.forward = original_forward
        fast_decode.prefill, fast_decode.decode_step = original_prefill, original_step
    return calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["cold", "classroom", "crowd", "revisit", "soak"], action="append",
                        help="run only these parts (repeatable; default: all but soak)")
    parser.add_argument("--pages", type=lambda text: [p for p in text.split(",") if p],
                        help="comma-separated page stems the crowd and classroom parts cover (default: every page)")
    parser.add_argument("--soak-minutes", type=float, default=SOAK_MINUTES,
                        help="how long the soak runs (default: $BENCH_SOAK_MINUTES or 20)")
    args = parser.parse_args(argv)
    parts = set(args.only or ["cold", "classroom", "crowd", "revisit"])
    pages = PAGES if args.pages is None else [p for p in PAGES if p in args.pages]
    if args.pages is not None and len(pages) != len(args.pages):
        parser.error(f"--pages: unknown page among {args.pages}; the pages are {PAGES}")
    results: dict = {}
    if "cold" in parts:
        results["cold_start_s"] = round(asyncio.run(_start_to_predictions({})), 2)
        with tempfile.TemporaryDirectory(prefix="llm-explainer-empty-cache-") as empty:
            results["first_start_s"] = round(asyncio.run(_start_to_predictions({"LLM_EXPLAINER_CACHE": empty})), 2)
    if "classroom" in parts:
        results.update(asyncio.run(_classroom(pages)))
    if "crowd" in parts:
        results.update(asyncio.run(_visit_all_then_crowd(pages)))
    if "revisit" in parts:
        results["forwards_per_revisit"] = forwards_per_revisit()
    if "soak" in parts:
        results.update({f"soak_{key}": value for key, value in asyncio.run(_soak(args.soak_minutes)).items()})
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
