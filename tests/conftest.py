"""Shared fixtures: the real N-MNIST recordings beside the project, small models, generators."""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# No test sees or writes the user's own models folder (~/.cache/skipsnn_explorer/models): every test process starts
# with an empty one of its own, and the servers it starts inherit it; a test that needs a folder sets its own.
_MODELS = tempfile.mkdtemp(prefix="skipsnn-test-models-")
atexit.register(shutil.rmtree, _MODELS, ignore_errors=True)
os.environ["SKIPSNN_MODELS"] = _MODELS  # skipsnn_core.roots.MODELS_ENV

# Under pytest-xdist each worker gets its share of the cores for torch's own threads, not all of them each. (torch is
# imported where it is used: the xdist controller, which loads this file but runs no test, never loads it.)
if os.environ.get("PYTEST_XDIST_WORKER"):
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))))


@pytest.fixture(scope="session", autouse=True)
def bounded_heap():
    """Big blocks go back to the system when freed, as in the app's server (ui/presence.py); in every process that
    runs tests (not the xdist controller, which runs none). A no-op where the C library is not glibc."""
    from ui.presence import bound_the_heap

    bound_the_heap()


@pytest.fixture(scope="module", autouse=True)
def leave_the_worker_as_found():
    """After each module, what it left in this worker goes: Streamlit's caches (AppTest runs the app in this process,
    and its models, framed splits, sweeps and traces stay there for the next module otherwise), the garbage, and the
    heap glibc keeps for later (one process running every module but the browser ones ended at 1.9 GB without this)."""
    yield
    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_data.clear()
        st.cache_resource.clear()
    import gc

    gc.collect()
    from ui.presence import trim_heap

    trim_heap()


BROWSER_GROUP = "browser"  # the xdist group of every test that drives the session's Chromium (one worker, one browser)
NMNIST_DIR = Path(os.environ.get("SKIPSNN_NMNIST_DIR", ROOT.parent / "shared" / "data" / "nmnist"))


def missing(reason: str, required_by: str) -> NoReturn:
    """Skip with the reason, or fail where the environment variable ``required_by`` is 1 (.ci/run sets them, so CI
    never skips what it must run)."""
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{reason} ({required_by}=1)")
    pytest.skip(reason)


@pytest.fixture
def nmnist_dir() -> Path:
    """The shared real recordings; missing, the test skips with the reason, or fails where
    SKIPSNN_REQUIRE_DATA=1 (set by .ci/run, so CI always runs the tests on real files)."""
    if not (NMNIST_DIR / "labels.csv").is_file():
        reason = f"real N-MNIST recordings not found at {NMNIST_DIR} (set SKIPSNN_NMNIST_DIR)"
        missing(reason, "SKIPSNN_REQUIRE_DATA")
    return NMNIST_DIR


def copy_nmnist(source: Path, folder: Path, n: int) -> Path:
    """The first n shared recordings and their labels.csv rows, copied into a folder of their own."""
    rows = (source / "labels.csv").read_text().splitlines()[1 : n + 1]
    for row in rows:
        name = row.split(",")[0]
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / name, folder / name)
    (folder / "labels.csv").write_text("filename,label\n" + "\n".join(rows) + "\n")
    return folder


@pytest.fixture
def nmnist_signals(nmnist_dir):
    """Frames (4, 50, 2312) and labels of four real recordings."""
    from skipsnn_core.data import NMNISTFolder, frames

    ds = NMNISTFolder(nmnist_dir, "test")
    picked = [ds[i] for i in range(4)]
    import torch

    x = np.stack([frames(e, ds.sensor_size) for e, _ in picked])
    return torch.from_numpy(x).float(), [lab for _, lab in picked]


@pytest.fixture
def gen() -> "torch.Generator":
    import torch

    return torch.Generator().manual_seed(7)


