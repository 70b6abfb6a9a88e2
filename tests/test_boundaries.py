"""skipsnn_core stays free of Streamlit, so scripts and training never pull in the UI."""

import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "skipsnn_core"


def test_no_streamlit_import_in_core_source():
    offenders = [p.name for p in CORE.rglob("*.py") if "import streamlit" in p.read_text() or "from streamlit" in p.read_text()]
    assert offenders == []


def test_importing_core_does_not_load_streamlit():
    code = "import sys, skipsnn_core, skipsnn_core.train, skipsnn_core.figures, skipsnn_core.notebook; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=CORE.parent, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
