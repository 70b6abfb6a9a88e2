"""Export one Explorer view to a file, for slides, papers and checks: the format comes from the extension.

    python -m skipsnn_core.export --checkpoint assets/digits_skipsnn.pt --dataset digits --sample 3 \\
        --noise-level 2 --seed 0 [--start S --theta X --mode mask|freeze --edits o120-169] --out view.html
    python -m skipsnn_core.export ... --out view.mp4 [--fps 30 --duration 10]      # or view.gif

- ``.html``: the animated linked figure with plotly.js inlined: plays with no network at all.
- ``.npz``: every array of the trace, ``x`` (T, N) uint8 (the frames actually run), ``gate`` (T,) bool,
  and the settings as JSON; ``load_checkpoint(P).trace(x)`` reproduces ``gate``.
- ``.png``: the figure at twice its size (kaleido, which drives a Chrome or Chromium it finds).
- ``.csv``: one row per step: t, events, signal, gate, controller spike and membrane, evidence per class.
- ``.mp4`` / ``.gif``: the linked view at 1280×720 with the cursor sweeping every step in ``--duration`` seconds at
  ``--fps`` frames per second (fps × duration frames), captioned with the sample, checkpoint and settings
  (``skipsnn_core.video``: one kaleido render, the cursor drawn per frame; PyAV's own FFmpeg, Pillow for GIF).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from .checkpoint import CheckpointError, load_checkpoint
from .data import DATASETS, DataError, Framed
from .explore import Sample, SampleSpec, ViewOptions, make_sample, parse_edits, run_trace
from .model import Readout, SkipSNN, Trace
from .video import Progress, VideoOptions, kaleido_png, to_video

FORMATS = (".html", ".npz", ".png", ".csv", ".mp4", ".gif")


@dataclass(frozen=True)
class Exported:
    sample: Sample
    trace: Trace
    classes: list[str]
    settings: dict  # checkpoint, dataset, sample spec and view: enough to make the same view again


def prepare(model: SkipSNN, data: Framed, spec: SampleSpec, view: ViewOptions, settings: dict) -> Exported:
    sample = make_sample(data, spec)
    trace = run_trace(model, sample, view)
    classes = [str(c) for c in range(model.config.n_classes)]
    return Exported(sample, trace, classes, {**settings, "sample": asdict(spec), "view": asdict(view)})


def edits_of(e: Exported) -> str:
    """The gate edits the exported run was made with (marked on its gate, as on the page)."""
    return ViewOptions(**e.settings["view"]).forced_edits if "view" in e.settings else ""


def to_html(e: Exported) -> str:
    from .figures import explorer_figure

    fig = explorer_figure(e.sample, e.trace, e.classes, meta=e.settings, edits=edits_of(e))
    return fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False, config={"displaylogo": False})


def to_npz(e: Exported) -> bytes:
    arrays = {"x": e.sample.x.numpy().astype(np.uint8), "gate": e.trace.gate[0].numpy(), "signal": e.sample.signal.numpy()}
    for f in fields(e.trace):
        value = getattr(e.trace, f.name)
        if isinstance(value, Readout):
            for g in fields(value):
                arrays[f"{f.name}_{g.name}"] = getattr(value, g.name)[0].numpy()
        elif hasattr(value, "numpy"):
            arrays[f.name] = value.numpy() if f.name == "pulses" else value[0].numpy()
    buf = io.BytesIO()
    np.savez_compressed(buf, settings=np.array(json.dumps(e.settings)), **arrays)
    return buf.getvalue()


def to_csv(e: Exported) -> str:
    tr, T = e.trace, e.trace.gate.shape[1]
    events = np.count_nonzero(e.sample.x.numpy(), axis=1)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["t", "events", "signal", "gate", "controller_spike", "controller_u", *(f"evidence_{c}" for c in e.classes)])
    for t in range(T):
        w.writerow([t, int(events[t]), int(e.sample.signal[t]), int(tr.gate[0, t]), int(tr.controller_spikes[0, t]),
                    f"{float(tr.controller_u[0, t]):.6g}", *(f"{float(v):.6g}" for v in tr.gated.evidence[0, t])])
    return out.getvalue()


def to_png(e: Exported) -> bytes:
    from .figures import explorer_base

    try:
        import kaleido  # noqa: F401  (only to say clearly when it is missing)
    except ImportError:
        raise RuntimeError("PNG export needs kaleido (pip install kaleido) and a Chrome or Chromium it can find") from None
    figure, _ = explorer_base(e.sample, e.trace, e.classes, meta=e.settings, edits=edits_of(e))
    return kaleido_png(figure, 1600, 900, scale=2)


def to_mp4(e: Exported, options: VideoOptions = VideoOptions(), progress: Progress | None = None) -> bytes:
    return to_video(e.sample, e.trace, e.classes, e.settings, "mp4", options, progress)


def to_gif(e: Exported, options: VideoOptions = VideoOptions(), progress: Progress | None = None) -> bytes:
    return to_video(e.sample, e.trace, e.classes, e.settings, "gif", options, progress)


def export(e: Exported, out: Path, video: VideoOptions = VideoOptions()) -> Path:
    """Write ``e`` to ``out`` in the format its extension names (temporary file, then rename)."""
    kind = out.suffix.lower()
    if kind not in FORMATS:
        raise ValueError(f"{out}: unknown format {kind!r}; use one of {', '.join(FORMATS)}")
    content = {".html": lambda: to_html(e).encode(), ".npz": lambda: to_npz(e), ".png": lambda: to_png(e),
               ".csv": lambda: to_csv(e).encode(), ".mp4": lambda: to_mp4(e, video), ".gif": lambda: to_gif(e, video)}[kind]()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(content)
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    from .train import load_split

    p = argparse.ArgumentParser(prog="python -m skipsnn_core.export", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--dataset", choices=DATASETS, default="digits")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--sample", type=int, default=0, help="recording in the test split")
    p.add_argument("--noise-level", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", type=int, default=120, help="first signal frame")
    p.add_argument("--theta", type=float, default=None, help="gate threshold (default: as trained)")
    p.add_argument("--mode", choices=("mask", "freeze"), default=None)
    p.add_argument("--gate", choices=("controller", "oracle", "open"), default="controller")
    p.add_argument("--edits", default="", help="steps forced open/closed, e.g. o120-169,c200")
    p.add_argument("--T", type=int, default=300)
    p.add_argument("--fps", type=float, default=30.0, help="video: frames per second (.mp4, .gif)")
    p.add_argument("--duration", type=float, default=10.0, help="video: seconds the cursor takes over all steps")
    p.add_argument("--out", required=True, help="file to write: .html, .npz, .png, .csv, .mp4 or .gif")
    args = p.parse_args(argv)
    try:
        model = load_checkpoint(args.checkpoint, "cpu")
        from .data import FrameSpec

        data = load_split(args.dataset, args.data_dir, "test", FrameSpec(L=model.meta.get("signal_frames", 50)), quiet=True)
        parse_edits(args.edits, args.T)
        video = VideoOptions(fps=args.fps, duration=args.duration)
        spec = SampleSpec(index=args.sample, noise_level=args.noise_level, start=args.start, seed=args.seed, T=args.T)
        view = ViewOptions(controller_theta=args.theta, gate_mode=args.mode, gate=args.gate, edits=args.edits)
        settings = {"checkpoint": args.checkpoint, "dataset": args.dataset}
        path = export(prepare(model, data, spec, view, settings), Path(args.out), video)
    except (CheckpointError, DataError, ValueError, IndexError, RuntimeError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
