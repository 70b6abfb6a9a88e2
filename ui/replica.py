"""Behind a proxy (deploy/): which replica serves this session, and whether the session just moved to it.

A browser whose websocket drops reconnects and asks, in its subprotocols, to resume its session by id. The
replica that held it may have stopped; the proxy then sends the browser to a live one, which does not know that
id and starts a new session from the page's link. This is how the app tells the user: their settings came back
from the link, but what lived only in the old process (an upload, the undo history, a running training) did not.
"""

from __future__ import annotations

import os
from datetime import timedelta

import streamlit as st

REPLICA_ENV = "SKIPSNN_REPLICA"  # the replica's name, set by deploy/stack.py (r1, r2, ...); unset: a single server
MOVED = "replica_moved"  # session_state: the notice is showing


def name() -> str | None:
    return os.environ.get(REPLICA_ENV) or None


def resumed_a_lost_session() -> bool:
    """True when this session's browser asked to resume a session this process does not hold (a new session, made
    for a browser that had one elsewhere), False for a fresh page load or a reconnect to the same process."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    entries = [e.strip() for e in (st.context.headers.get("Sec-Websocket-Protocol") or "").split(",")]
    asked = entries[2] if len(entries) >= 3 else ""
    ctx = get_script_run_ctx()
    return bool(asked) and ctx is not None and asked != ctx.session_id


@st.fragment(run_every=timedelta(minutes=10))
def _rerun_on_reconnect() -> None:
    """Draws nothing. A page holding a fragment that reruns on a timer is one the browser reruns whole as soon as its
    websocket reconnects (Streamlit's frontend does so for pages with auto-rerun intervals); without one it would
    keep showing the old process's elements, dead, until the next click. Every ten minutes it costs an empty run."""


def notice() -> None:
    """On the first run of a session that moved here, and until dismissed: say what happened."""
    _rerun_on_reconnect()
    if "replica_checked" not in st.session_state:
        st.session_state["replica_checked"] = True
        st.session_state[MOVED] = resumed_a_lost_session()
    if not st.session_state.get(MOVED):
        return
    here = f" ({name()})" if name() else ""
    box = st.container(border=True, key="replica_notice")
    box.info("**This session restarted on another server process**" + here + ": the one that held it stopped. "
             "Your settings came back from the page's link; an uploaded file, the undo history of gate edits or a "
             "training you had started there did not.", icon=":material/sync_problem:")
    box.button("Dismiss", key="replica_dismiss", on_click=lambda: st.session_state.update({MOVED: False}))
