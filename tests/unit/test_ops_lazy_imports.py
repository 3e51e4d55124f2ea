"""MLflow and DVC are imported only when a command is given a tracking URI or a model pins data to DVC."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

AEB = Path(__file__).resolve().parents[2] / "models" / "aeb"
PROBE = """
import os, sys
from safetyops_dsl.cli.main import cli
try:
    cli(["trace", sys.argv[1], "-o", os.devnull])
except SystemExit:
    pass
print(sorted({m.split(".")[0] for m in sys.modules} & {"mlflow", "dvc", "dvc_data", "sqlalchemy"}))
"""


def test_trace_without_mlflow_or_dvc_pins_imports_neither() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, str(AEB)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr
