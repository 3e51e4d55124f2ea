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


def test_a_sliced_metric_key_has_an_mlflow_spelling() -> None:
    """MLflow refuses `[`, `]` and `=` in metric names: a slice is logged as name/attribute:value."""
    from safetyops_dsl.analysis.evidence import MlRun, mlflow_metric_name

    assert mlflow_metric_name("recall.night_pedestrian") == "recall.night_pedestrian"
    assert mlflow_metric_name("recall[light=night]") == "recall/light:night"
    assert mlflow_metric_name("recall[light=night,road_type=urban]") == "recall/light:night/road_type:urban"
    run = MlRun("aeb.Perception", "ped-detector", "3", "r", "", (("recall/light:night", 0.99), ("recall[light=day]", 0.98)), ())
    assert run.metric("recall[light=night]") == 0.99 and run.metric("recall[light=day]") == 0.98
    assert run.metric("recall[light=dusk]") is None
