"""The shared sidebar: dataset (and folder), checkpoint, device. Every page calls ``sidebar()`` first.

(Rendered by the pages rather than by app_script.py: widgets drawn in the entrypoint before
``st.navigation`` vanish from AppTest's tree on reruns, so the pages could not be tested.)

Datasets and checkpoints are chosen by name; a link carries ``dataset`` and ``model`` only.
A folder or file typed in is accepted only inside what the server offers (``skipsnn_core.roots``).
"""

import hashlib

import streamlit as st

from skipsnn_core.device import describe
from skipsnn_core.roots import nmnist_folders
from ui import links, presence, replica
from skipsnn_core.data import DataError
from skipsnn_core.recordings import MAX_BYTES, read_recording
from ui.components.drawing_canvas import drawing_canvas
from ui.state import DATASET_NAMES, UPLOAD, UPLOADS, Selection, app_device, engine_name, offered_models, uploaded

OTHER_MODEL = "other"  # the checkpoint choice that opens a text box
UPLOAD_MODEL = "upload"  # the checkpoint choice that opens an uploader
OTHER_FOLDER = "other folder"
KEPT = "sidebar_values"  # copies of the sidebar's widget values: a page switch forgets widget state
SIDEBAR_KEYS = ("dataset", "data_folder", "data_dir_text", "checkpoint_path", "upload_label", "drawing_label")


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
        if model_id == UPLOAD_MODEL:
            return "Upload a checkpoint…"
        meta = models[model_id][1]
        kind = "SkipSNN" if meta.get("kind") == "skipsnn" else "plain SNN"
        note = "" if model_id in fitting else f" (trained on {meta.get('dataset')})"
        return f"{kind} · {model_id}{note}"

    return label


def sidebar() -> Selection:
    _restore()
    presence.here()
    replica.notice()
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
        elif dataset == "drawing":
            _draw()
            if uploaded("drawing") is not None:
                pixels, label = uploaded("drawing")
                data_dir = f"drawing:{hashlib.sha256(pixels.tobytes()).hexdigest()[:16]}:{label}"
        elif dataset == "upload":
            _upload_recording()
            if uploaded("recording"):  # names the upload in every cache key (content and label), not a path
                name, content, label = uploaded("recording")
                data_dir = f"{UPLOAD}{hashlib.sha256(content).hexdigest()[:16]}:{label}"

        # this dataset's checkpoints first, SkipSNN before the plain SNN
        # an upload is a real sensor's recording, as N-MNIST's are; a drawing goes through the digits' simulator
        fits = {"upload": "nmnist", "drawing": "digits"}.get(dataset, dataset)
        fitting = sorted((m for m, (_, meta) in models.items() if meta.get("dataset") == fits),
                         key=lambda m: models[m][1].get("kind") != "skipsnn")
        options = fitting + [m for m in models if m not in fitting] + [UPLOAD_MODEL, OTHER_MODEL]
        key = f"model_{dataset}"
        links.seed_from_url("model", [links.ChoiceParam("model", options[0], tuple(options), state=key)])
        choice = st.selectbox("Checkpoint", options, format_func=_model_label(models, fitting, dataset), key=key)
        if choice == UPLOAD_MODEL:
            checkpoint = _upload_checkpoint()
        elif choice == OTHER_MODEL:
            checkpoint = st.text_input("Checkpoint file inside the models folder", key="checkpoint_path",
                                       placeholder="e.g. my_model.pt",
                                       help="A .pt file in the server's models folder (SKIPSNN_MODELS).").strip()
        else:
            checkpoint = str(models[choice][0])
        device = app_device()
        st.caption(f"Inference: {describe(device)} · {engine_name(device)}"
                   + (f" · server process {replica.name()}" if replica.name() else ""))
    _keep()
    selection = Selection(dataset, data_dir, checkpoint, None if choice in (OTHER_MODEL, UPLOAD_MODEL) else choice)
    st.session_state["selection"] = selection  # for tests and for pages that want to read it again
    return selection


PAGE_KEYS = ("sample", "noise", "start", "theta", "mode", "gate", "edits", "seed", "t", "step", "neuron", "b_model", "b_mode", "b_theta",
             "b_noise", "b_seed", "b_edits", "axis", "n", "plain", "present", "tour")  # the pages' link keys


