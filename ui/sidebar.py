"""The shared sidebar: dataset (and folder), checkpoint, device. Every page calls ``sidebar()`` first.

(Rendered by the pages rather than by app.py: widgets drawn in the entrypoint before
``st.navigation`` vanish from AppTest's tree on reruns, so the pages could not be tested.)

Datasets and checkpoints are chosen by name; a link carries ``dataset`` and ``model`` only.
A folder or file typed in is accepted only inside what the server offers (``skipsnn_core.roots``).
"""

from pathlib import Path

import streamlit as st

from skipsnn_core.device import describe
from skipsnn_core.roots import nmnist_folders
from ui import links
from ui.state import DATASET_NAMES, Selection, app_device, engine_name, offered_models

OTHER_MODEL = "other"  # the checkpoint choice that opens a text box
OTHER_FOLDER = "other folder"
KEPT = "sidebar_values"  # copies of the sidebar's widget values: a page switch forgets widget state
SIDEBAR_KEYS = ("dataset", "data_folder", "data_dir_text", "checkpoint_path")


def _restore() -> None:
    """Give the sidebar's widgets the values they had on the page the user came from.

    Re-assigning a widget's current value through the Session State API is Streamlit's
    documented way to carry it across pages; a value already forgotten comes from our copy.
    """
    for key, value in st.session_state.get(KEPT, {}).items():
        st.session_state[key] = st.session_state[key] if key in st.session_state else value


def _keep() -> None:
    st.session_state[KEPT] = {k: v for k, v in st.session_state.items()
                              if isinstance(k, str) and (k in SIDEBAR_KEYS or k.startswith("model_"))}


def _model_label(models: dict, fitting: list[str], dataset: str):
    def label(model_id: str) -> str:
        if model_id == OTHER_MODEL:
            return "Other checkpoint file…"
        meta = models[model_id][1]
        kind = "SkipSNN" if meta.get("kind") == "skipsnn" else "plain SNN"
        note = "" if model_id in fitting else f" (trained on {meta.get('dataset')})"
        return f"{kind} · {model_id}{note}"

    return label


def sidebar() -> Selection:
    _restore()
    models = offered_models()  # {id: (path, meta)}
    links.seed_from_url("sidebar", [links.ChoiceParam("dataset", "digits", tuple(DATASET_NAMES))],
                        others=("model", *PAGE_KEYS))
    with st.sidebar:
        st.markdown("### SkipSNN Explorer")
        dataset = st.selectbox(
            "Dataset", list(DATASET_NAMES), format_func=DATASET_NAMES.get, key="dataset",
            help="The built-in digits are simulated event-camera recordings of scikit-learn's real handwritten "
            "digits; N-MNIST reads real recordings from a folder the server offers.",
        )
        data_dir = None
        if dataset == "nmnist":
            folders = nmnist_folders()
            pick = st.selectbox(
                "N-MNIST folder", [*folders, OTHER_FOLDER], key="data_folder",
                format_func=lambda f: "Other folder…" if f == OTHER_FOLDER else f,
                help="N-MNIST folders found in the server's data roots (SKIPSNN_DATA_ROOTS): labels.csv (filename,label) "
                "beside .bin/.bs2 recordings, or tonic's NMNIST layout (Train/<digit>/*.bin, Test/<digit>/*.bin).",
            )
            if pick == OTHER_FOLDER:
                data_dir = st.text_input("Folder inside the server's data roots", key="data_dir_text",
                                         placeholder="e.g. data/nmnist").strip()
            else:
                data_dir = str(folders[pick])

        # this dataset's checkpoints first, SkipSNN before the plain SNN
        fitting = sorted((m for m, (_, meta) in models.items() if meta.get("dataset") == dataset),
                         key=lambda m: models[m][1].get("kind") != "skipsnn")
        options = fitting + [m for m in models if m not in fitting] + [OTHER_MODEL]
        key = f"model_{dataset}"
        links.seed_from_url("model", [links.ChoiceParam("model", options[0], tuple(options), state=key)])
        choice = st.selectbox("Checkpoint", options, format_func=_model_label(models, fitting, dataset), key=key)
        if choice == OTHER_MODEL:
            checkpoint = st.text_input("Checkpoint file inside the models folder", key="checkpoint_path",
                                       placeholder="e.g. my_model.pt",
                                       help="A .pt file in the server's models folder (SKIPSNN_MODELS).").strip()
        else:
            checkpoint = str(models[choice][0])
        device = app_device()
        st.caption(f"Inference: {describe(device)} · {engine_name(device)}")
    _keep()
    selection = Selection(dataset, data_dir, checkpoint, None if choice == OTHER_MODEL else choice)
    st.session_state["selection"] = selection  # for tests and for pages that want to read it again
    return selection


PAGE_KEYS = ("sample", "noise", "start", "theta", "mode", "gate", "edits", "seed", "t", "step", "neuron", "b_model", "b_mode", "b_theta",
             "b_noise", "b_seed", "b_edits")  # the pages' link keys
