"""A class on one link, without browsers: N users on Explore moving the noise or threshold slider; does the server hold?

    python3 bench/serve_load.py                      # 1 and 2 replicas x 1, 10, 25, 50, 100 users, 40 s each
    python3 bench/serve_load.py --replicas 1 --users 25 --seconds 40
    python3 bench/serve_load.py --validate           # the client's rerun against a real Chromium's, once

Each level starts the deploy stack afresh (deploy/stack.py: R Streamlit replicas behind HAProxy, under
supervisord, on loopback ports) and opens N sessions through the proxy with bench/stclient.py, which speaks
Streamlit's websocket protocol as the browser does, so the server's work is measured and not Chromium's. The users
arrive over the first few seconds (a class opening one link), open Explore, then each, every ``--interval`` s
(times 0.5-1.5, from its own seeded generator), moves the noise level or the gate threshold one step and waits for
the rerun's ``script_finished``. All traffic is loopback; every user stops at ``--seconds``.

Printed per level: reruns per second served, the time from the widget change to its script_finished (p50, p95),
the first page (p50), errors (time-outs, dropped connections, exceptions or error boxes on a page), the replicas'
CPU seconds per rerun, and their memory (RSS summed over the replicas): before the users came, the peak while
they were there, 5 s after they left, and once their sessions closed (--closed). Goals (issue 17): 1 replica holds 25 users at p95 <= 1 s; 2 replicas serve
>= 1.6x the reruns per second of 1 at p95 <= 1 s; 0 errors; <= 2 GB for 2 replicas with 50 users; memory after the
sessions close within 10 % of before. ``--chart`` draws users against p95 for each replica count (README).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import stclient  # noqa: E402
from bench.stclient import Session  # noqa: E402
from deploy.stack import Stack, StackConfig  # noqa: E402

SLIDERS = {"noise": (1.0, 0.0, 8.0), "theta": (0.05, -0.5, 2.0)}  # step, low, high
ARRIVAL_S = 5.0  # users arrive uniformly over this many seconds


@dataclass
class Level:
    replicas: int
    users: int
    seconds: float
    latency: list[float] = field(default_factory=list)  # widget change -> script_finished
    done_at: list[float] = field(default_factory=list)  # when each of those reruns finished (monotonic)
    first_page: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    cpu_s: float = 0.0  # the replicas' CPU seconds while every user was on the page (first pages done)
    steady_reruns: int = 0  # reruns finished in that window
    rss_before: float = 0.0
    rss_peak: float = 0.0
    rss_after: float = 0.0  # --settle s after the users left
    rss_closed: float = 0.0  # --closed s after: Streamlit's reconnect window over, the sessions closed (0: not measured)

    def p(self, q: float, values=None) -> float:
        v = sorted(self.latency if values is None else values)
        return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")

    @property
    def rate(self) -> float:
        return len(self.latency) / self.wall if self.wall else 0.0

    def row(self) -> dict:
        return {"replicas": self.replicas, "users": self.users, "seconds": self.seconds, "reruns": len(self.latency),
                "reruns_per_s": round(self.rate, 2), "p50_s": round(self.p(0.5), 3), "p95_s": round(self.p(0.95), 3),
                "first_page_p50_s": round(self.p(0.5, self.first_page), 2), "errors": len(self.errors),
                "cpu_s_per_rerun": round(self.cpu_s / max(1, self.steady_reruns), 4),
                "rss_before_mib": round(self.rss_before / 2**20), "rss_peak_mib": round(self.rss_peak / 2**20),
                "rss_after_mib": round(self.rss_after / 2**20), "rss_closed_mib": round(self.rss_closed / 2**20)}


async def user(url: str, index: int, level: Level, stop_at: float, interval: float) -> None:
    rng = random.Random(index)  # each user's own choices, the same in every run
    await asyncio.sleep(rng.uniform(0, ARRIVAL_S))
    try:
        async with Session(url, timeout=60) as s:
            first = await s.open()
            level.first_page.append(first.seconds)
            level.errors.extend(f"user {index}: {p}" for p in first.problems)
            values = {key: float(s.value(key)) for key in SLIDERS}
            while True:
                wait = interval * rng.uniform(0.5, 1.5)
                if time.monotonic() + wait >= stop_at:
                    break
                await asyncio.sleep(wait)
                key = rng.choice(tuple(SLIDERS))
                step, lo, hi = SLIDERS[key]
                move = rng.choice((-step, step))
                if not lo <= values[key] + move <= hi:
                    move = -move
                values[key] = round(values[key] + move, 2)
                run = await s.set(key, values[key])
                level.latency.append(run.seconds)
                level.done_at.append(time.monotonic())
                level.errors.extend(f"user {index}: {key}={values[key]}: {p}" for p in run.problems)
    except Exception as e:  # noqa: BLE001 - a user that fails is an error to count, not a crash of the benchmark
        level.errors.append(f"user {index}: {type(e).__name__}: {str(e)[:120]}")


def replica_usage(pids: list[int]) -> tuple[float, float]:
    """(CPU seconds, RSS bytes) summed over the replica processes and their children."""
    import psutil

    cpu = rss = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                t = p.cpu_times()
                cpu += t.user + t.system
                rss += p.memory_info().rss
        except psutil.Error:
            pass
    return cpu, rss


def sample_peak(pids: list[int], stop: threading.Event, out: list) -> None:
    peak = 0.0
    while not stop.is_set():
        peak = max(peak, replica_usage(pids)[1])
        stop.wait(0.25)
    out.append(peak)


def steady_cpu(pids: list[int], level: Level, stop_at: float, out: list) -> None:
    """The replicas' CPU seconds from the moment every user has its first page until the users stop."""
    while len(level.first_page) + len(level.errors) < level.users and time.monotonic() < stop_at:
        time.sleep(0.05)
    since, cpu0 = time.monotonic(), replica_usage(pids)[0]
    time.sleep(max(0.0, stop_at - 1.0 - since))  # the last second: users are leaving
    out.append((replica_usage(pids)[0] - cpu0, since, time.monotonic()))


