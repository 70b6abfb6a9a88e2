"""The Explorer as R replicas behind HAProxy, run by supervisord: the configs, and a handle to start and stop them.

    deploy/serve --replicas 2                 # the CLI over this module (README, "Serving a class")

Each replica is one ``streamlit run app.py`` process on a port of its own (``first_port + i``) sharing one models
folder (``SKIPSNN_MODELS``: a checkpoint trained in one replica is offered by all) and one frame cache
(``SKIPSNN_CACHE``: framed datasets are written once, atomically, and read by every replica). HAProxy listens on
``port`` and keeps each browser on its replica with a cookie (deploy/haproxy.cfg.in says why); supervisord starts
both, restarts a replica that dies, and stops everything on ``stop``. Nothing here balances, proxies or supervises
by itself: it only writes the two programs' configuration files from the templates beside it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
COOKIE = "SKIPSNN_REPLICA"  # the cookie HAProxy routes by (haproxy.cfg.in), whose value is a replica's name


class StackError(RuntimeError):
    """The stack could not start (a program missing, a port taken, a replica that never became healthy)."""


@dataclass(frozen=True)
class StackConfig:
    replicas: int = 2
    port: int = 8500  # the proxy: the one address users open
    first_port: int = 8601  # replica i listens on first_port + i (loopback only)
    bind: str = "127.0.0.1"  # the proxy's address; 0.0.0.0 to serve a room
    run_dir: Path = PROJECT / ".cache" / "deploy"  # configs, logs, the supervisor's socket
    models: Path | None = None  # SKIPSNN_MODELS shared by the replicas (None: the environment's, or the default)
    cache: Path | None = None  # SKIPSNN_CACHE shared by the replicas (None: the environment's, or the default)
    trainings: int | None = None  # SKIPSNN_TRAININGS per replica (None: the environment's, or the app's default 2)
    autorestart: bool = True  # supervisord restarts a replica that dies
    env: dict = field(default_factory=dict)  # more environment for the replicas

    def replica_name(self, i: int) -> str:
        return f"r{i + 1}"

    def replica_port(self, i: int) -> int:
        return self.first_port + i

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.bind in ("0.0.0.0", "") else self.bind
        return f"http://{host}:{self.port}"


def haproxy_path() -> str | None:
    """haproxy on PATH, or Debian's (/usr/sbin is not on every user's PATH), else None."""
    return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")


def _supervisor_bin(name: str) -> str:
    """supervisord / supervisorctl of this Python's environment (pip install supervisor), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if not found:
        raise StackError(f"{name} not found: pip install supervisor (in requirements-dev.txt)")
    return found


def _environment(cfg: StackConfig, i: int) -> str:
    env = {"SKIPSNN_REPLICA": cfg.replica_name(i), **{k: str(v) for k, v in cfg.env.items()}}
    for key, value in (("SKIPSNN_MODELS", cfg.models), ("SKIPSNN_CACHE", cfg.cache), ("SKIPSNN_TRAININGS", cfg.trainings)):
        if value is not None:
            env[key] = str(value)
    # supervisord expands %(...)s in its values, so a literal % is doubled; quotes keep commas and spaces in a value
    return ",".join(f'{k}="{v.replace("%", "%%")}"' for k, v in env.items())


def _template(name: str) -> Template:
    return Template((HERE / name).read_text())


def haproxy_config(bind: str, port: int, servers: list[tuple[str, str]]) -> str:
    """HAProxy's configuration for replicas ``servers`` [(name, "host:port")]: the name is also the cookie's value,
    so it must be unique, and it should equal that replica's SKIPSNN_REPLICA (the sidebar shows it)."""
    lines = "\n".join(f"    server {name} {address} check cookie {name}" for name, address in servers)
    return _template("haproxy.cfg.in").substitute(bind=bind, port=port, servers=lines)


def write_configs(cfg: StackConfig) -> Path:
    """Write haproxy.cfg and supervisord.conf into ``cfg.run_dir``; returns the supervisord config's path."""
    haproxy = haproxy_path()
    if haproxy is None:
        raise StackError("haproxy not found: install it (Debian: apt-get install haproxy)")
    run_dir = cfg.run_dir.resolve()
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    servers = [(cfg.replica_name(i), f"127.0.0.1:{cfg.replica_port(i)}") for i in range(cfg.replicas)]
    (run_dir / "haproxy.cfg").write_text(haproxy_config(cfg.bind, cfg.port, servers))
    programs = "\n".join(_template("replica.conf.in").substitute(
        name=cfg.replica_name(i), python=sys.executable, replica_bind="127.0.0.1", port=cfg.replica_port(i),
        project=PROJECT, environment=_environment(cfg, i), autorestart=str(cfg.autorestart).lower(), run_dir=run_dir)
        for i in range(cfg.replicas))
    conf = run_dir / "supervisord.conf"
    conf.write_text(_template("supervisord.conf.in").substitute(
        run_dir=run_dir, programs=programs, haproxy=haproxy, nodaemon="true", silent="true"))
    return conf


