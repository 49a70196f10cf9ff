"""A Streamlit visitor without a browser: the websocket conversation the frontend has, in Python.

`open_page` does what a browser tab does when it opens `/<page>?<query>`, up to the end of the
script run, and nothing after (no drawing, no JavaScript):
1. GET /_stcore/health, which sets the `_streamlit_xsrf` cookie (the frontend pings it first);
2. open ws://…/_stcore/stream with the subprotocols ["streamlit", <xsrf token>] (Streamlit
   repurposes the header to carry the token), the cookie, and an Origin header;
3. send one BackMsg `rerun_script` whose ClientState names the page (`page_name`, the URL path),
   the query string and the browser context, exactly as the frontend's first rerun does;
4. read ForwardMsgs (one serialized protobuf per binary frame) until a script run ends.

A run counts as the page's only if it ends with `FINISHED_SUCCESSFULLY` after the `navigation`
message named that page and after the expected element (a Plotly chart by default) arrived: a run
that stops early for a rerun is skipped, and a run that succeeds without the page's content (for
example the one-off reload the app sends while Streamlit is still in pages-directory mode) is an
error, as are `exception` elements, compile errors, a closed socket and the timeout.

`change_widget` then does what the frontend does when a learner moves one control: it sends a
BackMsg `rerun_script` whose WidgetStates hold that widget's id (taken from the element the server
sent, e.g. `Slider.id`) and new value (a slider's value travels as `double_array_value`, see
streamlit/elements/widgets/slider.py), with the page's `page_script_hash` so the same page reruns,
and the delta's `fragment_id` when the widget lives in an `st.fragment` (then only the fragment
reruns). Widgets left out keep their previous values on the server (SessionState falls back to the
last run's state), and a URL-bound widget's new state wins over the URL's initial value.
`click` presses a button the same way (its WidgetState carries `trigger_value=True`).

Every visit also records when each element type first arrived (`first_seen`, seconds after the
message was sent): e.g. when a page's first chart reached the browser, before the run went on.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.Common_pb2 import DoubleArray
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

XSRF_COOKIE = "_streamlit_xsrf"
NO_XSRF_TOKEN = "PLACEHOLDER_AUTH_TOKEN"  # what the frontend sends when it has no cookie
_TEXT_FIELDS = {"markdown": "body", "html": "body", "heading": "body", "code": "code_text", "alert": "body", "metric": "body"}


@dataclass
class PageVisit:
    """What one session received, up to the end of the run that should have rendered the page."""

    page: str
    seconds: float = float("nan")  # from the health request to the end of that run (or the failure)
    rendered: bool = False  # the run named the page and delivered its content
    error: str | None = None
    elements: Counter = field(default_factory=Counter)  # element type → count, in that run
    texts: list[str] = field(default_factory=list)  # markdown/html/heading/code/alert/metric bodies
    sliders: dict[str, "Widget"] = field(default_factory=dict)  # label → the slider the run showed
    buttons: dict[str, "Widget"] = field(default_factory=dict)  # label → the button the run showed
    first_seen: dict[str, float] = field(default_factory=dict)  # element type → s after the message was sent
    updates: dict[str, list[float]] = field(default_factory=dict)  # element's delta path → s of each draw
    page_script_hash: str = ""

    @property
    def ok(self) -> bool:
        return self.rendered and self.error is None


@dataclass(frozen=True)
class Widget:
    """What the server told the frontend about one widget: enough to send a change of its value."""

    id: str
    label: str
    fragment_id: str  # "" outside any st.fragment
    value: tuple[float, ...]


def page_query(**params: str) -> str:
    """A query string encoded like the browser's address bar (spaces as %20)."""
    return urlencode(params, quote_via=quote)


def _cookies(base_url: str) -> dict[str, str]:
    """The cookies the health answer sets: Streamlit's XSRF token, and a proxy's sticky-session one."""
    cookies: dict[str, str] = {}
    with urllib.request.urlopen(base_url + "/_stcore/health", timeout=60) as answer:
        for cookie in answer.headers.get_all("Set-Cookie") or []:
            found = re.match(r"\s*([^=;\s]+)=([^;]*)", cookie)
            if found:
                cookies[found.group(1)] = found.group(2)
    return cookies


