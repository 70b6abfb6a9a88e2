"""The linked Explorer view as a video: the cursor sweeps every step, as the figure's ▶ button plays it.

Rendering 300 figures with kaleido would take minutes, so the static figure is rendered once (kaleido, at the
video's size, the animated parts left empty and a caption naming the sample, checkpoint and settings) and each
video frame draws only what moves onto a copy of it with numpy: the cursor line in every time panel, the events
of the cursor's frame in the input picture (dimmed when skipped) and the step caption above it (Pillow's font).
Where a data value lands in pixels is computed from the layout exactly as plotly.js does it (margins, axis
domains, the input picture's equal-aspect constraint), with every automatic margin turned off so the layout
alone decides; ``tests/test_video.py`` checks the mapping against markers kaleido renders.

Encoding goes through PyAV, whose wheels carry their own FFmpeg (libx264 for .mp4; no system ffmpeg);
GIFs go through Pillow with one palette made for the base picture and the colours drawn over it.
"""

from __future__ import annotations

import html
import io
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterator, Literal

import numpy as np

from .explore import Sample, ViewOptions, events_at
from .figures.common import CLASS_COLORS, CLOSED, OFF, ON, OPEN, hex_rgb
from .figures.explorer import Cursor
from .model import Trace

Progress = Callable[[float, str], None]  # (fraction done in [0, 1], what is being done)
CURSOR = "#222222"  # the linked view's cursor line (figures/explorer.py)
SKIPPED_TEXT = "#5f6670"
SIGNAL_TEXT = "#8a6500"  # "true signal" in the events panel's title
SKIPPED_OPACITY = 0.18  # events of a skipped frame, as the figure dims them
MARKER = 9  # px, the square event markers of the input picture
CAPTION_SIZE = 13  # px, the step caption above the input picture
TRANSPARENT = 255  # the GIF palette index of "unchanged since the last frame"
MARGIN = {"l": 10, "r": 16, "t": 40, "b": 50}  # room for the titles and the bottom tick labels, none automatic


@dataclass(frozen=True)
class VideoOptions:
    """How the cursor's sweep becomes a file."""

    fps: float = 30.0  # frames per second of the file
    duration: float = 10.0  # seconds the cursor takes from the first step to the last
    width: int = 1280  # pixels; even (H.264 in 4:2:0 halves both sides)
    height: int = 720

    def __post_init__(self):
        if not (self.fps > 0 and self.duration > 0):
            raise ValueError(f"fps and duration must be positive (got fps={self.fps}, duration={self.duration})")
        if not 1 <= self.n_frames <= 3000:
            raise ValueError(f"fps × duration gives {self.n_frames} frames; a video holds 1 to 3000")
        if not (320 <= self.width <= 3840 and 240 <= self.height <= 2160 and self.width % 2 == 0 and self.height % 2 == 0):
            raise ValueError(f"video size {self.width}×{self.height}: use even sides, 320×240 to 3840×2160")

    @property
    def n_frames(self) -> int:
        return int(round(self.fps * self.duration))


def cursor_steps(n_frames: int, T: int) -> np.ndarray:
    """The cursor's step in each video frame: the sweep from 0 to T − 1 in equal parts, rounded to steps."""
    if n_frames == 1:
        return np.zeros(1, dtype=np.int64)
    return np.rint(np.arange(n_frames) * ((T - 1) / (n_frames - 1))).astype(np.int64)


# --- where a value lands in pixels ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """One axis's value -> pixel map, as plotly.js's ``setScale``: offset and length in px, the range."""

    letter: Literal["x", "y"]
    offset: float  # px from the left (x) or top (y) of the image to the axis domain's start
    length: float  # px the domain spans
    lo: float  # range[0]
    hi: float  # range[1]

    def px(self, value):
        """Pixel coordinate (pixel i covers [i, i + 1)) of a value, or of an array of values."""
        u = (np.asarray(value, dtype=np.float64) - self.lo) / (self.hi - self.lo)
        return self.offset + (u if self.letter == "x" else 1.0 - u) * self.length


