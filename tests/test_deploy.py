"""The Explorer served as a class would use it: two replicas behind HAProxy under supervisord (deploy/).

What must hold behind the proxy: each session stays on its replica (its reruns, a reconnect, its upload and its
media files); a checkpoint trained in one replica is offered by the other; the training limit holds per replica;
a replica killed mid-session leaves the other's sessions untouched and its own users on a fresh working page from
a live replica within 10 s, with a notice. Everything listens on loopback ports; every wait is bounded.

Needs haproxy (Debian's package, installed by .ci/run) and supervisor (requirements-dev.txt); a missing haproxy
skips with the reason, or fails where SKIPSNN_REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.browser import free_port, idle, rerun_done, script_runs, slider_input, wait_for_view
from bench import stclient
from bench.stclient import Session
from deploy.stack import COOKIE, Stack, StackConfig, haproxy_path
from tests.conftest import BROWSER_GROUP, NMNIST_DIR, missing, require_browser

# under pytest-xdist with --dist loadgroup the module stays in one worker, so its stack (two replicas, HAProxy,
# supervisord) starts once, not once in each worker; it is the worker of the other browser tests, whose Chromium
# it shares, and it comes after them (tests/conftest.py)
pytestmark = pytest.mark.xdist_group(BROWSER_GROUP)


@pytest.fixture(scope="module")
def running_stack(tmp_path_factory, app_server):
    if haproxy_path() is None:
        missing("the deploy tests need haproxy (apt-get install haproxy)", "SKIPSNN_REQUIRE_BROWSER")
    require_browser()
    app_server.stop()  # the other browser tests are done with it: two replicas, not three app servers, from here on
    tmp = tmp_path_factory.mktemp("deploy")
    port = free_port()
    cfg = StackConfig(replicas=2, port=port, first_port=_two_free_ports(port), run_dir=tmp / "run", models=tmp / "models",
                      trainings=1)
    with Stack(cfg) as running:
        yield running


@pytest.fixture
def stack(running_stack):
    """The module's stack with every replica served by the proxy: a test may follow the one that killed r1, in
    any order (and under pytest-xdist in any process), and supervisord's restart takes a few seconds."""
    running_stack.wait_until_serving(90)
    return running_stack


def _two_free_ports(avoid: int) -> int:
    """A port p with p and p + 1 free (and neither the proxy's)."""
    import socket

    for _ in range(50):
        p = free_port()
        if avoid in (p, p + 1):
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p + 1))
                return p
            except OSError:
                continue
    raise RuntimeError("no two consecutive free ports")


def pinned_page(browser, stack, replica: str | None, viewport=(1500, 1100)):
    """A page in a browser context of its own (its own cookies), sent to ``replica`` by the proxy's cookie if given."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    if replica:
        context.add_cookies([{"name": COOKIE, "value": replica, "url": stack.cfg.url}])
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(f"uncaught: {e}"))
    return page


def replica_of(page) -> str:
    """The replica named in the page's sidebar caption (ui/sidebar.py)."""
    text = page.locator('[data-testid="stSidebar"]').inner_text(timeout=30_000)
    for name in ("r1", "r2"):
        if f"server process {name}" in text:
            return name
    raise AssertionError(f"no replica named in the sidebar: {text[-300:]}")