def healthy(url: str, timeout: float = 1.0) -> bool:
    """Whether the Streamlit server (or the proxy) at ``url`` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


class Stack:
    """A running stack: supervisord (and through it HAProxy and the replicas) until ``stop``."""

    def __init__(self, cfg: StackConfig):
        self.cfg = cfg
        self.conf = write_configs(cfg)
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90.0) -> "Stack":
        """Start supervisord in the foreground of a child process, then wait until every replica and the proxy answer."""
        for port in [self.cfg.port] + [self.cfg.replica_port(i) for i in range(self.cfg.replicas)]:
            if healthy(f"http://127.0.0.1:{port}", 0.3):
                raise StackError(f"port {port} already serves something; choose other ports (--port, --first-port)")
        self.log = open(self.cfg.run_dir / "logs" / "supervisord.stdout", "w")
        self.proc = subprocess.Popen([_supervisor_bin("supervisord"), "-c", str(self.conf)], cwd=PROJECT,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait(timeout, lambda: all(self.replica_healthy(i) for i in range(self.cfg.replicas)) and healthy(self.cfg.url))
        except StackError:
            self.stop()
            raise
        return self

    def wait_until_serving(self, timeout: float = 90.0) -> None:
        """Until every replica answers its health check and the proxy routes to each one: ``start`` waits only for
        the health checks, and after supervisord restarted a killed replica HAProxy takes it back only after two good
        checks of its own."""
        self._wait(timeout, lambda: all(self.replica_healthy(i) and self.routed(self.cfg.replica_name(i))
                                        for i in range(self.cfg.replicas)))

    def _wait(self, timeout: float, ready) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.proc is None or self.proc.poll() is not None or time.monotonic() > deadline:
                logs = "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in sorted((self.cfg.run_dir / "logs").glob("*"))
                                 if p.is_file())
                raise StackError(f"the stack did not become healthy in {timeout:.0f} s:\n{logs}")
            time.sleep(0.1)

    def replica_healthy(self, i: int) -> bool:
        return healthy(f"http://127.0.0.1:{self.cfg.replica_port(i)}", 0.5)

    def routed(self, name: str) -> bool:
        """Whether the proxy sends a browser whose cookie names replica ``name`` to it: HAProxy inserts a new cookie
        only when it sends the request elsewhere (that replica is down in its view: "option redispatch")."""
        request = urllib.request.Request(f"{self.cfg.url}/_stcore/health", headers={"Cookie": f"{COOKIE}={name}"})
        try:
            with urllib.request.urlopen(request, timeout=1.0) as r:
                return r.status == 200 and not any(c.startswith(f"{COOKIE}=") for c in r.headers.get_all("Set-Cookie") or [])
        except OSError:
            return False

    def ctl(self, *args: str) -> str:
        """A supervisorctl command against this stack; its output."""
        done = subprocess.run([_supervisor_bin("supervisorctl"), "-c", str(self.conf), *args], capture_output=True,
                              text=True, timeout=30)
        return done.stdout.strip()

    def pid(self, name: str) -> int | None:
        out = self.ctl("pid", name)
        return int(out) if out.isdigit() and int(out) > 0 else None

    def replica_pids(self) -> dict[str, int]:
        pids = {self.cfg.replica_name(i): self.pid(self.cfg.replica_name(i)) for i in range(self.cfg.replicas)}
        return {k: v for k, v in pids.items() if v}

    def kill(self, name: str) -> None:
        """SIGKILL a replica, as a crash would (supervisord restarts it when ``autorestart``)."""
        pid = self.pid(name)
        if pid:
            os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()  # supervisord stops its programs (TERM to each), then exits
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        self.log.close()

    def __enter__(self) -> "Stack":
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    """Print HAProxy's configuration for replicas on several hosts (README, "Several machines")."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("command", choices=["haproxy"])
    ap.add_argument("--server", action="append", required=True, metavar="NAME=HOST:PORT",
                    help="a replica, e.g. r1=10.0.0.11:8601 (repeat for each)")
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--port", type=int, default=80)
    args = ap.parse_args()
    servers = [tuple(s.split("=", 1)) for s in args.server]
    if any(len(s) != 2 for s in servers):
        ap.error("--server takes NAME=HOST:PORT")
    print(haproxy_config(args.bind, args.port, servers), end="")


if __name__ == "__main__":
    main()