def plot_geometry(layout: dict, width: int, height: int) -> dict[str, Axis]:
    """Every axis of a layout with fixed ranges and no automatic margins (``axis name -> Axis``).

    plotly.js: the plot area is the image less the rounded margins; an axis spans its domain of it; axes tied by
    ``scaleanchor`` with ``constrain="domain"`` all take the smallest px-per-unit, each shrinking its domain about
    its centre (``constraintoward``'s default) to get there.
    """
    m = layout.get("margin", {})
    if m.get("autoexpand", True):
        raise ValueError("the layout lets margins expand (margin.autoexpand): its geometry is not known before drawing")
    l, r, t, b = (int(round(m.get(k, 80))) for k in "lrtb")
    w, h = int(round(width)) - l - r, int(round(height)) - t - b
    axes = {name: layout[name] for name in layout if name[:5] in ("xaxis", "yaxis")}
    domains = {}
    for name, ax in axes.items():
        if ax.get("automargin", False) or "range" not in ax:
            raise ValueError(f"{name}: set a range and automargin=False to know its geometry before drawing")
        domains[name] = list(ax.get("domain", [0.0, 1.0]))

    def ident(name: str) -> str:  # "xaxis2" -> "x2"
        return name[0] + name[5:]

    def size(name: str) -> float:
        return w if name[0] == "x" else h

    by_id = {ident(n): n for n in axes}
    for name, ax in axes.items():  # pairs tied by scaleanchor (the Explorer has one: its input picture)
        anchor = ax.get("scaleanchor")
        if not anchor:
            continue
        pair = (name, by_id[anchor])
        if any(axes[n].get("constrain") != "domain" for n in pair) or ax.get("scaleratio", 1) != 1:
            raise ValueError(f"{name}: only scaleanchor with constrain='domain' and scaleratio 1 is mapped")
        scale = {n: size(n) * (domains[n][1] - domains[n][0]) / abs(axes[n]["range"][1] - axes[n]["range"][0]) for n in pair}
        target = min(scale.values())
        for n in pair:
            factor = scale[n] / target
            d0, d1 = domains[n]
            centre = (d0 + d1) / 2
            domains[n] = [centre + (d0 - centre) / factor, centre + (d1 - centre) / factor]
    out = {}
    for name, ax in axes.items():
        d0, d1 = domains[name]
        lo, hi = (float(v) for v in ax["range"])
        if name[0] == "x":
            out[name] = Axis("x", l + d0 * w, (d1 - d0) * w, lo, hi)
        else:
            out[name] = Axis("y", t + (1 - d1) * h, (d1 - d0) * h, lo, hi)
    return out


# --- the base picture -------------------------------------------------------------------------------------------


def caption_lines(sample: Sample, trace: Trace, settings: dict) -> list[str]:
    """What the video says about itself: the sample, the checkpoint and the settings of the run it shows."""
    spec, view = settings.get("sample", {}), settings.get("view", {})
    L = int(sample.signal.sum())
    theta = trace.controller_theta
    pred = int(trace.prediction[0])
    lines = [f"sample {spec.get('index', '?')} of {settings.get('dataset', '?')} · true class {sample.label}",
             f"T = {trace.gate.shape[1]} ms · signal at {sample.start}–{sample.start + L - 1}",
             f"noise level {spec.get('noise_level', '?')} · noise seed {spec.get('seed', '?')}",
             f"checkpoint {settings.get('checkpoint', '?')}"]
    if trace.has_controller:
        lines.append(f"gate {view.get('gate', 'controller')} · mode {trace.gate_mode} · θc {theta:.3g}"
                     + (" (as trained)" if view.get("controller_theta") is None else ""))
        if view.get("edits"):
            lines.append(f"gate edits {view['edits']}")
        lines.append(f"prediction {'none (no output spike)' if pred < 0 else pred} · "
                     f"state updates {100 * float(trace.gate[0].float().mean()):.1f} %")
    else:
        lines.append(f"plain SNN (no gate) · prediction {'none (no output spike)' if pred < 0 else pred}")
    return lines


