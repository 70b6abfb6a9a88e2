"""Explore: one sample through SkipSNN, with the gate, membranes and spikes on one time axis."""

import json
from dataclasses import asdict, replace

import streamlit as st

from skipsnn_core import export
from skipsnn_core.explore import gate_story, label_text, percent, signed, verdict
from skipsnn_core.figures.compare import compare_figure
from ui import controls, links, presentation, presets, theme
from ui.glossary import GLOSSARY
from ui.layout import first_screen
from ui.sidebar import selected_or_stop
from ui.components.explorer_chart import edit_of, explorer_chart, live_figure, neuron_of
from ui.state import SHOWN_ERRORS, explorer_payload_for, open_evidence_for, sample_for, summary_for, trace_for

INTRO = ("A digit's events (yellow band) arrive somewhere in 300 ms of noise. The controller neuron decides at every "
         "step whether the next frame reaches the network (**admitted**) or is skipped (**hibernating**). Press ▶ to "
         "play; move a slider to re-run the network.")

presentation.seed()
head, switch = st.columns([4, 1.25], vertical_alignment="center")
head.title("Event attention, step by step", help=INTRO.replace("**", ""))
with switch:
    present = presentation.toggle()
if not present:
    first_screen()

selection, model, data = selected_or_stop()

classes = [str(c) for c in range(model.config.n_classes)]
gated = model.config.controller
controls.seed(model, selection, len(data.y), data.x.shape[1])


def on_the_projector(spec, view, link, sample, trace, s) -> None:
    """Presentation mode: three cards and the whole figure, on one screen; the files and the link one click away."""
    m = st.columns([1, 1, 1, 0.55], vertical_alignment="center")
    m[0].metric("Prediction", verdict(s.prediction, s.label, classes), label_text(s.label, classes),
                delta_color="off", delta_arrow="off")
    if gated:
        m[1].metric("State updates", percent(s.state_updates, 1), f"oracle {percent(s.oracle_state_updates, 1)}",
                    delta_color="off", delta_arrow="off")
        m[2].metric("Synaptic work saved", percent(s.synops_saving), "against the gate forced open", delta_color="off",
                    delta_arrow="off")
    with m[3].popover("Share", icon=":material/ios_share:", width="stretch", help="This view as files, and its link",
                      key="share_open", on_change="rerun") as share:
        if share.open:  # made when opened, not on every rerun
            files(spec, view, sample, trace, {**link, "present": 1}, columns=1)
    cursor = explorer_chart(explorer_payload_for(selection, spec, view, False, sample, trace, projector=True),
                            key="explorer_chart", cursor=st.session_state["cursor_from_link"], fit=True)
    links.publish({**link, "t": cursor, "present": 1})


def downloads(spec, view, sample, trace, link) -> None:
    """The files and the link, drawn only while the panel is open: a slider's rerun does not send (and the browser
    does not redraw) its nine elements for nobody."""
    with st.expander("Export this view and share its link", key="export_open", on_change="rerun") as box:
        if box.open:
            files(spec, view, sample, trace, link)


def files(spec, view, sample, trace, link, columns: int = 4) -> None:
    """This view as files (made when clicked), and its full link."""
    exported = export.Exported(sample, trace, classes, {"checkpoint": selection.model_id or "uploaded", "dataset": selection.dataset,
                                                        "sample": asdict(spec), "view": asdict(view)})
    name = f"skipsnn_{selection.dataset}_{spec.index}_noise{spec.noise_level}"
    c = st.columns(columns)
    for i, (kind, what, make, mime) in enumerate((
            ("html", "Animated figure (.html, plays offline)", lambda: export.to_html(exported), "text/html"),
            ("png", "Figure for slides (.png, 2×)", lambda: export.to_png(exported), "image/png"),
            ("npz", "Every array of the run (.npz)", lambda: export.to_npz(exported), "application/octet-stream"),
            ("csv", "Per-step table (.csv)", lambda: export.to_csv(exported), "text/csv"))):
        c[i % columns].download_button(what, make, file_name=f"{name}.{kind}", mime=mime, key=f"export_{kind}",
                                       on_click="ignore", width="stretch")
    videos(exported, name)
    st.caption("The link to exactly this view (copy it with the button at its right):")
    st.code(links.absolute(link), language=None)