def run_level(replicas: int, users: int, seconds: float, interval: float, port: int, settle: float,
              closed: float = 0.0) -> Level:
    level = Level(replicas, users, seconds)
    with tempfile.TemporaryDirectory() as tmp, Stack(StackConfig(replicas=replicas, port=port, first_port=port + 1,
                                                                 run_dir=Path(tmp) / "deploy")) as stack:
        url = stack.cfg.url
        pids = list(stack.replica_pids().values())
        asyncio.run(_warm(url))  # every replica's first page (imports, kernels) is paid before the users come
        time.sleep(settle)
        level.rss_before = replica_usage(pids)[1]
        stop, peak, steady = threading.Event(), [], []
        sampler = threading.Thread(target=sample_peak, args=(pids, stop, peak), daemon=True)
        sampler.start()
        started = time.monotonic()
        stop_at = started + ARRIVAL_S + seconds
        meter = threading.Thread(target=steady_cpu, args=(pids, level, stop_at, steady), daemon=True)
        meter.start()
        asyncio.run(_users(url, users, level, stop_at, interval))
        level.wall = time.monotonic() - started - ARRIVAL_S / 2  # users arrive over ARRIVAL_S: on average half of it idle
        meter.join()
        if steady:
            level.cpu_s, since, until = steady[0]
            level.steady_reruns = sum(since <= t <= until for t in level.done_at)
        stop.set()
        sampler.join()
        level.rss_peak = peak[0]
        time.sleep(settle)  # the collector's chance (a closed session also waits up to 2 min for a reconnect)
        level.rss_after = replica_usage(pids)[1]
        if closed > settle:  # Streamlit keeps a disconnected session server.disconnectedSessionTTL (120 s) for a resume
            time.sleep(closed - settle)
            level.rss_closed = replica_usage(pids)[1]
    return level


async def _warm(url: str) -> None:
    for _ in range(4):  # leastconn spreads the four over the replicas
        async with Session(url) as s:
            first = await s.open()
            if not any(w.id.endswith("-noise") for w in s.widgets.values()):
                kinds = sorted({t for t, _ in first.elements})
                raise RuntimeError(f"the first page had no noise slider: {first.status!r}, {first.messages} messages, "
                                   f"elements {kinds}, problems {first.problems}")
            await s.set("noise", 2)