def video_figure(sample: Sample, trace: Trace, classes, settings: dict, options: VideoOptions) -> tuple[dict, Cursor]:
    """The linked view with nothing at the cursor, at the video's size, captioned, its geometry fixed by its layout."""
    import copy

    from .figures import explorer_base

    edits = ViewOptions(**settings["view"]).forced_edits if "view" in settings else ""
    figure, cursor = explorer_base(sample, trace, classes, height=options.height, meta=settings, edits=edits)
    figure = copy.deepcopy(figure)
    data, layout = figure["data"], figure["layout"]
    for i in (cursor.on, cursor.off, *cursor.lines):  # the moving parts are drawn per frame
        data[i].update(x=[], y=[])
    data[cursor.caption].update(text=[""])
    for name in layout:
        if name[:5] in ("xaxis", "yaxis"):
            layout[name]["automargin"] = False
    layout.update(width=options.width, height=options.height, margin={**MARGIN, "autoexpand": False})
    lines = [textwrap.fill(line, 58, subsequent_indent="  ") for line in caption_lines(sample, trace, settings)]
    body = "<br>".join(html.escape(line).replace("\n", "<br>") for line in lines)
    below = layout["yaxis"]["domain"][0]
    layout.setdefault("annotations", []).append({
        "text": "<b>SkipSNN Explorer</b><br>" + body, "xref": "paper", "yref": "paper", "x": 0.0, "y": below - 0.09,
        "xanchor": "left", "yanchor": "top", "align": "left", "showarrow": False, "font": {"size": 12, "color": "#1d2430"}})
    return figure, cursor


# kaleido 1.5 sometimes runs its render in a page whose script has not defined kaleido_scopes yet (seen here once in
# a parallel test run, with every core busy: "ReferenceError: kaleido_scopes is not defined"); the same render again
# works. Only that error is tried again, at most twice; any other is the caller's to report.
KALEIDO_RACE = "kaleido_scopes is not defined"


def kaleido_png(figure: dict, width: int, height: int, scale: float = 1) -> bytes:
    """The figure (a plain dict) as PNG bytes from kaleido."""
    import plotly.io

    for attempt in range(3):
        try:
            return plotly.io.to_image(figure, format="png", width=width, height=height, scale=scale, validate=False)
        except Exception as e:  # kaleido's errors are not one type
            if KALEIDO_RACE not in str(e) or attempt == 2:
                raise
    raise AssertionError("unreachable")


@lru_cache(maxsize=4)
def _render(figure_json: str, width: int, height: int) -> bytes:
    """One kaleido render, kept: the MP4 and the GIF of one view share it."""
    import json

    return kaleido_png(json.loads(figure_json), width, height)


def render_base(figure: dict, options: VideoOptions) -> np.ndarray:
    """The figure as an (height, width, 3) uint8 picture (kaleido, which drives a Chrome or Chromium it finds)."""
    import plotly.io
    from PIL import Image

    try:
        import kaleido  # noqa: F401  (only to say clearly when it is missing)
    except ImportError:
        raise RuntimeError("video export needs kaleido (pip install kaleido) and a Chrome or Chromium it can find") from None
    try:
        png = _render(plotly.io.json.to_json_plotly(figure), options.width, options.height)
    except Exception as e:  # kaleido's own errors (no browser, a browser that died) are not one type
        said = next((line.strip() for line in str(e).splitlines() if line.strip()), type(e).__name__)
        raise RuntimeError(f"the figure could not be rendered: kaleido needs a Chrome or Chromium it can start "
                           f"(Debian: apt-get install chromium). It said: {said}") from e
    with Image.open(io.BytesIO(png)) as im:
        pixels = np.asarray(im.convert("RGB"))
    if pixels.shape != (options.height, options.width, 3):
        raise RuntimeError(f"kaleido returned a {pixels.shape[1]}×{pixels.shape[0]} picture, not {options.width}×{options.height}")
    return pixels


