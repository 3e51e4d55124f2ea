"""The installed wheel works from any folder: it carries the compiled fault-tree kernels, the grammar and the
templates, and needs nothing from the source tree.

The wheel is built from this checkout (`pip wheel --no-deps`, which compiles the C kernels) and unpacked
into a temporary folder that is put on PYTHONPATH in front of everything else; the test venv provides the
dependencies. Commands then run from an unrelated folder, so the source tree cannot be imported by accident.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("SOPS_SKIP_WHEEL"):
        pytest.skip("SOPS_SKIP_WHEEL is set")
    dist = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    wheels = list(dist.glob("safetyops_dsl-*.whl"))
    assert len(wheels) == 1
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheels[0]) as zf:
        names = zf.namelist()
        assert any(n.startswith("safetyops_dsl/fta/_bddk") and n.endswith((".so", ".pyd")) for n in names)
        assert any(n.startswith("safetyops_dsl/fta/_zddk") and n.endswith((".so", ".pyd")) for n in names)
        assert any(n.startswith("safetyops_dsl/fta/_xmlk") and n.endswith((".so", ".pyd")) for n in names)
        assert "safetyops_dsl/grammar/sops.tx" in names
        zf.extractall(site)
    return site


def run_installed(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = "import sys; from safetyops_dsl.cli.main import main; sys.argv[0] = 'sops'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_wheel_runs_fault_tree_analysis_and_check_from_another_folder(installed: Path, tmp_path: Path) -> None:
    where = run_installed(installed, tmp_path, "--version")
    assert where.returncode == 0, where.stderr
    probe = subprocess.run(
        [sys.executable, "-c", "import safetyops_dsl.fta._bddk as k; print(k.__file__)"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(installed)},
        capture_output=True,
        text=True,
    )
    assert probe.returncode == 0 and probe.stdout.startswith(str(installed)), probe.stdout + probe.stderr
    model = tmp_path / "m.xml"
    model.write_text(
        '<?xml version="1.0"?><opsa-mef><define-fault-tree name="F">'
        '<define-gate name="Top"><or><basic-event name="a"/><basic-event name="b"/></or></define-gate>'
        '</define-fault-tree><model-data>'
        '<define-basic-event name="a"><float value="0.1"/></define-basic-event>'
        '<define-basic-event name="b"><float value="0.2"/></define-basic-event>'
        "</model-data></opsa-mef>",
        encoding="utf-8",
    )
    fta = run_installed(installed, tmp_path, "fta", "m.xml", "--format", "json")
    assert fta.returncode == 0, fta.stderr
    top = json.loads(fta.stdout)["top_events"][0]
    assert top["exact_probability"] == pytest.approx(1 - 0.9 * 0.8, rel=1e-15)
    assert top["cut_sets"] == [["b"], ["a"]]
    check = run_installed(installed, tmp_path, "check", str(ROOT / "models" / "aeb"), "--brief")
    assert check.returncode == 0, check.stdout + check.stderr