async def _users(url: str, n: int, level: Level, stop_at: float, interval: float) -> None:
    await asyncio.gather(*(user(url, i, level, stop_at, interval) for i in range(n)))


def capacity(levels: list[Level], replicas: int, goal: float = 1.0) -> float:
    """The most reruns per second the levels with this many replicas served at p95 <= goal."""
    return max((lv.rate for lv in levels if lv.replicas == replicas and lv.p(0.95) <= goal and not lv.errors), default=0.0)


def chart(levels: list[Level], path: Path) -> None:
    import plotly.graph_objects as go

    fig = go.Figure()
    for r, dash, symbol in ((1, "solid", "circle"), (2, "dash", "square")):
        pts = [lv for lv in levels if lv.replicas == r]
        if pts:
            fig.add_trace(go.Scatter(x=[lv.users for lv in pts], y=[lv.p(0.95) for lv in pts], name=f"{r} replica{'s' * (r > 1)}",
                                     mode="lines+markers", line={"dash": dash}, marker={"symbol": symbol, "size": 9}))
    fig.add_hline(y=1.0, line={"color": "#888", "dash": "dot"}, annotation_text="goal: p95 ≤ 1 s", annotation_position="top left")
    fig.update_layout(title="A class on one link: slider rerun p95 against users (2-core machine)", width=820, height=440,
                      xaxis_title="users moving a slider every ~3 s", yaxis_title="p95, widget change → rerun done (s)",
                      yaxis_type="log", template="plotly_white", legend={"x": 0.02, "y": 0.75},
                      yaxis={"tickvals": [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20], "ticktext": ["0.05", "0.1", "0.2", "0.5", "1", "2",
                                                                                             "5", "10", "20"]})
    fig.write_image(str(path), scale=2)


CHANGES = (("noise", 2), ("theta", 0.55))  # the second rerun also checks what a re-drawn widget keeps


def widget_states(cs) -> dict[str, str]:
    return {w.id: str(getattr(w, w.WhichOneof("value"))).strip() for w in cs.widget_states.widgets}


def browser_and_client(page, url: str) -> tuple[list, list]:
    """The same slider changes (CHANGES) made by Chromium's page and by this client, each on a fresh session:
    [(rerun_script sent, chart meta drawn)] for each change, browser's and client's."""
    from bench.browser import slider_input, wait_for_view
    from streamlit.proto.BackMsg_pb2 import BackMsg

    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda p: sent.append(p)))
    page.goto(url)
    page.wait_for_selector(".skipsnn-chart .main-svg", timeout=120_000)
    page.wait_for_timeout(500)
    seen = []
    for key, value in CHANGES:
        slider_input(page, key).focus()
        before = len(sent)
        page.keyboard.press("ArrowRight")
        group, field = ("sample", "noise_level") if key == "noise" else ("view", "controller_theta")
        wait_for_view(page, group, field, value)
        back = [BackMsg.FromString(p) for p in sent[before:]]
        rerun = next(m.rerun_script for m in back if m.WhichOneof("type") == "rerun_script")
        meta = page.evaluate("() => document.querySelector('.skipsnn-chart').layout.meta")
        seen.append((rerun, meta))

    async def client():
        out = []
        async with Session(url) as s:
            await s.open()
            for key, value in CHANGES:
                run = await s.set(key, value)
                spec = json.loads(run.element("bidi_component", "explorer_chart").json)["spec"]
                out.append((s.sent.rerun_script, json.loads(spec)["figure"]["layout"]["meta"]))
        return out

    return seen, stclient.run(client())