def _take_upload(key: str) -> tuple[str, bytes] | None:
    """The file just given to uploader ``key`` (name, bytes), or None; size checked here, content by the core."""
    file = st.session_state.get(key)
    if file is None:
        return None
    content = file.getvalue()
    if len(content) > MAX_BYTES:
        st.error(f"{file.name}: {len(content) / 2**20:.1f} MB is over the {MAX_BYTES // 2**20} MB limit")
        return None
    return file.name, content


def _upload_recording() -> None:
    """An uploader for one recording and its (optional) true label; kept in this session's memory only."""
    st.file_uploader("Recording: N-MNIST .bin/.bs2, or .npy events (x, y, t, p)", type=["bin", "bs2", "npy"],
                     key="upload_recording_file", max_upload_size=MAX_BYTES // 2**20,
                     help="Read in memory and embedded in noise like any sample; nothing is stored on the server.")
    label = st.selectbox("Its true label", ["unknown", *map(str, range(10))], key="upload_label")
    taken = _take_upload("upload_recording_file")
    uploads = st.session_state.setdefault(UPLOADS, {})
    if taken is not None:
        name, content = taken
        try:
            read_recording(content, name)
        except DataError as e:
            st.error(str(e))
            return
        uploads["recording"] = (name, content, -1 if label == "unknown" else int(label))
    elif "recording" in uploads:
        name, content, _ = uploads["recording"]
        uploads["recording"] = (name, content, -1 if label == "unknown" else int(label))
    if uploaded("recording"):
        st.caption(f"Using **{uploaded('recording')[0]}** (this session only)")


def _upload_checkpoint() -> str:
    """An uploader for a checkpoint (.pt, at most 64 MB), loaded with weights_only and validated; session memory only."""
    st.file_uploader("Checkpoint (.pt, at most 64 MB)", type=["pt"], key="upload_checkpoint_file",
                     max_upload_size=MAX_BYTES // 2**20,
                     help="Loaded with weights_only=True (no code runs) and checked like the shipped ones; kept in memory only.")
    taken = _take_upload("upload_checkpoint_file")
    uploads = st.session_state.setdefault(UPLOADS, {})
    if taken is not None:
        uploads["checkpoint"] = taken
    if uploaded("checkpoint"):
        st.caption(f"Using **{uploaded('checkpoint')[0]}** (this session only)")
    upload = uploaded("checkpoint")
    return UPLOAD + (f"{hashlib.sha256(upload[1]).hexdigest()[:16]}:{upload[0]}" if upload else "")


def _draw() -> None:
    """A canvas for a digit of one's own; the drawing used is kept in this session only."""
    pixels = drawing_canvas("drawing_canvas")
    label = st.selectbox("Its true label", ["unknown", *map(str, range(10))], key="drawing_label")
    uploads = st.session_state.setdefault(UPLOADS, {})
    if pixels is not None:  # the drawing last used (Clear only wipes the canvas; the run keeps it until the next Use)
        uploads["drawing"] = (pixels, -1 if label == "unknown" else int(label))
    elif "drawing" in uploads:
        uploads["drawing"] = (uploads["drawing"][0], -1 if label == "unknown" else int(label))


def selected_or_stop(needs_gate: str | None = None):
    """The sidebar, then its checkpoint and test split; on a problem, the reason on the page and the page stops.

    ``needs_gate``: what this page cannot do for a plain SNN (shown instead of the page).
    """
    from ui import links
    from ui.state import SHOWN_ERRORS, check_selection

    selection = sidebar()
    try:
        model, data = check_selection(selection)
    except SHOWN_ERRORS as e:
        links.show_notices()
        st.error(f"**Cannot show this selection.** {e}")
        st.info("Pick the built-in digits or another checkpoint in the sidebar; nothing you chose was lost.")
        st.stop()
    if needs_gate and not model.config.controller:
        links.show_notices()
        st.info(f"This checkpoint is a plain SNN: it has no controller, so every frame is admitted. {needs_gate}")
        st.stop()
    return selection, model, data