# --- drawing what moves -----------------------------------------------------------------------------------------


def _blend(region: np.ndarray, color: np.ndarray, alpha) -> None:
    """region ← region·(1 − α) + colour·α, in place (α a scalar or broadcastable to region[..., :1])."""
    region[...] = np.rint(region * (1.0 - alpha) + color * alpha).astype(np.uint8)


def _vline(frame: np.ndarray, x: float, y0: float, y1: float, width: float, color: np.ndarray) -> None:
    """A vertical line centred at pixel coordinate x, ``width`` px wide, each column covered by its share."""
    a, b = x - width / 2, x + width / 2
    r0, r1 = int(np.floor(min(y0, y1))), int(np.ceil(max(y0, y1)))
    r0, r1 = max(r0, 0), min(r1, frame.shape[0])
    for col in range(int(np.floor(a)), int(np.ceil(b))):
        cover = min(b, col + 1) - max(a, col)
        if 0 <= col < frame.shape[1] and cover > 0:
            _blend(frame[r0:r1, col], color, cover)


@dataclass(frozen=True)
class Painter:
    """Draws the cursor's parts onto the base picture: built once per video, called per frame."""

    base: np.ndarray  # (height, width, 3) uint8
    sample: Sample
    trace: Trace
    ex: Axis  # the input picture's axes
    ey: Axis
    time_x: Axis  # the shared time axis
    panels: tuple[tuple[float, float], ...]  # each time panel's cursor span, top and bottom pixel rows
    caption_at: tuple[float, float]  # pixel centre of the step caption

    @staticmethod
    def build(base: np.ndarray, figure: dict, cursor: Cursor, sample: Sample, trace: Trace) -> "Painter":
        layout = figure["layout"]
        geo = plot_geometry(layout, base.shape[1], base.shape[0])
        spans = []
        for i, (lo, hi) in zip(cursor.lines, cursor.ranges):
            y = geo["yaxis" + figure["data"][i]["yaxis"][1:]]
            spans.append((float(y.px(hi)), float(y.px(lo))))
        ex, ey = geo["xaxis"], geo["yaxis"]
        W = sample.sensor_size[0]
        return Painter(base, sample, trace, ex, ey, geo["xaxis2"], tuple(spans), (float(ex.px((W - 1) / 2)), float(ey.px(-1.6))))

    def frame(self, t: int) -> np.ndarray:
        out = self.base.copy()
        admitted = bool(self.trace.gate[0, t])
        x, y, p = events_at(self.sample, t)
        cx, cy = self.ex.px(x), self.ey.px(y)
        alpha = 1.0 if admitted else SKIPPED_OPACITY
        for polarity, color in ((1, hex_rgb(ON)), (0, hex_rgb(OFF))):  # ON first, OFF on top, as the figure's traces
            for px, py in zip(cx[p == polarity], cy[p == polarity]):
                c0, r0 = int(round(px - MARKER / 2)), int(round(py - MARKER / 2))
                _blend(out[max(r0, 0):r0 + MARKER, max(c0, 0):c0 + MARKER], color, alpha)
        self._caption(out, t, admitted)
        xt = float(self.time_x.px(t))
        for top, bottom in self.panels:
            _vline(out, xt, top, bottom, 1.5, hex_rgb(CURSOR))
        return out

    def _caption(self, out: np.ndarray, t: int, admitted: bool) -> None:
        text = f"t = {t} ms · {'admitted' if admitted else 'skipped'}" + (" · signal" if self.sample.signal[t] else "")
        mask = _text_mask(text)
        h, w = mask.shape
        c0, r0 = int(round(self.caption_at[0] - w / 2)), int(round(self.caption_at[1] - h / 2))
        c0, r0 = max(c0, 0), max(r0, 0)
        region = out[r0:r0 + h, c0:c0 + w]
        _blend(region, hex_rgb(OPEN if admitted else SKIPPED_TEXT), mask[: region.shape[0], : region.shape[1], None])


