"""Train: turn λ, the price of every admitted frame, and watch the gate learn to close on the noise."""

import time
import uuid

import streamlit as st

from skipsnn_core.device import default_device
from skipsnn_core.explore import percent
from skipsnn_core.figures import gate_learning_figure, training_curves
from skipsnn_core.jobs import ACTIVE, PROBE_SAMPLE, BoardError
from skipsnn_core.roots import models_dir
from skipsnn_core.train import preset
from ui.sidebar import KEPT, sidebar
from ui.state import training_board
from ui import theme

QUICK = preset("quick", default_device())  # the machine's variant (larger batches on a GPU)
CONFIG = {"displaylogo": False}

st.title("Train: watch the gate learn to close")
st.caption(
    "λ is the price of every admitted frame: the loss is the classification error plus λ times the share of frames "
    "the gate lets in. Raise it and state updates fall; too far and accuracy falls with them. Training runs on the "
    f"server on the built-in digits with the measured quick recipe ({QUICK.epochs} epochs of a {QUICK.hidden}-neuron "
    "network: one to two minutes on a laptop CPU), in the background: the page stays usable and you can stop the run."
)
sidebar()
board = training_board(str(models_dir()))
owner = st.session_state.setdefault("train_owner", uuid.uuid4().hex)  # this browser session
job = board.job_of(owner)
busy = job is not None and job.snapshot().state in ACTIVE

c = st.columns([1.1, 1.2, 1, 1, 1, 1])
kind = c[0].radio("Network", ["skipsnn", "snn"], key="train_kind", disabled=busy,
                  format_func={"skipsnn": "SkipSNN (gated)", "snn": "plain SNN"}.get,
                  help="The plain SNN admits every frame: train it with the same budget to compare.")
lam = c[1].slider("λ, price of an admitted frame", 0.0, 1.0, QUICK.lam, 0.01, key="train_lam", disabled=busy or kind == "snn",
                  help="Weight of the gate penalty, the mean of the controller's decisions. A plain SNN has no gate to price.")
epochs = c[2].slider("Epochs", 1, 30, QUICK.epochs, key="train_epochs", disabled=busy)
hidden = c[3].select_slider("Hidden neurons", sorted({50, 100, 200, 400, 800, QUICK.hidden}), QUICK.hidden, key="train_hidden", disabled=busy,
                            help="More neurons learn more per epoch and take longer per batch.")
noise = c[4].slider("Training noise level", 0, 4, QUICK.noise_level, key="train_noise", disabled=busy,
                    help="Noise event pairs per noise frame while training, and in the held-out check after each epoch.")
limit = c[5].select_slider("Training digits", (100, 300, 0), 0, key="train_limit", disabled=busy,
                           format_func=lambda n: str(n) if n else "all",
                           help="The first 100 or 300 of the 1,437 training digits train an epoch in seconds, for a first "
                           "look; the held-out check always uses all 360.")
automatic = f"digits_{kind}" + (f"_lam{lam:g}" if kind == "skipsnn" else "") + f"_e{epochs}_h{hidden}" + (f"_n{limit}" if limit else "")
name = st.text_input("Save as", key="train_name", disabled=busy, max_chars=64, placeholder=f"{automatic}_<time>",
                     help="The checkpoint's name in the sidebar's list (a file in the server's models folder). "
                     "Empty: the settings and the time.") or f"{automatic}_{time.strftime('%H%M%S')}"
running, waiting = board.active()
b = st.columns([1, 1, 4])
start = b[0].button("Start training", type="primary", disabled=busy, icon=":material/play_arrow:")
stop = b[1].button("Stop", disabled=not busy, icon=":material/stop:", help="Ends the run at the next batch; nothing is saved.")
b[2].caption(f"This server trains at most {board.limit} networks at once, each for at most {board.cap_minutes:g} minutes "
             f"(now {running} running, {waiting} waiting). One training per session.")

if start:
    cfg = preset("quick", default_device(), kind=kind, lam=lam if kind == "skipsnn" else QUICK.lam, epochs=epochs, hidden=hidden, noise_level=noise,
                 limit=limit)
    try:
        board.submit(owner, cfg, name)
    except BoardError as e:
        st.error(str(e))
    else:
        st.rerun()