def _rerun(base_url: str, page: str, query: str, widgets: WidgetStates | None = None,
           page_script_hash: str = "", fragment_id: str = "") -> bytes:
    """A `rerun_script` BackMsg as the frontend's sendRerunBackMsg builds it (first run: no widgets)."""
    state = ClientState(
        query_string=query,
        widget_states=widgets or WidgetStates(),
        page_name=page,  # the URL path; "" is the default page
        page_script_hash=page_script_hash,
        fragment_id=fragment_id,
        context_info=ContextInfo(
            timezone="UTC", timezone_offset=0, locale="en-US", url=f"{base_url}/{page}",
            is_embedded=False, color_scheme="light",
        ),
    )
    return BackMsg(rerun_script=state).SerializeToString()


class Session:
    """One visitor's websocket: `open` a page, then `change_widget` as often as wanted."""

    def __init__(self, base_url: str, *, timeout: float = 600) -> None:
        self.base_url, self.timeout = base_url, timeout
        self._connection = None
        self._ws = None
        self._page, self._query = "", ""
        self.last: PageVisit | None = None

    async def __aenter__(self) -> "Session":
        cookies = await asyncio.to_thread(_cookies, self.base_url)
        cookie_header = "; ".join(f"{name}={value}" for name, value in cookies.items())
        self._connection = connect(
            self.base_url.replace("http", "ws", 1) + "/_stcore/stream",
            subprotocols=["streamlit", cookies.get(XSRF_COOKIE, NO_XSRF_TOKEN)],
            origin=self.base_url,
            additional_headers={"Cookie": cookie_header} if cookies else None,
            max_size=None,  # a Plotly figure can exceed websockets' 1 MiB default
            ping_interval=None,  # the browser sends no pings; a busy server must not be dropped
            proxy=None,
            open_timeout=None,  # the overall timeout applies
        )
        self._ws = await self._connection.__aenter__()
        return self

    async def __aexit__(self, *exc) -> None:
        await self._connection.__aexit__(*exc)

    async def open(self, page: str, query: str = "", *, expect: str = "plotly_chart") -> PageVisit:
        """Open `/{page}?{query}` in this session, up to the end of the run that rendered it."""
        self._page, self._query = page, query
        return await self._run(_rerun(self.base_url, page, query), PageVisit(page=page), expect)

    async def change_widget(self, label: str, value: float, *, expect: str = "plotly_chart") -> PageVisit:
        """Move the slider labelled `label` (as the last run showed it) to `value`; time the rerun.

        `seconds` runs from sending the change to the end of the rerun (the page's or the fragment's).
        """
        if self.last is None or label not in self.last.sliders:
            shown = sorted(self.last.sliders) if self.last else []
            return PageVisit(page=self._page, error=f"no slider {label!r} in the last run (sliders: {shown})")
        widget = self.last.sliders[label]
        states = WidgetStates(widgets=[WidgetState(id=widget.id, double_array_value=DoubleArray(data=[value]))])
        message = _rerun(self.base_url, self._page, self._query, states, self.last.page_script_hash,
                         widget.fragment_id)
        return await self._run(message, PageVisit(page=self._page), expect, fragment=bool(widget.fragment_id))

    async def click(self, label: str, *, expect: str = "plotly_chart") -> PageVisit:
        """Press the button labelled `label` (as the last run showed it); time the rerun it starts."""
        if self.last is None or label not in self.last.buttons:
            shown = sorted(self.last.buttons) if self.last else []
            return PageVisit(page=self._page, error=f"no button {label!r} in the last run (buttons: {shown})")
        button = self.last.buttons[label]
        states = WidgetStates(widgets=[WidgetState(id=button.id, trigger_value=True)])
        message = _rerun(self.base_url, self._page, self._query, states, self.last.page_script_hash,
                         button.fragment_id)
        return await self._run(message, PageVisit(page=self._page), expect, fragment=bool(button.fragment_id))

    async def _run(self, message: bytes, visit: PageVisit, expect: str, fragment: bool = False) -> PageVisit:
        start = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                await self._ws.send(message)
                await _read_until_page_run_ends(self._ws, visit, expect, fragment, start)
        except TimeoutError:
            visit.error = f"no finished run after {self.timeout:.0f} s"
        except (OSError, WebSocketException) as err:
            visit.error = f"connection: {err!r}"
        visit.seconds = time.perf_counter() - start
        if visit.ok:
            if fragment:  # a fragment run resends only its own widgets: keep the page's others
                visit.sliders = {**self.last.sliders, **visit.sliders}
                visit.buttons = {**self.last.buttons, **visit.buttons}
                visit.page_script_hash = visit.page_script_hash or self.last.page_script_hash
            self.last = visit
        return visit


