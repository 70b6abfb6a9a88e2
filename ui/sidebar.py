"""The shared sidebar: dataset, data folder, checkpoint, device. Every page calls ``sidebar()`` first.

(Rendered by the pages rather than by app.py: widgets drawn in the entrypoint before
``st.navigation`` vanish from AppTest's tree on reruns, so the pages could not be tested.)
"""

from pathlib import Path

import streamlit as st

from skipsnn_core.device import describe
from ui.state import DATASET_NAMES, DEFAULT_NMNIST, Selection, app_device, shipped_checkpoints

CUSTOM = "Other checkpoint file…"
KEPT = "sidebar_values"  # copies of the sidebar's widget values: a page switch forgets widget state


def _restore() -> None:
    """Give the sidebar's widgets the values they had on the page the user came from.

    Re-assigning a widget's current value through the Session State API is Streamlit's
    documented way to carry it across pages; a value already forgotten comes from our copy.
    """
    for key, value in st.session_state.get(KEPT, {}).items():
        st.session_state[key] = st.session_state[key] if key in st.session_state else value


def _keep() -> None:
    st.session_state[KEPT] = {
        k: v for k, v in st.session_state.items() if isinstance(k, str) and (k in ("dataset", "data_dir", "checkpoint_path")
                                                                          or k.startswith("checkpoint_"))
    }


def sidebar() -> Selection:
    _restore()
    if "data_dir" not in st.session_state and DEFAULT_NMNIST.is_dir():
        st.session_state["data_dir"] = str(DEFAULT_NMNIST)
    with st.sidebar:
        st.markdown("### SkipSNN Explorer")
        dataset = st.selectbox(
            "Dataset", list(DATASET_NAMES), format_func=DATASET_NAMES.get, key="dataset", bind="query-params",
            help="The built-in digits are simulated event-camera recordings of scikit-learn's real handwritten "
            "digits; N-MNIST reads real recordings from a folder on this machine.",
        )
        data_dir = None
        if dataset == "nmnist":
            data_dir = st.text_input(
                "N-MNIST folder", key="data_dir",
                bind="query-params", placeholder="/path/to/nmnist",
                help="A folder with labels.csv (filename,label) beside .bin/.bs2 recordings, or tonic's NMNIST "
                "layout (Train/<digit>/*.bin, Test/<digit>/*.bin). Nothing is downloaded.",
            ).strip() or None
        shipped = shipped_checkpoints()
        # this dataset's checkpoints first, SkipSNN before the plain SNN
        fitting = sorted((p for p, meta in shipped.items() if meta.get("dataset") == dataset),
                         key=lambda p: shipped[p].get("kind") != "skipsnn")
        options = fitting + [p for p in shipped if p not in fitting] + [CUSTOM]

        def label(path: str) -> str:
            if path == CUSTOM:
                return path
            meta = shipped[path]
            kind = "SkipSNN" if meta.get("kind") == "skipsnn" else "plain SNN"
            note = "" if path in fitting else f" (trained on {meta.get('dataset')})"
            return f"{kind} · {Path(path).stem}{note}"

        choice = st.selectbox("Checkpoint", options, format_func=label, key=f"checkpoint_{dataset}")
        checkpoint = choice
        if choice == CUSTOM:
            checkpoint = st.text_input("Checkpoint path", key="checkpoint_path", placeholder="/path/to/model.pt").strip()
        st.caption(f"Inference device: {describe(app_device())}")
    _keep()
    selection = Selection(dataset, data_dir, checkpoint)
    st.session_state["selection"] = selection  # for tests and for pages that want to read it again
    return selection