class FakeTqdm:
    """Stands in for tqdm.tqdm and records every bar: what it counts, its text, whether it is shown."""

    bars: list = []

    def __init__(self, iterable=None, total=None, desc=None, disable=False, **kwargs):
        self.iterable, self.total, self.desc, self.disable = iterable, total, desc, disable
        self.n, self.closed, self.postfix = 0, False, None
        FakeTqdm.bars.append(self)

    def __iter__(self):
        return iter(self.iterable)

    def update(self, n=1):
        self.n += n

    def set_postfix(self, **values):
        self.postfix = values

    def close(self):
        self.closed = True


@pytest.fixture
def fake_tqdm(monkeypatch):
    import tqdm

    FakeTqdm.bars = []
    monkeypatch.setattr(tqdm, "tqdm", FakeTqdm)
    return FakeTqdm.bars


def require_browser() -> None:
    """Skip with the reason when Chromium or Playwright is missing, or fail where SKIPSNN_REQUIRE_BROWSER=1
    (set by .ci/run, so CI always runs the browser tests)."""
    from bench.browser import chromium_path

    absent = []  # not ``missing``: that name is the skip-or-fail helper called below
    if chromium_path() is None:
        absent.append("Chromium (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        absent.append("Playwright for Python (pip install playwright)")
    if absent:
        reason = "browser tests need " + " and ".join(absent)
        missing(reason, "SKIPSNN_REQUIRE_BROWSER")


def require_axe() -> None:
    """Skip with the reason when axe-playwright-python (the copy of axe-core the accessibility checks run) is
    missing, or fail where SKIPSNN_REQUIRE_BROWSER=1."""
    if importlib.util.find_spec("axe_playwright_python") is None:
        missing("the accessibility tests need axe-playwright-python (pip install -r requirements-dev.txt)",
                "SKIPSNN_REQUIRE_BROWSER")


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for every test that needs a real browser; each opens its own pages."""
    require_browser()
    from bench.browser import chromium_browser

    with chromium_browser() as browser:
        yield browser


class AppServer:
    """The app server of this process's browser tests, started when a test first asks for it and stoppable before the
    deploy tests start their own two (tests/test_deploy.py): at most two app servers are alive in one worker."""

    def __init__(self, models: Path):
        self.models, self._url, self._running = models, None, contextlib.ExitStack()

    def url(self) -> str:
        if self._url is None:
            from bench.browser import server
            from skipsnn_core.roots import MODELS_ENV

            self._url = self._running.enter_context(server(env={MODELS_ENV: str(self.models)}))[0]
        return self._url

    def stop(self) -> None:
        self._url = None
        self._running.close()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    server = AppServer(tmp_path_factory.mktemp("models"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def served(app_server):
    """The URL of this process's app server for the browser tests (tests/test_a11y.py, test_browser.py,
    test_layout.py): one server, started by the first module that asks (again after the deploy tests stopped it);
    each test opens its own session on it. Its models folder is a fresh one, so a run on the Train page saves its
    checkpoint there, not in the user's."""
    require_browser()
    return app_server.url()


@pytest.fixture(scope="session")
def light(browser):
    """One light-scheme browser context for the session's pages: they share its HTTP cache, so Streamlit's bundle and
    plotly.js are fetched and compiled once, not once per test (a page in a fresh context took 4.8 s to its first
    chart here, 2.1 s in a warm one). Tests that change what a context remembers (its colour scheme, a proxy's
    cookie) open a context of their own."""
    context = browser.new_context(color_scheme="light")
    yield context
    context.close()


@pytest.fixture
def new_page(light):
    """``new_page(width, height)``: a page of the session's light context at that size, closed after the test."""
    pages = []

    def open_page(width: int = 1440, height: int = 900):
        page = light.new_page()
        page.set_viewport_size({"width": width, "height": height})
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        page.close()


@pytest.fixture(scope="session")
def visits(app_server, light):
    """Every page of the app opened once (tests/page_visits.py): what the accessibility and the layout tests read."""
    require_axe()
    from tests.page_visits import visit_all

    return visit_all(light, app_server.url())


def pytest_collection_modifyitems(items):
    """The deploy tests last: they stop the browser tests' app server before their stack starts its two replicas,
    and under pytest-xdist every Chromium test is in one group (one worker, one Chromium), so they come after the
    others in that worker."""
    items.sort(key=lambda item: item.path.name == "test_deploy.py")