@lru_cache(maxsize=1024)
def _text_mask(text: str) -> np.ndarray:
    """The text's coverage in [0, 1], (rows, cols) float32, in Pillow's own font at the caption's size."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=CAPTION_SIZE)
    left, top, right, bottom = font.getbbox(text)
    im = Image.new("L", (right - left + 2, bottom - top + 2), 0)
    ImageDraw.Draw(im).text((1 - left, 1 - top), text, fill=255, font=font)
    return np.asarray(im, dtype=np.float32) / 255.0


def frames(sample: Sample, trace: Trace, classes, settings: dict, options: VideoOptions,
           progress: Progress | None = None) -> Iterator[np.ndarray]:
    """The video's frames, (height, width, 3) uint8 each: one base render, then the cursor drawn per frame."""
    report = progress or (lambda fraction, text: None)
    report(0.0, "rendering the figure")
    figure, cursor = video_figure(sample, trace, classes, settings, options)
    painter = Painter.build(render_base(figure, options), figure, cursor, sample, trace)
    steps = cursor_steps(options.n_frames, trace.gate.shape[1])
    for i, t in enumerate(steps):
        yield painter.frame(int(t))
        if (i + 1) % 10 == 0 or i + 1 == len(steps):
            report(0.1 + 0.9 * (i + 1) / len(steps), f"frame {i + 1} of {len(steps)}")


# --- encoding ---------------------------------------------------------------------------------------------------


def encode_mp4(pictures: Iterator[np.ndarray], options: VideoOptions) -> bytes:
    """H.264 in an MP4 (PyAV's own FFmpeg, libx264), yuv420p so that every player takes it, the index at the front
    so that a browser plays it while it loads; one frame per picture."""
    import fractions
    import tempfile
    from pathlib import Path

    import av

    with tempfile.TemporaryDirectory(prefix="skipsnn_video_") as folder:  # +faststart rewrites the file: not in memory
        path = Path(folder) / "view.mp4"
        try:
            with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
                stream = container.add_stream("libx264", rate=fractions.Fraction(options.fps).limit_denominator(1001))
                stream.width, stream.height, stream.pix_fmt = options.width, options.height, "yuv420p"
                stream.options = {"preset": "veryfast", "crf": "18", "tune": "stillimage"}
                for picture in pictures:
                    for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                        container.mux(packet)
                for packet in stream.encode():
                    container.mux(packet)
        except av.error.FFmpegError as e:
            raise RuntimeError(f"the video could not be encoded (PyAV's FFmpeg): {e}") from e
        return path.read_bytes()


