"""The Triton kernels (GPU inference) against the torch reference, run by Triton's interpreter on this CPU.

The interpreter must be switched on before triton is imported, so the check runs in a subprocess.
On a CUDA machine tests/test_cuda.py runs the same comparison compiled.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECK = r"""
import json, sys
sys.path.insert(0, {root!r})
sys.path.insert(0, {tests!r})
import torch
from test_model import lively
from skipsnn_core.noise import embed_batch

signals = torch.load({signals!r})
x, _, _ = embed_batch(signals, 48, level=1, generator=torch.Generator().manual_seed(3))
out = []
for mode in ("mask", "freeze"):
    for controller in (True, False):
        m = lively(controller=controller, gate_mode=mode, n_hidden=48)
        override = torch.full((48,), -1)
        override[36:44] = 1
        for opts in ({{}}, {{"controller_theta": 0.7, "gate_override": override}}):
            if not controller and opts:
                continue
            a, b = m.trace(x, engine="triton", **opts), m.trace(x, engine="torch", **opts)
            out.append(dict(mode=mode, controller=controller, opts=sorted(opts), gate=torch.equal(a.gate, b.gate),
                            mixed=0 < a.gate.float().mean().item() < 1, hidden=torch.equal(a.hidden_spikes, b.hidden_spikes),
                            output=torch.equal(a.output_spikes, b.output_spikes), fired=bool(b.output_spikes.any()),
                            du=max(float((a.hidden_u - b.hidden_u).abs().max()), float((a.output_u - b.output_u).abs().max())),
                            dc=float(((a.controller_u - b.controller_u).abs() / (1 + b.controller_u.abs())).max())))
print(json.dumps(out))
"""


def test_triton_kernels_equal_the_torch_path(nmnist_signals, tmp_path):
    if importlib.util.find_spec("triton") is None:
        pytest.skip("triton is not installed (pip install triton); the GPU engine is optional")
    signals = tmp_path / "signals.pt"
    import torch

    torch.save(nmnist_signals[0][:1, :30], signals)  # one real recording, 30 frames, in 48 steps
    code = CHECK.format(root=str(ROOT), tests=str(ROOT / "tests"), signals=str(signals))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "TRITON_INTERPRET": "1", "SKIPSNN_DEVICE": "cpu"})
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(rows) == 6
    for r in rows:
        where = f"{r['mode']}, controller={r['controller']}, {r['opts']}"
        assert r["gate"] and r["hidden"] and r["output"], f"spikes or gate differ ({where})"
        assert r["fired"], f"the fixture must make outputs fire ({where})"
        assert r["du"] < 1e-4 and r["dc"] < 1e-5, f"membranes differ ({where}): {r}"
    assert any(r["mixed"] for r in rows if r["controller"]), "the gate both opens and closes somewhere"