if stop and job is not None:
    job.stop()
    st.rerun()


def choose(name: str) -> None:
    """Make the new checkpoint the sidebar's choice (a callback: it runs before the sidebar's widgets exist)."""
    choice = {"dataset": "digits", "model_digits": name}
    st.session_state.update(choice)
    st.session_state.setdefault(KEPT, {}).update(choice)  # what the sidebar restores on the next page


def render(snap) -> None:
    """The run's state, progress, curves, the probe sample's gate, and the result."""
    cfg = snap.config
    if snap.state == "queued":
        st.info(f"**Waiting for a free slot**: number {snap.queue_position} in the queue. This server trains at most "
                f"{board.limit} networks at once; yours starts when one finishes.", icon=":material/hourglass_top:")
    elif snap.state == "framing":
        done, total = snap.framed
        st.progress(done / total if total else 0.0, text=f"Preparing the frames: {done} / {total} recordings")
    elif snap.state == "training":
        done, total = snap.batches
        epoch = min(len(snap.history) + 1, cfg.epochs)
        left = snap.seconds_left
        st.progress(snap.fraction, text=f"Epoch {epoch} of {cfg.epochs} · batch {done} of {total}"
                    + (f" · about {left:.0f} s left" if left is not None else ""))
    elif snap.state == "done":
        f = snap.figures
        st.success(f"**{snap.name}** saved. {snap.message}", icon=":material/check_circle:")
        m = st.columns(4)
        m[0].metric("Held-out accuracy", percent(f["accuracy"], 1), help=f"{f['n_samples']} held-out digits, noise level {f['noise_level']}")
        if cfg.kind == "skipsnn":
            m[1].metric("State updates", f"{f['state_updates']:.3f}", f"oracle {f['oracle_state_updates']:.3f}",
                        delta_color="off", delta_arrow="off")
            m[2].metric("Gate recall", f"{f['gate_recall']:.2f}")
            m[3].metric("Gate forced open", percent(f["forced_open_accuracy"], 1), help="the same weights, every frame admitted")
        if f.get("silent"):
            st.caption(f"{f['silent']} silent sample(s): no output spike, counted as wrong.")
        if st.button("Open in Explore", icon=":material/insights:", key=f"open_{snap.id}", on_click=choose, args=(snap.name,)):
            st.switch_page("views/explore.py")
        st.markdown("**The same run from the command line**")
        st.code(snap.command, language=None, wrap_lines=True)  # no highlighting: its token colours were 2.6:1
    elif snap.state == "stopped":
        st.warning(snap.message, icon=":material/stop_circle:")
    else:
        st.error(f"**Training failed**, nothing was saved. {snap.message}")

    if snap.history:
        curves = training_curves(list(snap.history), cfg.epochs, cfg.kind == "skipsnn")
        st.plotly_chart(theme.figure(curves), key="train_curves", width="stretch", config=CONFIG)
    if snap.probes:
        label = f"{PROBE_SAMPLE} (a '{snap.probes[-1].label}')"
        st.plotly_chart(theme.figure(gate_learning_figure(list(snap.probes), label)), key="train_gate", width="stretch", config=CONFIG)
    elif snap.state in ACTIVE:
        st.caption("The curves and the gate of a held-out sample appear after the first epoch.")


@st.fragment(run_every=1.0 if busy else None)
def live() -> None:
    mine = board.job_of(owner)
    if mine is None:
        st.info("Choose the settings and start: the loss, the held-out accuracy, the state updates and the gate of one "
                "held-out digit are redrawn after every epoch.", icon=":material/school:")
        return
    snap = mine.snapshot()
    render(snap)
    # The first time this session sees its run ended, the whole page runs again: the controls come back and the
    # sidebar lists the new checkpoint. Not only when this run began busy: the sidebar is drawn before this page, so
    # a run that ended in between (file saved, then `busy` False) would otherwise leave it unlisted there.
    if snap.state not in ACTIVE and st.session_state.get("train_seen_end") != snap.id:
        st.session_state["train_seen_end"] = snap.id
        st.rerun(scope="app")


live()
