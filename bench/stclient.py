"""A Streamlit session without a browser: the websocket protocol the browser's bundle speaks, on ``websockets``.

    async with Session("http://127.0.0.1:8501") as s:
        first = await s.open()                       # the page, as a browser's first script run
        run = await s.set("noise", 2)                # move the widget keyed "noise", as a slider drag would
        run.seconds, run.received, run.problems      # send -> script_finished, bytes, exceptions/error boxes

What the browser does, and this does the same (read from the frontend bundle and checked against a
real Chromium's frames, ``bench/serve_load.py --validate``):

- ``GET /_stcore/health`` sets the ``_streamlit_xsrf`` cookie; the websocket ``/_stcore/stream`` is
  opened with that cookie, an ``Origin`` header and the subprotocols ``["streamlit", <cookie value>]``
  (a third entry, a session id, asks the server to resume that session after a reconnect).
- The first ``BackMsg.rerun_script`` carries the query string, no widget states and an empty page hash;
  the server answers with ``new_session``, the page's deltas and ``script_finished``.
- A widget change is a ``rerun_script`` with every widget's current value (``WidgetStates``, the way the
  browser's widget manager holds them: taken from the element when first drawn or when the server sets it,
  kept as the user left it when the element is drawn again; sliders as ``double_array_value``, integer number inputs as
  ``int_value``, select boxes and radios as their option's label, toggles as ``bool_value``; buttons,
  uploads and components only once used), the page's hash, the hashes of the cacheable messages it
  holds (the server then sends a ``ref_hash`` instead of the message) and, for a widget inside an
  ``st.fragment``, that fragment's id. Done is ``script_finished``.

Every connection is to the URL given (loopback in the benchmarks and tests); nothing else is contacted.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

XSRF_COOKIE = "_streamlit_xsrf"
WIDGETS = ("slider", "number_input", "selectbox", "radio", "checkbox")  # the ones whose values the browser always sends
FINISHED = {0: "finished", 1: "compile error", 2: "stopped early for a rerun", 3: "fragment finished"}
KEEP_RUNS = 3  # cached messages not seen in this many runs are dropped, as the browser's cache ages them out


@dataclass
class Widget:
    id: str
    kind: str
    state: WidgetState
    fragment_id: str
    options: tuple[str, ...] = ()
    shown: bool = True  # False inside a popover: the browser renders (and reports) its widgets only once it is opened


@dataclass
class Run:
    """One script run as the client saw it."""

    seconds: float  # rerun_script sent -> script_finished received
    received: int = 0  # bytes of ForwardMsgs
    messages: int = 0
    status: str = ""  # FINISHED[...] of script_finished
    problems: list[str] = field(default_factory=list)  # exceptions and error boxes on the page
    elements: list = field(default_factory=list)  # (type, element proto) of this run's new elements, in order

    def element(self, kind: str, key: str | None = None):
        """The first element of this kind drawn in this run (with this widget key, if given), or None."""
        for t, e in self.elements:
            if t == kind and (key is None or getattr(getattr(e, t), "id", "").endswith(f"-{key}")):
                return getattr(e, t)
        return None


def current_state(kind: str, proto) -> WidgetState:
    """The value the browser's widget manager holds for a widget just drawn (its set value, else its default)."""
    w = WidgetState(id=proto.id)
    if kind == "slider":
        w.double_array_value.data[:] = list(proto.value if proto.set_value else proto.default)
    elif kind == "number_input":
        value = proto.value if proto.set_value else proto.default
        if proto.data_type == proto.INT:
            w.int_value = int(value)
        else:
            w.double_value = float(value)
    elif kind in ("selectbox", "radio"):
        w.string_value = proto.raw_value if proto.set_value else (proto.options[proto.default] if proto.options else "")
    elif kind == "checkbox":
        w.bool_value = proto.value if proto.set_value else proto.default
    return w