VIDEOS = (("mp4", "Video for slides (.mp4)", "video/mp4", export.to_mp4), ("gif", "Animated GIF (.gif)", "image/gif", export.to_gif))


def videos(exported, name: str) -> None:
    """The view as a video (1280×720, the cursor over every step in 10 s), made when asked with a progress bar and kept
    for this view until it changes; a failure is said, not raised."""
    view_key = json.dumps([exported.settings, selection.checkpoint, selection.data_dir], sort_keys=True)  # what it shows
    made = {k: v for k, v in st.session_state.get("export_videos", {}).items() if k[0] == view_key}  # older views' go
    st.session_state["export_videos"] = made
    for col, (kind, what, mime, make) in zip(st.columns(2), VIDEOS):
        slot = col.empty()  # the button, then its progress bar, then the download (or what went wrong), in one place
        content = made.get((view_key, kind))
        if content is None and slot.button(f"Make the {kind.upper()} (1280×720, 10 s)", key=f"make_{kind}", width="stretch",
                                           help="The linked view with its cursor sweeping all steps, captioned with the "
                                           "sample, checkpoint and settings; takes a few seconds"):
            bar = slot.progress(0.0, text=f"Making the {kind.upper()}: rendering the figure")
            try:
                content = make(exported, progress=lambda done, text: bar.progress(done, text=f"Making the {kind.upper()}: {text}"))
            except Exception as e:  # a missing browser for kaleido, a codec error: said on the page, never a traceback
                slot.error(f"**The {kind.upper()} could not be made.** {e}")
            else:
                made[(view_key, kind)] = content
        if content is not None:
            slot.download_button(f"{what}, {len(content) / 1e6:.1f} MB", content, file_name=f"{name}.{kind}", mime=mime,
                                 key=f"export_{kind}", on_click="ignore", width="stretch")


def pick_neuron() -> None:
    """A click on a hidden raster row: that neuron is the one the Why page inspects."""
    neuron = neuron_of("explorer_chart")
    if neuron is not None:
        st.session_state["why_neuron"] = st.session_state["picked_neuron"] = neuron


def edited_cards(spec, view, sample, trace, s) -> None:
    """The edited run against the controller's own, beside the chart: what forcing those frames changed."""
    o = summary_for(selection, spec, replace(view, edits=""), sample, own_trace(spec, view, sample))
    st.markdown("**What the edits changed**  \nagainst the controller's own gate")
    st.metric("Prediction, edited", verdict(s.prediction, s.label, classes), f"controller's own: {verdict(o.prediction, o.label, classes)}",
              delta_color="off", delta_arrow="off")
    st.metric("Confidence, edited", "–" if s.silent else percent(s.confidence),
              None if s.silent or o.silent else signed(100 * (s.confidence - o.confidence), 0, " points"))
    st.metric("State updates, edited", percent(s.state_updates, 1), signed(100 * (s.state_updates - o.state_updates), 1, " points"),
              delta_color="inverse")
    st.metric("Synaptic ops, edited", f"{s.synops / 1e6:.2f} M", signed((s.synops - o.synops) / 1e6, 2, " M"), delta_color="inverse")


def own_trace(spec, view, sample):
    return trace_for(selection, spec, replace(view, edits=""), sample)


def edited_figure(spec, view, sample, trace) -> None:
    st.markdown("**What the edits changed**, step by step (edited run against the controller's own, same sample)")
    st.plotly_chart(theme.figure(compare_figure(sample, [("edited", trace), ("controller's own", own_trace(spec, view, sample))],
                                                classes)),
                    key="edit_compare", width="stretch", config={"displaylogo": False})


def headline_cards(s) -> None:
    """The prediction and the state updates: first beside the chart, on the first screen."""
    st.metric("Prediction", verdict(s.prediction, s.label, classes), label_text(s.label, classes),
              delta_color="off", delta_arrow="off",
              help="argmax of output spikes per admitted step; a network that emitted no output spike has no prediction")
    if gated:
        st.metric("State updates", percent(s.state_updates, 1), f"oracle {percent(s.oracle_state_updates, 1)}",
                  delta_color="off", delta_arrow="off",
                  help="admitted frames / all frames; the oracle opens exactly on the signal (L/T)")


