"""SkipSNN Explorer: watch a spiking network's gate open when the signal comes.

    streamlit run app.py

This file is the server. ``streamlit run`` finds the ``st.App`` below and serves it with uvicorn: every browser
session runs app_script.py (page config and navigation; the pages are in views/). Before the port opens, the
lifespan warms the process up (ui/warm.py), so the first user after a start, or a replica the proxy has just
marked healthy, gets a page at the speed of every later one.
"""

import asyncio
import logging
from contextlib import asynccontextmanager

import streamlit as st

from ui.presence import bound_the_heap
from ui.warm import warm_server

bound_the_heap()  # before the lifespan and the sessions allocate


@asynccontextmanager
async def warmed(_app):
    seconds = await asyncio.to_thread(warm_server)
    logging.getLogger("skipsnn").warning("warmed up in %.1f s", seconds)
    yield


app = st.App("app_script.py", lifespan=warmed)
