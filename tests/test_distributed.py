"""torchrun: two processes (gloo, CPU, loopback, one thread each) train and evaluate as one process does.

Two launches in all (each costs torch's start-up twice): training on two "nodes" of one process each that meet
through c10d rendezvous on 127.0.0.1, then the evaluation CLI with --nproc_per_node=2.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from skipsnn_core import load_checkpoint
from skipsnn_core.data import FrameSpec
from skipsnn_core.train import NoiseSpec, TrainConfig, evaluate, load_split, train
from tests.conftest import NMNIST_DIR, copy_nmnist, missing

# under pytest-xdist with --dist loadgroup the module stays in one worker, so its fixture's launches run once
pytestmark = pytest.mark.xdist_group("distributed")

ROOT = Path(__file__).resolve().parents[1]
# a network small enough for seconds, lively enough that the gate starts closing in epoch 2 (train_open < 1)
TRAIN = dict(dataset="nmnist", hidden=64, T=40, L=20, epochs=2, batch_size=4, lr=0.05, lam=2.0, shift=1, seed=3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flags(values: dict) -> list[str]:
    return [w for k, v in values.items() for w in ("--" + k.replace("_", "-"), str(v))]


def torchrun(launch: list[str], module: str, args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "torch.distributed.run", *launch, "-m", module, *args], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(procs: list[subprocess.Popen]) -> list[tuple[str, str]]:
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs), "\n".join(err[-3000:] for _, err in outs)
    return outs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A 2-node torchrun training (fresh frame cache: both frame at once) and the same training in this process."""
    if not (NMNIST_DIR / "labels.csv").is_file():  # as conftest's nmnist_dir, once for the module's two launches
        missing(f"real N-MNIST recordings not found at {NMNIST_DIR} (set SKIPSNN_NMNIST_DIR)", "SKIPSNN_REQUIRE_DATA")
    nmnist_dir = NMNIST_DIR
    tmp = tmp_path_factory.mktemp("dist")
    folder = copy_nmnist(nmnist_dir, tmp / "nmnist", 30)  # 24 train, 6 test
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SKIPSNN_CACHE": str(tmp / "cache"), "SKIPSNN_DEVICE": "cpu",
           "PYTHONPATH": str(ROOT)}
    port, two = free_port(), tmp / "two" / "m.pt"
    nodes = [torchrun(["--nnodes=2", f"--node_rank={r}", "--nproc_per_node=1", "--rdzv-backend=c10d",
                       f"--rdzv-endpoint=127.0.0.1:{port}", "--rdzv-id=skipsnn-test"],
                      "skipsnn_core.train", flags({**TRAIN, "data_dir": folder, "out": two}), env) for r in (0, 1)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each rank runs
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SKIPSNN_CACHE", str(tmp / "cache1"))
            _, one_figures = train(TrainConfig(**TRAIN, data_dir=str(folder), out=str(tmp / "one" / "m.pt")), quiet=True)
    finally:
        torch.set_num_threads(threads)
    outs = finish(nodes)
    return dict(tmp=tmp, folder=folder, env=env, outs=outs, two=two, one=tmp / "one" / "m.pt", one_figures=one_figures)


def test_two_nodes_train_the_weights_one_process_trains(runs):
    one, two = load_checkpoint(runs["one"], "cpu"), load_checkpoint(runs["two"], "cpu")
    assert two.meta["processes"] == 2 and "processes" not in one.meta
    for name, w in one.state_dict().items():
        assert torch.allclose(w, two.state_dict()[name], atol=1e-5, rtol=0), f"{name} differs after 12 steps"
    assert not torch.equal(two.state_dict()["w_in"], load_checkpoint(runs["two"].parent.parent / "one" / "m.pt", "cpu")
                           .state_dict()["w_in"] * 0), "weights were trained"
    rows_one, rows_two = one.meta["history"], two.meta["history"]
    assert rows_two[1]["train_open"] < 1, "the fixture must make the gate close (a gate statistic that can differ)"
    for a, b in zip(rows_one, rows_two, strict=True):
        assert b["lens"] == a["lens"], "the surrogate's temperature"
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-5), "MSE + lambda * penalty, averaged over the epoch"
        assert b["train_open"] == pytest.approx(a["train_open"], rel=1e-6), "the gate's open share in training"
        for key in ("accuracy", "state_updates", "gate_precision", "gate_recall", "synops_saving"):
            assert b[key] == pytest.approx(a[key], rel=1e-5), key


def test_rank_0_alone_prints_and_writes(runs):
    (out0, err0), (out1, err1) = runs["outs"]
    assert json.loads(out0)["n_samples"] == 6 and out1 == "", "the final JSON once, from rank 0"
    assert err0.count("training skipsnn on nmnist (24 train, 6 test)") == 1 and "training skipsnn" not in err1
    assert sorted(p.name for p in runs["two"].parent.iterdir()) == ["m.pt"], "one checkpoint, no resume file left"
    cache = sorted(p.name for p in (runs["tmp"] / "cache").iterdir())
    assert len(cache) == 2 and all(name.endswith(".frames") for name in cache), f"one store per split, nothing else: {cache}"


def test_the_distributed_figures_are_a_single_process_evaluation_of_the_checkpoint(runs, monkeypatch):
    monkeypatch.setenv("SKIPSNN_CACHE", str(runs["tmp"] / "cache"))
    two = load_checkpoint(runs["two"], "cpu")
    test = load_split("nmnist", str(runs["folder"]), "test", FrameSpec(L=TRAIN["L"]), quiet=True)
    alone = evaluate(two, test, NoiseSpec(TRAIN["T"], 1), batch_size=TRAIN["batch_size"])  # 2 batches: one per rank
    assert two.meta["figures"] == alone, "figures reduced over ranks equal one process's, exactly"


def test_evaluate_cli_under_torchrun_prints_one_process_figures(runs, capsys, monkeypatch):
    from skipsnn_core import evaluate as evaluate_cli

    args = ["--checkpoint", str(runs["two"]), "--dataset", "nmnist", "--data-dir", str(runs["folder"]), "--json",
            "--sweep", "0,2", "--oracle", "--split", "all"]
    proc = torchrun(["--nproc_per_node=2", "--master-addr=127.0.0.1", f"--master-port={free_port()}"],
                    "skipsnn_core.evaluate", args, runs["env"])
    monkeypatch.setenv("SKIPSNN_CACHE", str(runs["tmp"] / "cache"))
    assert evaluate_cli.main(args) == 0
    alone = json.loads(capsys.readouterr().out)
    ((out, _),) = finish([proc])
    assert out.count("\n") == 1, "printed once, by rank 0"
    assert json.loads(out) == alone and alone[0]["n_samples"] == 30