def _palette(base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A palette of at most 255 colours for the base and what is drawn over it (index 255 stays free: it is the
    transparent "unchanged" of a difference frame), and a 32³ lookup from colour to palette index.

    The drawn colours (events, dimmed events, cursor, caption, each blended at a few strengths over white)
    get entries of their own; the base's own colours fill the rest (median cut).
    """
    from PIL import Image

    white, band = hex_rgb("#ffffff"), np.array([255.0, 196.0, 0.0])  # the signal band: this yellow at 18 % (SIGNAL)
    drawn = [white * (1 - a) + hex_rgb(c) * a for c in (ON, OFF, OPEN, SKIPPED_TEXT, CURSOR)
             for a in (1.0, 0.75, 0.5, 0.3, SKIPPED_OPACITY, 0.1)]
    drawn += [hex_rgb("#b9bec6") * (1 - SKIPPED_OPACITY) + hex_rgb(c) * SKIPPED_OPACITY for c in (ON, OFF)]
    named = [hex_rgb(c) for c in (OPEN, CLOSED, SIGNAL_TEXT, *CLASS_COLORS)]  # few pixels each, but they carry meaning
    drawn += named + [c * 0.82 + band * 0.18 for c in named]
    fixed = np.unique(np.rint(np.array(drawn)).astype(np.uint8), axis=0)
    rest = Image.fromarray(base).quantize(colors=255 - len(fixed), method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    own = np.array(rest.getpalette()[: 3 * len(rest.getcolors())], dtype=np.uint8).reshape(-1, 3)
    palette = np.concatenate([own, fixed])[:255]
    grid = (np.stack(np.meshgrid(*[np.arange(32)] * 3, indexing="ij"), -1).reshape(-1, 3) * 8 + 4).astype(np.float32)
    lookup = np.empty(len(grid), dtype=np.uint8)
    for i in range(0, len(grid), 4096):  # nearest palette colour, in slices that stay small
        d = ((grid[i:i + 4096, None, :] - palette[None].astype(np.float32)) ** 2).sum(-1)
        lookup[i:i + 4096] = d.argmin(1)
    return palette, lookup.reshape(32, 32, 32)


def encode_gif(pictures: Iterator[np.ndarray], options: VideoOptions) -> bytes:
    """An animated GIF (Pillow): one palette for all frames, each frame's pixels that differ from the base mapped
    through its lookup (the base's own mapped once, exactly).

    Pillow stores each frame as its difference from the one before (small: the cursor and the input picture)
    and merges identical neighbours (more frames than steps), adding up their durations.
    """
    from PIL import Image

    pictures = iter(pictures)
    first = next(pictures)
    palette, lookup = _palette(first)
    palette = np.concatenate([palette, np.zeros((256 - len(palette), 3), np.uint8)])  # TRANSPARENT and any unused
    pal = Image.new("P", (1, 1))
    pal.putpalette(palette.ravel().tolist())
    base_index = np.asarray(Image.fromarray(first).quantize(palette=pal, dither=Image.Dither.NONE))

    def indexed(picture: np.ndarray) -> Image.Image:
        index = base_index.copy()
        d = picture != first
        changed = d[..., 0] | d[..., 1] | d[..., 2]  # np.any(axis=2) takes 10x as long
        rgb = picture[changed] >> 3
        index[changed] = lookup[rgb[:, 0], rgb[:, 1], rgb[:, 2]]
        im = Image.fromarray(index, mode="P")
        im.putpalette(palette.ravel().tolist())
        return im

    images = [indexed(first), *(indexed(p) for p in pictures)]
    ends = np.rint(np.arange(1, len(images) + 1) * (100.0 / options.fps)).astype(int) * 10  # GIF delays are in 1/100 s
    durations = np.diff(np.concatenate([[0], ends])).clip(min=10).tolist()
    buf = io.BytesIO()
    # optimize + transparency: Pillow fills the unchanged pixels of each difference box with TRANSPARENT (the box spans
    # the input picture to the cursor; long runs of one index cost LZW next to nothing); disposal 1 keeps the last frame
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0, optimize=True,
                   transparency=TRANSPARENT, disposal=1)
    return buf.getvalue()


def to_video(sample: Sample, trace: Trace, classes, settings: dict, kind: Literal["mp4", "gif"],
             options: VideoOptions = VideoOptions(), progress: Progress | None = None) -> bytes:
    """The linked view with its cursor sweeping every step, as MP4 or GIF bytes."""
    if kind not in ("mp4", "gif"):
        raise ValueError(f"unknown video format {kind!r}: mp4 or gif")
    pictures = frames(sample, trace, classes, settings, options, progress)
    content = encode_mp4(pictures, options) if kind == "mp4" else encode_gif(pictures, options)
    if progress:
        progress(1.0, "done")
    return content
