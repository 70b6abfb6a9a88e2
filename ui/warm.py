"""A server process's start-up work, done before it answers its first health check.

Without it the first page after a start paid for importing torch and the pages' libraries, loading the compiled
kernels and building one figure of each kind (about 3 s here), and a replica behind the proxy was sent users as
soon as its port opened. ``app.py`` runs :func:`warm_server` in its lifespan: uvicorn opens the port, and so
``/_stcore/health`` answers, only once it returned.
"""

from __future__ import annotations

import time
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def warm_server(checkpoint: Path = ASSETS / "digits_skipsnn.pt") -> float:
    """Import, load and run once what the default Explore page uses; returns the seconds it took.

    It runs the core's own functions, not the pages' caches: a page's first run still builds its own entries
    (a few milliseconds each), but none of it is the first of its kind in the process.
    """
    t0 = time.perf_counter()
    import plotly.io
    import torch

    # One intra-op thread per torch call: a rerun's tensors are small, and Streamlit runs sessions in threads of
    # their own, so the cores serve several sessions at once instead of spinning on one (bench/inference.py --threads).
    torch.set_num_threads(1)

    from skipsnn_core import load_checkpoint
    from skipsnn_core.data import FrameSpec, framed, open_dataset
    from skipsnn_core.explore import SampleSpec, ViewOptions, make_sample, run_trace, summarize
    from skipsnn_core.figures import evidence_spec, explorer_payload
    from skipsnn_core.figures.common import json_ready
    from skipsnn_core.kernels import warm_up

    import ui.sidebar  # noqa: F401  (the pages' own modules: the sidebar, controls, components)
    import ui.controls  # noqa: F401
    import ui.components.explorer_chart  # noqa: F401

    warm_up()  # every numba kernel, from the on-disk cache (compiled the first time on a machine)
    model = load_checkpoint(checkpoint)
    data = framed(open_dataset("digits", None, "test"), FrameSpec(), shipped=ASSETS / "frames")
    sample = make_sample(data, SampleSpec())
    trace = run_trace(model, sample, ViewOptions())
    summarize(sample, trace)
    classes = [str(c) for c in range(model.config.n_classes)]
    explorer_payload(sample, trace, classes, meta={})
    plotly.io.to_json({"figure": json_ready(evidence_spec(trace.forced_open, classes, "warm-up"))}, validate=False)
    return time.perf_counter() - t0