def more_cards(s) -> None:
    """The run's other figures, under the headline (and under what the edits changed)."""
    if gated:
        saved = percent(s.synops_saving)
        st.metric("Synaptic ops", f"{s.synops / 1e6:.2f} M", f"{saved} saved",
                  delta_color="off" if saved == "0%" else "normal",  # a negative saving (extra work) shows red
                  delta_arrow="off",
                  help="input events × H + hidden spikes × C + controller input, summed over the sample; "
                  "saved: against the same weights with the gate always open")
    else:
        st.metric("Synaptic ops", f"{s.synops / 1e6:.2f} M",
                  help="input events × H + hidden spikes × C, summed over the sample; a plain SNN admits every frame")
    st.metric("Confidence", "–" if s.silent else percent(s.confidence),
              help="share of the predicted class in the summed output rates")
    if gated:
        st.metric("Gate precision", f"{s.gate_precision:.2f}", help="admitted frames that hold signal")
        st.metric("Gate recall", f"{s.gate_recall:.2f}", help="signal frames that were admitted")


def forced_open_cards(s) -> None:
    st.markdown("**Gate forced open**  \nsame weights, every frame admitted")
    st.metric("Prediction", verdict(s.open_prediction, s.label, classes))
    st.metric("Confidence", "–" if s.open_silent else percent(s.open_confidence))
    st.metric("Synaptic ops", f"{s.synops_open / 1e6:.2f} M")


@st.fragment
def explorer() -> None:
    present = presentation.active()
    if present:
        settings = controls.controls(model, selection, data.y, data.x.shape[1], compact=True)
    else:  # one toolbar: the sample and the two knobs in sight, everything else one click away
        bar = st.columns([0.65, 1.0, 1.0, 0.95, 1.0, 0.85], vertical_alignment="bottom")
        more = bar[3].popover("Settings", icon=":material/tune:", width="stretch",
                              help="Preset, digit, signal start, gate mode, who decides the gate, noise seed, axis ranges")
        if selection.dataset == "digits":
            with more:
                presets.picker()
        settings = controls.controls(model, selection, data.y, data.x.shape[1], row=bar[:3], more=more)
        with more:
            full = st.toggle("Full membrane ranges", key="explore_full",
                             help="Off: the controller and output axes are clipped around their thresholds, so every "
                             "crossing shows; peaks leave the plot. On: each axis spans its whole curve.")
        with bar[4].popover(controls.edits_label(model), icon=":material/edit:", width="stretch", key="edits_menu",
                            help="What a click or a drag on the gate does; undo, clear"):
            controls.edit_controls(model)
        with bar[5].popover("Symbols", icon=":material/help:", width="stretch", help="What the symbols mean",
                            key="symbols_open", on_change="rerun") as symbols:
            if symbols.open:  # the glossary's markdown, sent and drawn only while it is open
                st.markdown(INTRO)
                st.markdown(GLOSSARY)
    spec, view, link = settings.spec, settings.view, settings.link
    try:
        sample = sample_for(selection, spec)
        trace = trace_for(selection, spec, view, sample)
    except SHOWN_ERRORS as e:
        st.error(f"**Inference failed.** {e}")
        return
    s = summary_for(selection, spec, view, sample, trace)

    if present:
        on_the_projector(spec, view, link, sample, trace, s)
        return
    story = gate_story(sample, trace, s) if gated else None
    st.markdown(story.text() if story else "A plain SNN: every frame reaches the network; there is no gate to watch.")
    chart, side = st.columns([4, 1])
    with chart:
        cursor = explorer_chart(explorer_payload_for(selection, spec, view, full, sample, trace), key="explorer_chart",
                                cursor=st.session_state["cursor_from_link"],
                                on_edit=lambda: controls.apply_chart_edit(edit_of("explorer_chart")), on_neuron=pick_neuron)
        if st.session_state.get("picked_neuron") is not None:
            st.page_link("views/why.py", label=f"Inspect hidden neuron {st.session_state['picked_neuron']} on *Why did the gate "
                         "open?*", icon=":material/manage_search:")
    with side:
        headline_cards(s)
        if view.edits and gated:
            edited_cards(spec, view, sample, trace, s)
        more_cards(s)
        if gated:
            forced_open_cards(s)
            live_figure(open_evidence_for(selection, spec, view, sample, trace), key="open_chart")
    if view.edits and gated:
        edited_figure(spec, view, sample, trace)
    links.publish({**link, "t": cursor})
    downloads(spec, view, sample, trace, link)

explorer()