def _validate(url: str) -> None:
    from bench.browser import chromium

    with chromium() as page:
        browser, client = browser_and_client(page, url)
    for (key, value), (b, b_meta), (c, c_meta) in zip(CHANGES, browser, client):
        bs, cs = widget_states(b), widget_states(c)
        print(f"{key} -> {value}: browser sent {len(bs)} widget states, this client {len(cs)}; same: {bs == cs}; "
              f"same fragment: {b.fragment_id == c.fragment_id}; same page: {b.page_script_hash == c.page_script_hash}; "
              f"same query: {b.query_string == c.query_string}; same chart drawn: {b_meta == c_meta}")
        for wid in sorted(set(bs) | set(cs)):
            if bs.get(wid) != cs.get(wid):
                print(f"  differs: {wid}: browser {bs.get(wid)!r}, client {cs.get(wid)!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicas", default="1,2", help="replica counts to measure (default 1,2)")
    ap.add_argument("--users", default="1,10,25,50,100", help="user counts (default 1,10,25,50,100)")
    ap.add_argument("--seconds", type=float, default=40.0, help="how long the users move sliders, per level")
    ap.add_argument("--interval", type=float, default=3.0, help="mean seconds between one user's slider moves")
    ap.add_argument("--port", type=int, default=8400, help="the first level's proxy port; its replicas on the next ones")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds before and after the users for the memory figures")
    ap.add_argument("--closed", type=float, default=125.0,
                    help="seconds after the users left for the memory once their sessions are closed (Streamlit keeps "
                    "a disconnected one 120 s for a reconnect; 0: skip, 2 minutes less per level)")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    ap.add_argument("--chart", type=Path, help="draw users against p95 per replica count (PNG)")
    ap.add_argument("--validate", action="store_true", help="compare one rerun with a real Chromium's, then exit")
    args = ap.parse_args()
    if args.validate:
        with tempfile.TemporaryDirectory() as tmp, Stack(StackConfig(replicas=1, port=args.port, first_port=args.port + 1,
                                                                     run_dir=Path(tmp) / "deploy")) as stack:
            _validate(stack.cfg.url)
        return
    levels = []
    print("replicas users  reruns/s   p50 s   p95 s  first page p50 s  errors  CPU s/rerun  RSS MiB before/peak/after(/closed)")
    for r in (int(v) for v in args.replicas.split(",")):
        for n in (int(v) for v in args.users.split(",")):
            port = args.port + 10 * len(levels)  # each level on ports of its own: the last one's may still be closing
            lv = run_level(r, n, args.seconds, args.interval, port, args.settle, args.closed)
            levels.append(lv)
            row = lv.row()
            print(f"{r:8d} {n:5d} {row['reruns_per_s']:9.1f} {row['p50_s']:7.2f} {row['p95_s']:7.2f} {row['first_page_p50_s']:17.2f}"
                  f" {row['errors']:7d} {row['cpu_s_per_rerun']:12.3f}  {row['rss_before_mib']}/{row['rss_peak_mib']}/{row['rss_after_mib']}"
                  + (f"/{row['rss_closed_mib']}" if lv.rss_closed else ""),
                  flush=True)
            for e in lv.errors[:5]:
                print("    error:", e)
    one, two = capacity(levels, 1), capacity(levels, 2)
    print(f"capacity at p95 <= 1 s, 0 errors: 1 replica {one:.1f} reruns/s, 2 replicas {two:.1f}"
          + (f" ({two / one:.2f}x; goal >= 1.6x)" if one and two else ""))
    for lv in levels:
        if lv.replicas == 1 and lv.users == 25:
            print(f"1 replica, 25 users: p95 {lv.p(0.95):.2f} s (goal <= 1 s)")
        if lv.replicas == 2 and lv.users == 50:
            print(f"2 replicas, 50 users: peak RSS {lv.rss_peak / 2**30:.2f} GB (goal <= 2 GB)")
        if lv.rss_before:
            end, when = (lv.rss_closed, "once their sessions closed") if lv.rss_closed else (lv.rss_after, "after they left")
            print(f"memory {when}, {lv.users} users on {lv.replicas}: {100 * (end - lv.rss_before) / lv.rss_before:+.1f} % "
                  "against before (goal within 10 %)")
    if args.json:
        args.json.write_text(json.dumps([lv.row() for lv in levels], indent=1))
    if args.chart:
        chart(levels, args.chart)
        print(f"chart: {args.chart}")


if __name__ == "__main__":
    main()