def run(coroutine, timeout: float = 300.0):
    """Run a coroutine of sessions to its end on a fresh event loop in a thread of its own, and return its result:
    callable where a loop already runs in this thread (Playwright's sync API keeps one)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="stclient") as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(coroutine, timeout)).result()


class Session:
    """One browser tab's session on a Streamlit server, without the browser."""

    def __init__(self, base_url: str, query: str = "", timeout: float = 120.0, cookies: dict[str, str] | None = None,
                 resume: str | None = None):
        self.base = base_url.rstrip("/")
        self.query = query
        self.timeout = timeout
        self.cookies = dict(cookies or {})  # e.g. a proxy's stickiness cookie, kept like a browser keeps it
        self.resume = resume  # a session id to resume (the browser's reconnect)
        self.session_id = ""
        self.page_hash = ""
        self.widgets: dict[str, Widget] = {}  # by id
        self.popovers: set[tuple[int, ...]] = set()  # delta paths of the popover blocks (closed: their widgets unsent)
        self.cache: dict[str, tuple[int, ForwardMsg]] = {}  # hash -> (run it was last seen in, message)
        self.runs = 0
        self.ws = None
        self.sent: BackMsg | None = None
        self.url = ""  # the page URL the context says the browser is on

    async def __aenter__(self) -> "Session":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    def _health(self) -> None:
        request = urllib.request.Request(f"{self.base}/_stcore/health", headers=self._cookie_header())
        with urllib.request.urlopen(request, timeout=30) as r:
            for header in r.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value

    def _cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        await asyncio.to_thread(self._health)
        parts = urlsplit(self.base)
        scheme = "wss" if parts.scheme == "https" else "ws"
        protocols = ["streamlit", self.cookies.get(XSRF_COOKIE, "")] + ([self.resume] if self.resume else [])
        self.url = f"{self.base}/"
        self.ws = await connect(f"{scheme}://{parts.netloc}{parts.path}/_stcore/stream", subprotocols=protocols,
                                origin=f"{parts.scheme}://{parts.netloc}", additional_headers=self._cookie_header(),
                                max_size=None, compression=None, open_timeout=30, ping_interval=None)

    async def open(self) -> Run:
        """Connect and run the page as a browser's first load does."""
        if self.ws is None:
            await self.connect()
        return await self._rerun(widgets=False, fragment_id="")

    async def set(self, key: str, value) -> Run:
        """Give the widget with user key ``key`` this value (a slider's number, an option's label, ...) and rerun
        as the browser does: every widget's value, and the widget's fragment."""
        widget = self.widget(key)
        w = widget.state
        kind = w.WhichOneof("value")
        if kind == "double_array_value":
            w.double_array_value.data[:] = [float(value)]
        elif kind == "int_value":
            w.int_value = int(value)
        elif kind == "double_value":
            w.double_value = float(value)
        elif kind == "string_value":
            w.string_value = str(value)
        elif kind == "bool_value":
            w.bool_value = bool(value)
        else:
            raise ValueError(f"widget {key!r} holds {kind}, which this client cannot set")
        return await self._rerun(widgets=True, fragment_id=widget.fragment_id)

    def widget(self, key: str) -> Widget:
        for widget in self.widgets.values():
            if widget.id.endswith(f"-{key}"):
                return widget
        raise KeyError(f"no widget keyed {key!r} on the page (seen: {sorted(w.id.rsplit('-', 1)[-1] for w in self.widgets.values())})")

    def value(self, key: str):
        w = self.widget(key).state
        v = getattr(w, w.WhichOneof("value"))
        return v.data[0] if w.WhichOneof("value") == "double_array_value" else v

    def back_msg(self, widgets: bool, fragment_id: str) -> BackMsg:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.page_script_hash = self.page_hash
        cs.fragment_id = fragment_id
        cs.cached_message_hashes[:] = list(self.cache)
        cs.context_info.timezone = "UTC"
        cs.context_info.locale = "en-US"
        cs.context_info.url = self.url
        cs.context_info.color_scheme = "light"
        if widgets:
            cs.widget_states.widgets.extend(w.state for w in self.widgets.values() if w.shown)
        return msg

    async def _rerun(self, widgets: bool, fragment_id: str) -> Run:
        self.runs += 1
        self.sent = self.back_msg(widgets, fragment_id)  # the last BackMsg sent, as it went
        data = self.sent.SerializeToString()
        t0 = time.perf_counter()
        await self.ws.send(data)
        run = Run(0.0)
        async with asyncio.timeout(self.timeout):
            while True:
                raw = await self.ws.recv()
                run.received += len(raw)
                run.messages += 1
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                if self._take(msg, run):
                    break
        run.seconds = time.perf_counter() - t0
        self.cache = {h: (seen, m) for h, (seen, m) in self.cache.items() if self.runs - seen < KEEP_RUNS}
        return run

    def _take(self, msg: ForwardMsg, run: Run) -> bool:
        """Fold one ForwardMsg into the session; True when it ends the run."""
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            cached = self.cache.get(msg.ref_hash)
            if cached is None:
                run.problems.append(f"server referred to a message this client never cached ({msg.ref_hash})")
                return False
            ref = msg.metadata
            msg = ForwardMsg()
            msg.CopyFrom(cached[1])
            msg.metadata.CopyFrom(ref)
            kind = msg.WhichOneof("type")
        if msg.metadata.cacheable and msg.hash:
            self.cache[msg.hash] = (self.runs, msg)
        if kind == "new_session":  # a run begins: its popover blocks arrive again, each before its widgets
            self.popovers.clear()
            self.session_id = msg.new_session.initialize.session_id or self.session_id
            self.page_hash = msg.new_session.page_script_hash
        elif kind == "navigation":  # with st.navigation, the page that ran (new_session names the entry script)
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "delta" and msg.delta.WhichOneof("type") == "add_block":
            if msg.delta.add_block.WhichOneof("type") == "popover":  # closed, as a browser that never opened it
                self.popovers.add(tuple(msg.metadata.delta_path))
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            t = element.WhichOneof("type")
            run.elements.append((t, element))
            if t in WIDGETS:
                proto = getattr(element, t)
                known = self.widgets.get(proto.id)
                if known is None or proto.set_value:  # the browser keeps its own value unless the server sets one
                    state = current_state(t, proto)
                else:
                    state = known.state
                path = tuple(msg.metadata.delta_path)
                shown = not any(path[:len(p)] == p for p in self.popovers)
                self.widgets[proto.id] = Widget(proto.id, t, state, msg.delta.fragment_id, tuple(getattr(proto, "options", ())),
                                                shown)
            elif t == "exception":
                run.problems.append(f"exception on the page: {element.exception.type}: {element.exception.message[:200]}")
            elif t == "alert" and element.alert.format == element.alert.ERROR:
                run.problems.append(f"error box: {element.alert.body[:200]}")
        elif kind == "script_finished":
            run.status = FINISHED.get(msg.script_finished, str(msg.script_finished))
            return msg.script_finished != 2  # one stopped early for a rerun is followed by the rerun's own
        return False

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