def open_explore(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(".skipsnn-chart .main-svg", timeout=90_000)
    idle(page)


def errors_on(page) -> list[str]:
    return page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').all_inner_texts()


def test_the_browserless_client_reruns_exactly_as_chromium_does(running_stack, browser):
    """The load test's users are real users to the server: for the same two slider changes, bench/stclient.py sends
    the rerun Chromium sends (every widget state, the fragment, the page, the query) and gets the same chart."""
    from bench.serve_load import browser_and_client, widget_states

    page = pinned_page(browser, running_stack, None)
    try:
        seen, ours = browser_and_client(page, running_stack.cfg.url)
    finally:
        page.context.close()
    assert len(seen) == len(ours) == 2
    for (b, b_meta), (c, c_meta) in zip(seen, ours):
        # the sidebar's and the toolbar's widgets; those in a popover never opened the browser does not send, nor the client
        assert widget_states(b) == widget_states(c) and len(widget_states(b)) >= 6
        assert (b.fragment_id, b.page_script_hash, b.query_string) == (c.fragment_id, c.page_script_hash, c.query_string)
        assert b.fragment_id and b.page_script_hash
        assert b_meta == c_meta
    assert seen[1][1]["view"]["controller_theta"] == 0.55 and seen[1][1]["sample"]["noise_level"] == 2


def test_each_session_keeps_its_replica_for_reruns_and_reconnects(stack):
    """Browserless sessions through the proxy: they spread over both replicas, each one's cookie names the replica
    that rendered its page, and a reconnect with that cookie resumes the same session there (no restart notice)."""

    async def scenario():
        seen = []
        sessions = [Session(stack.cfg.url) for _ in range(4)]
        for s in sessions:  # opened one after another and kept open: leastconn alternates
            first = await s.open()
            caption = " ".join(e.markdown.body for t, e in first.elements if t == "markdown")
            named = [r for r in ("r1", "r2") if f"server process {r}" in caption]
            assert named == [s.cookies[COOKIE]], (named, s.cookies)
            for value in (2, 3):
                run = await s.set("noise", value)
                assert run.status == "fragment finished" and not run.problems, (run.status, run.problems)
            seen.append(s.cookies[COOKIE])
        assert sorted(seen) == ["r1", "r1", "r2", "r2"], seen
        s = sessions[0]
        await s.ws.close()  # the connection drops, as a laptop's Wi-Fi does; the browser reconnects and resumes
        again = Session(stack.cfg.url, cookies=s.cookies, resume=s.session_id)
        again.page_hash, again.widgets, again.query = s.page_hash, s.widgets, s.query
        await again.connect()
        run = await again.set("noise", 4)
        assert again.session_id in ("", s.session_id) and run.status == "fragment finished" and not run.problems
        assert again.cookies[COOKIE] == s.cookies[COOKIE]
        for x in [again, *sessions[1:]]:
            await x.close()

    stclient.run(scenario(), 120)


def choose(page, key: str, option: str) -> None:
    """Pick ``option`` in the select box with widget key ``key``, as a user does (open it, click the option)."""
    page.locator(f".st-key-{key} [role='combobox']").click()
    page.get_by_role("option", name=option).click()


def test_a_sessions_upload_and_its_media_reach_its_replica(stack, browser):
    """On a page on each replica: upload a real N-MNIST recording (PUT /_stcore/upload_file/<session>/...), see it
    run, then download the view's per-step table (a media file of that session). Both live only in the session's
    process: through the proxy they work only if every request of the page reaches that replica."""
    recording = NMNIST_DIR / "samples" / "1.bs2"
    if not recording.is_file():
        pytest.skip(f"no real recording at {recording}")
    pages = [pinned_page(browser, stack, None) for _ in range(2)]
    try:
        for page in pages:  # the first keeps its websocket open, so leastconn sends the second to the other replica
            open_explore(page, stack.cfg.url)
        assert sorted(replica_of(p) for p in pages) == ["r1", "r2"]
        for page in pages:
            choose(page, "dataset", "Your recording (upload)")
            page.locator(".st-key-upload_recording_file input[type='file']").set_input_files(str(recording))
            page.get_by_text("Using 1.bs2 (this session only)").wait_for(timeout=30_000)
            page.wait_for_selector(".skipsnn-chart .main-svg", timeout=60_000)
            assert not errors_on(page), errors_on(page)

            page.get_by_text("Export this view and share its link").click()
            with page.expect_download(timeout=30_000) as download:
                page.get_by_role("button", name="Per-step table (.csv)").click()
            table = Path(download.value.path()).read_text()
            assert table.startswith("t,events,signal,gate,") and len(table.splitlines()) == 301, table[:200]
            assert not errors_on(page) and not page.problems, (errors_on(page), page.problems)
    finally:
        for page in pages:
            page.context.close()


def train_page(browser, stack, replica: str):
    page = pinned_page(browser, stack, replica)
    page.goto(stack.cfg.url + "/train")
    page.get_by_role("button", name="Start training").wait_for(timeout=90_000)
    idle(page)
    assert replica_of(page) == replica
    return page


def set_tiny_training(page, name: str) -> None:
    """One epoch of the smallest network on the first 300 training digits (as a user sets it: Home on the epochs and
    neurons sliders, the second choice of digits), saved under ``name``: ready for a press of Start."""
    for key in ("train_epochs", "train_hidden", "train_limit"):
        slider_input(page, key).focus()
        page.keyboard.press("Home")
        idle(page)
    slider_input(page, "train_limit").focus()
    page.keyboard.press("ArrowRight")  # Training digits: 100 -> 300, long enough for the queue to be seen
    idle(page)
    page.locator(".st-key-train_name input").fill(name)
    page.locator(".st-key-train_name input").press("Enter")
    idle(page)


def start(page) -> None:
    page.get_by_role("button", name="Start training").click()


def test_training_limit_is_per_replica_and_a_checkpoint_trained_on_one_is_offered_on_the_other(stack, browser):
    """SKIPSNN_TRAININGS=1 per replica (the stack's setting here): a second training on r1 waits in r1's queue while
    one on r2 starts at once; the checkpoint the r1 run saves into the shared models folder is in the sidebar of a
    session on r2. Every page is set up before the first run starts, so the queue is seen while that run lasts."""
    from playwright.sync_api import expect

    first, queued, other = (train_page(browser, stack, r) for r in ("r1", "r1", "r2"))
    try:
        for page, name in ((first, "tiny_from_r1"), (queued, "tiny_queued"), (other, "tiny_from_r2")):
            set_tiny_training(page, name)
        start(first)
        first.get_by_text("Preparing the frames").or_(first.get_by_text("Epoch 1 of 1")).first.wait_for(timeout=60_000)
        start(queued)
        queued.get_by_text("Waiting for a free slot").wait_for(timeout=30_000)
        queued.get_by_text("number 1 in the queue").wait_for(timeout=5_000)
        assert not first.get_by_text("tiny_from_r1 saved").count(), "the queue was seen while the first run lasted"
        start(other)  # another replica: another board, its own limit
        other.get_by_text("Preparing the frames").or_(other.get_by_text("Epoch 1 of 1")).first.wait_for(timeout=30_000)
        for page in (queued, other):  # neither is needed further; stopping leaves the CPU to the first run
            page.get_by_role("button", name="Stop").click()
        first.get_by_text("tiny_from_r1 saved").wait_for(timeout=150_000)
        assert (stack.cfg.models / "tiny_from_r1.pt").is_file()

        # the r2 session's next run lists the models folder again (its sidebar is the same on every page): a change
        # of a Train page setting reruns the whole page, sidebar included. First its own run has ended (a stop takes
        # effect at the next batch, after the frames) and its controls are back: a key press on a locked slider is lost.
        other.get_by_text("nothing was saved").wait_for(timeout=150_000)
        expect(other.get_by_role("button", name="Start training")).to_be_enabled(timeout=30_000)
        idle(other)
        runs = script_runs(other)
        slider_input(other, "train_noise").focus()
        other.keyboard.press("ArrowRight")
        rerun_done(other, runs)
        assert replica_of(other) == "r2"
        other.locator(".st-key-model_digits [role='combobox']").click()
        options = other.get_by_role("option").all_inner_texts()
        assert any("tiny_from_r1" in o for o in options), options
        assert not any("tiny_from_r2" in o or "tiny_queued" in o for o in options), "stopped runs save nothing"
        for page in (first, queued, other):
            assert not errors_on(page) and not page.problems, (errors_on(page), page.problems)
    finally:
        for page in (first, queued, other):
            page.context.close()


def test_a_killed_replica_leaves_the_other_untouched_and_its_users_on_a_fresh_page(stack, browser):
    """Kill r1 (SIGKILL) with a page open on each replica: the r2 page keeps working without an error; the r1 page
    is working again within 10 s, from a live replica, and says its session restarted."""
    left, right = pinned_page(browser, stack, "r1"), pinned_page(browser, stack, "r2")
    try:
        url = stack.cfg.url + "/?noise=3"
        open_explore(left, url)
        open_explore(right, url)
        assert (replica_of(left), replica_of(right)) == ("r1", "r2")
        left.wait_for_timeout(500)

        killed_at = time.monotonic()
        stack.kill("r1")
        slider_input(right, "noise").focus()
        right.keyboard.press("ArrowRight")
        wait_for_view(right, "sample", "noise_level", 4, timeout_ms=30_000)
        assert not errors_on(right) and not right.problems, (errors_on(right), right.problems)
        assert replica_of(right) == "r2"

        left.get_by_text("This session restarted on another server process").wait_for(timeout=10_000)
        left.wait_for_function("() => Array.from(document.querySelectorAll('.js-plotly-plot')).some(gd => "
                               "gd.layout && gd.layout.meta && gd.layout.meta.sample && gd.layout.meta.sample.noise_level === 3)",
                               timeout=max(1_000, 10_000 - 1000 * (time.monotonic() - killed_at)))
        back_in = time.monotonic() - killed_at
        assert back_in <= 10.0, f"working again after {back_in:.1f} s"
        assert not errors_on(left) and not left.problems, (errors_on(left), left.problems)
        slider_input(left, "noise").focus()  # and it works: a rerun on its new replica
        left.keyboard.press("ArrowRight")
        wait_for_view(left, "sample", "noise_level", 4, timeout_ms=30_000)
        print(f"r1 killed: its page was working again on {replica_of(left)} after {back_in:.1f} s")
    finally:
        left.context.close()
        right.context.close()