async def open_page(base_url: str, page: str, query: str = "", *, expect: str = "plotly_chart",
                    timeout: float = 600) -> PageVisit:
    """Open `{base_url}/{page}?{query}` as a new session; `expect` is an element type the page shows.

    `seconds` runs from the health request (the first thing a browser does) to the end of that run.
    """
    start = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            async with Session(base_url, timeout=timeout) as session:
                visit = await session.open(page, query, expect=expect)
    except TimeoutError:
        visit = PageVisit(page=page, error=f"no finished run after {timeout:.0f} s")
    except (OSError, WebSocketException) as err:
        visit = PageVisit(page=page, error=f"connection: {err!r}")
    visit.seconds = time.perf_counter() - start
    return visit


async def _read_until_page_run_ends(ws, visit: PageVisit, expect: str, fragment: bool = False,
                                    start: float | None = None) -> None:
    """Read ForwardMsgs until the run ends; a fragment run needs no navigation nor `expect` element.

    `start` (perf_counter) is when the message was sent: `first_seen` and `updates` count from it."""
    start = time.perf_counter() if start is None else start
    run_id: str | None = None
    on_page = False
    problems: list[str] = []
    async for frame in ws:
        msg = ForwardMsg()
        msg.ParseFromString(frame)
        kind = msg.WhichOneof("type")
        if kind == "new_session":  # a run starts: forget what an earlier run of the chain sent
            run_id, on_page, problems = msg.metadata.run.script_run_id, False, []
            visit.elements.clear()
            visit.texts.clear()
            visit.first_seen.clear()
            visit.updates.clear()
        elif kind == "navigation":
            wanted = {p.page_script_hash for p in msg.navigation.app_pages if p.url_pathname == visit.page}
            on_page = msg.navigation.page_script_hash in wanted
            visit.page_script_hash = msg.navigation.page_script_hash
        elif kind == "page_not_found":
            problems.append(f"page not found: {visit.page!r}")
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            element_type = element.WhichOneof("type")
            visit.elements[element_type] += 1
            now = time.perf_counter() - start
            visit.first_seen.setdefault(element_type, now)
            visit.updates.setdefault(f"{element_type}@{list(msg.metadata.delta_path)}", []).append(now)
            if element_type == "exception":
                problems.append(f"exception: {element.exception.type}: {element.exception.message}")
            elif element_type in _TEXT_FIELDS:
                visit.texts.append(getattr(getattr(element, element_type), _TEXT_FIELDS[element_type]))
            elif element_type == "slider" and not element.slider.options:  # options: a select_slider
                slider = element.slider
                visit.sliders[slider.label] = Widget(slider.id, slider.label, msg.delta.fragment_id,
                                                     tuple(slider.value or slider.default))
            elif element_type == "button":
                button = element.button
                visit.buttons[button.label] = Widget(button.id, button.label, msg.delta.fragment_id, ())
        elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
            problems.append(f"compile error: {msg.session_event.script_compilation_exception.message}")
        elif kind == "script_finished":
            finished_run = msg.metadata.run.script_run_id
            if run_id and finished_run and finished_run != run_id:
                continue  # the end of an earlier run, arriving late
            status = msg.script_finished
            done = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY if fragment else ForwardMsg.FINISHED_SUCCESSFULLY
            if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN or (
                    status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY and not fragment):
                continue  # st.rerun() or a fragment: the page's own run is still to come
            if status != done:
                problems.append(f"run ended with {ForwardMsg.ScriptFinishedStatus.Name(status)}")
            visit.rendered = fragment or (on_page and visit.elements[expect] > 0)
            if not visit.rendered and not problems:
                shown = ", ".join(f"{name}×{count}" for name, count in visit.elements.items()) or "nothing"
                problems.append(f"the run ended without the page's {expect} (it showed {shown})")
            visit.error = "; ".join(problems) or None
            return
    visit.error = "the server closed the connection before the run ended"
