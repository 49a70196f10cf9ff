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
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

XSRF_COOKIE = "_streamlit_xsrf"
NO_XSRF_TOKEN = "PLACEHOLDER_AUTH_TOKEN"  # what the frontend sends when it has no cookie
_TEXT_FIELDS = {"markdown": "body", "html": "body", "heading": "body", "code": "code_text", "alert": "body"}


@dataclass
class PageVisit:
    """What one session received, up to the end of the run that should have rendered the page."""

    page: str
    seconds: float = float("nan")  # from the health request to the end of that run (or the failure)
    rendered: bool = False  # the run named the page and delivered its content
    error: str | None = None
    elements: Counter = field(default_factory=Counter)  # element type → count, in that run
    texts: list[str] = field(default_factory=list)  # markdown/html/heading/code/alert bodies

    @property
    def ok(self) -> bool:
        return self.rendered and self.error is None


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


def _first_rerun(base_url: str, page: str, query: str) -> bytes:
    """The BackMsg the frontend sends once the websocket is open (see its sendRerunBackMsg)."""
    state = ClientState(
        query_string=query,
        widget_states=WidgetStates(),
        page_name=page,  # the URL path; "" is the default page
        context_info=ContextInfo(
            timezone="UTC", timezone_offset=0, locale="en-US", url=f"{base_url}/{page}",
            is_embedded=False, color_scheme="light",
        ),
    )
    return BackMsg(rerun_script=state).SerializeToString()


async def open_page(base_url: str, page: str, query: str = "", *, expect: str = "plotly_chart",
                    timeout: float = 600) -> PageVisit:
    """Open `{base_url}/{page}?{query}` as a new session; `expect` is an element type the page shows."""
    visit = PageVisit(page=page)
    start = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            cookies = await asyncio.to_thread(_cookies, base_url)
            cookie_header = "; ".join(f"{name}={value}" for name, value in cookies.items())
            async with connect(
                base_url.replace("http", "ws", 1) + "/_stcore/stream",
                subprotocols=["streamlit", cookies.get(XSRF_COOKIE, NO_XSRF_TOKEN)],
                origin=base_url,
                additional_headers={"Cookie": cookie_header} if cookies else None,
                max_size=None,  # a Plotly figure can exceed websockets' 1 MiB default
                ping_interval=None,  # the browser sends no pings; a busy server must not be dropped
                proxy=None,
                open_timeout=None,  # the overall timeout applies
            ) as ws:
                await ws.send(_first_rerun(base_url, page, query))
                await _read_until_page_run_ends(ws, visit, expect)
                visit.seconds = time.perf_counter() - start
    except TimeoutError:
        visit.error = f"no finished run after {timeout:.0f} s"
    except (OSError, WebSocketException) as err:
        visit.error = f"connection: {err!r}"
    if visit.seconds != visit.seconds:  # NaN: it failed, say how long that took
        visit.seconds = time.perf_counter() - start
    return visit


async def _read_until_page_run_ends(ws, visit: PageVisit, expect: str) -> None:
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
        elif kind == "navigation":
            wanted = {p.page_script_hash for p in msg.navigation.app_pages if p.url_pathname == visit.page}
            on_page = msg.navigation.page_script_hash in wanted
        elif kind == "page_not_found":
            problems.append(f"page not found: {visit.page!r}")
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            element_type = element.WhichOneof("type")
            visit.elements[element_type] += 1
            if element_type == "exception":
                problems.append(f"exception: {element.exception.type}: {element.exception.message}")
            elif element_type in _TEXT_FIELDS:
                visit.texts.append(getattr(getattr(element, element_type), _TEXT_FIELDS[element_type]))
        elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
            problems.append(f"compile error: {msg.session_event.script_compilation_exception.message}")
        elif kind == "script_finished":
            finished_run = msg.metadata.run.script_run_id
            if run_id and finished_run and finished_run != run_id:
                continue  # the end of an earlier run, arriving late
            status = msg.script_finished
            if status in (ForwardMsg.FINISHED_EARLY_FOR_RERUN, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
                continue  # st.rerun() or a fragment: the page's own run is still to come
            if status != ForwardMsg.FINISHED_SUCCESSFULLY:
                problems.append(f"run ended with {ForwardMsg.ScriptFinishedStatus.Name(status)}")
            visit.rendered = on_page and visit.elements[expect] > 0
            if not visit.rendered and not problems:
                shown = ", ".join(f"{name}×{count}" for name, count in visit.elements.items()) or "nothing"
                problems.append(f"the run ended without the page's {expect} (it showed {shown})")
            visit.error = "; ".join(problems) or None
            return
    visit.error = "the server closed the connection before the run ended"
