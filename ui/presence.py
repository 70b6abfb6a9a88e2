"""The per-setting caches live while someone is here: when the last session of a server process leaves, they go.

A class fills ui/state.py's caches of samples, traces, payloads and cards (up to ~130 MB at their limits) and leaves
at the bell; kept, they held a replica 13-21 % above its size before the class came (bench/serve_load.py), for
nobody. Each session holds one session-scoped cache entry; Streamlit releases it when the session disconnects,
and the release of the last one clears the per-setting caches, collects, and hands the freed heap back to the
system; once Streamlit's reconnect window has passed, the closed sessions themselves go too. The models and framed
splits stay: they are the server's own, loaded once. A session that reconnects comes back as a new arrival and finds
the caches empty only if everyone else had left too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading

import streamlit as st

_lock = threading.Lock()
_sessions = 0


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def trim_heap() -> None:
    """glibc keeps freed memory in its heap for the next allocation; give it back (a no-op elsewhere)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # glibc's mallopt parameters (malloc.h)


def bound_the_heap() -> None:
    """Make glibc hand big blocks back when they are freed, and keep few heaps (a no-op elsewhere).

    A rerun allocates ~1-2 MB blocks (a Trace's arrays, a 0.2 MB payload). glibc's default raises its mmap
    threshold to the largest block freed so far, after which such blocks come from, and stay in, its heaps; and it
    gives each of up to 8 x cores threads a heap of its own, which Streamlit's one thread per script run fills
    one by one. A fixed 128 KiB threshold (which also turns the raising off) and two heaps kept a replica within
    ~8 % of its size before a class after the class left, against 13-21 % (bench/serve_load.py).
    """
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)
        libc.mallopt(M_ARENA_MAX, 2)


def _left(_: object) -> None:
    global _sessions
    with _lock:
        _sessions -= 1
        if _sessions:
            return
    _let_go()
    # Streamlit keeps each disconnected session (its state, its cached messages: ~1 MB each) for
    # server.disconnectedSessionTTL so that a dropped browser can resume it, and forgets expired ones only when its
    # session storage is next written, i.e. by the next visitor: an empty server held a class of 50 at +12 % for as
    # long as nobody came. Once that time has passed, forget them and let go again.
    ttl = float(st.get_option("server.disconnectedSessionTTL"))
    timer = threading.Timer(ttl + 2, _after_the_reconnect_window)
    timer.daemon = True
    timer.start()


def _let_go() -> None:
    from ui.state import PER_SETTING  # here, not at the top: app.py imports this module (bound_the_heap) before torch

    for cached in PER_SETTING:
        cached.clear()
    gc.collect()
    trim_heap()


def _after_the_reconnect_window() -> None:
    if _sessions:
        return
    try:  # Streamlit's own TTL cache of disconnected sessions; its length reaps the expired ones
        from streamlit.runtime import Runtime

        len(Runtime.instance()._session_mgr._session_storage._cache)
    except Exception:  # internals moved in another Streamlit: they are reaped at the next connection, as before
        return
    _let_go()


@st.cache_resource(scope="session", on_release=_left, show_spinner=False)
def _arrived() -> bool:
    global _sessions
    with _lock:
        _sessions += 1
    return True


def here() -> None:
    """Count this session among those present (once per session; every page calls it through the sidebar)."""
    _arrived()


def sessions_here() -> int:
    return _sessions
