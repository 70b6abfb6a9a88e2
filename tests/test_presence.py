"""ui/presence.py: the per-setting caches are shared while anyone is here and go when the last session leaves."""

from skipsnn_core.explore import SampleSpec, ViewOptions
from ui import presence, state


def test_the_per_setting_caches_go_with_the_last_session_and_not_before(monkeypatch):
    selection = state.Selection("digits", None, "digits_skipsnn.pt", "digits_skipsnn")
    spec, view = SampleSpec(index=3), ViewOptions()
    sample = state.sample_for(selection, spec)
    trace = state.trace_for(selection, spec, view, sample)
    model = state.model_for(selection)
    monkeypatch.setattr(presence, "_sessions", 2)

    presence._left(None)  # one of two leaves: the class is still here
    assert presence.sessions_here() == 1
    assert state.sample_for(selection, spec) is sample and state.trace_for(selection, spec, view, sample) is trace

    presence._left(None)  # the last one leaves
    assert presence.sessions_here() == 0
    fresh = state.sample_for(selection, spec)
    assert fresh is not sample, "the sample cache was cleared"
    assert state.trace_for(selection, spec, view, fresh) is not trace, "the trace cache was cleared"
    assert state.model_for(selection) is model, "the server's own model stays loaded"
