"""Datasets pinned to DVC, against a real `git init` + `dvc init` repository (no remote)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import dvc_exe, run, tree_digest

from safetyops_dsl.api import check
from safetyops_dsl.cli.main import cli

MODEL = """\
hazard H1 "no braking for a pedestrian" { severity S3 exposure E4 controllability C1 }
safety_goal SG1 "brake for pedestrians" mitigates H1 { asil B }
ml_component Det {
    model "ped-detector" version "1"
    dataset verification "ped-verify" dvc "data/ped.csv.dvc"
    metric recall.night_pedestrian >= 0.99
}
requirement R1 "detect pedestrians at night" { refines SG1 allocated_to Det asil B }
evidence E1 metric "recall.night_pedestrian" verifies R1
"""

EVALUATE = """\
stages:
  evaluate:
    cmd: cp measured.json eval/metrics.json
    deps:
    - data/ped.csv
    - measured.json
    metrics:
    - eval/metrics.json:
        cache: false
"""


def invoke(*args: str, cwd: Path) -> tuple[int, str]:
    """(exit code, stdout alone for --format json, else stdout and stderr as printed)."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)
    return r.exit_code, r.stdout if "json" in args else r.output


def _model_repo(repo: Path, data: str = "a,b\n1,2\n") -> None:
    (repo / "data").mkdir()
    (repo / "eval").mkdir()
    (repo / "data" / "ped.csv").write_text(data)
    run([dvc_exe(), "add", "-q", "data/ped.csv"], repo)
    (repo / "m.sops").write_text(MODEL)
    (repo / "dvc.yaml").write_text(EVALUATE)
    (repo / "measured.json").write_text('{"recall": {"night_pedestrian": 0.9912}}')
    run([dvc_exe(), "repro", "-q"], repo)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "data v1"], repo)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()  # noqa: S324 - DVC's own digest, the oracle


def _dataset(repo: Path):  # type: ignore[no-untyped-def]
    checked = check([str(repo / "m.sops")])
    assert checked.model is not None, checked.diagnostics
    comp = next(c for q, c in checked.model.components.items() if q.endswith("Det"))
    return comp.ml.datasets[0], checked.diagnostics


def test_pin_reads_the_md5_dvc_records(dvc_repo: Path) -> None:
    _model_repo(dvc_repo)
    ds, diags = _dataset(dvc_repo)
    assert not [d for d in diags if d.code.startswith("SOPS22")]
    assert ds.md5 == _md5(dvc_repo / "data" / "ped.csv")  # DVC's md5 of a file is the file's md5
    assert ds.dvc_data == "data/ped.csv"


def test_dvc_lock_output_pin(dvc_repo: Path) -> None:
    _model_repo(dvc_repo)
    text = MODEL.replace('dvc "data/ped.csv.dvc"', 'dvc "dvc.lock" out "eval/metrics.json"')
    (dvc_repo / "m.sops").write_text(text)
    ds, _ = _dataset(dvc_repo)
    assert ds.md5 == _md5(dvc_repo / "eval" / "metrics.json")


def test_changed_data_makes_metric_evidence_stale_and_the_gate_fail(dvc_repo: Path) -> None:
    _model_repo(dvc_repo)
    code, out = invoke("trace", "m.sops", "--results", "dvc.yaml", "--format", "json", cwd=dvc_repo)
    assert code == 0, out
    ev = {e["evidence"]: e for e in json.loads(out)["evidence"]}
    assert ev["E1"]["status"] == "passed" and not ev["E1"]["stale"]
    code, out = invoke("gate", "m.sops", "--results", "dvc.yaml", "--format", "json", cwd=dvc_repo)
    assert _check(out, "evidence_passing") == "pass"

    old_md5 = _md5(dvc_repo / "data" / "ped.csv")
    (dvc_repo / "data" / "ped.csv").write_text("a,b\n1,3\n")
    run([dvc_exe(), "add", "-q", "data/ped.csv"], dvc_repo)  # new data, not yet measured (no dvc repro)
    new_md5 = _md5(dvc_repo / "data" / "ped.csv")
    code, out = invoke("trace", "m.sops", "--results", "dvc.yaml", "--format", "json", cwd=dvc_repo)
    ev = {e["evidence"]: e for e in json.loads(out)["evidence"]}
    assert ev["E1"]["stale"]
    assert f"measured on data/ped.csv md5 {old_md5}, DVC now records {new_md5}" in ev["E1"]["stale_reason"]
    code, out = invoke("trace", "m.sops", "--results", "dvc.yaml", cwd=dvc_repo)
    assert "warning[SOPS106]: evidence 'E1' is stale: dataset 'ped-verify' changed" in out
    code, out = invoke("gate", "m.sops", "--results", "dvc.yaml", "--format", "json", cwd=dvc_repo)
    assert code == 1 and _check(out, "evidence_passing") == "fail"

    run([dvc_exe(), "repro", "-q"], dvc_repo)  # measured again on the new data: current again
    code, out = invoke("gate", "m.sops", "--results", "dvc.yaml", "--format", "json", cwd=dvc_repo)
    assert _check(out, "evidence_passing") == "pass"


def _check(gate_json: str, subject: str) -> str:
    doc = json.loads(gate_json)
    return next(c["status"] for c in doc["checks"] if c["subject"] == subject or c["check"] == subject)


def test_diff_between_revisions_lists_the_dataset_change_and_its_impact(dvc_repo: Path) -> None:
    _model_repo(dvc_repo)
    old_md5 = _md5(dvc_repo / "data" / "ped.csv")
    (dvc_repo / "data" / "ped.csv").write_text("a,b\n1,3\n")
    run([dvc_exe(), "add", "-q", "data/ped.csv"], dvc_repo)
    run(["git", "commit", "-qam", "data v2"], dvc_repo)
    new_md5 = _md5(dvc_repo / "data" / "ped.csv")
    code, out = invoke("diff", "HEAD~1", "HEAD", "--format", "json", cwd=dvc_repo)
    assert code == 0, out
    doc = json.loads(out)
    changes = json.dumps(doc["changes"])
    assert old_md5 in changes and new_md5 in changes and "dataset" in changes
    impacted = {(i["kind"], i["name"]) for i in doc["impact"]}
    assert {("evidence", "E1"), ("requirement", "R1"), ("safety_goal", "SG1")} <= impacted


def test_dvc_metrics_show_output_is_a_metrics_file(dvc_repo: Path) -> None:
    _model_repo(dvc_repo)
    shown = run([dvc_exe(), "metrics", "show", "--json"], dvc_repo)
    (dvc_repo / "shown.json").write_text(shown)
    code, out = invoke("trace", "m.sops", "--results", "shown.json", "--format", "json", cwd=dvc_repo)
    ev = {e["evidence"]: e for e in json.loads(out)["evidence"]}
    assert ev["E1"]["status"] == "passed" and "0.9912" in ev["E1"]["detail"]


@pytest.mark.parametrize(("setup", "code", "message"), [
    ("no_repo", "SOPS220", "is not inside a DVC repository"),
    ("not_yaml", "SOPS221", "is not YAML"),
    ("not_a_dvc_file", "SOPS221", "is not a valid .dvc file"),
    ("missing", "SOPS222", "not found"),
    ("lock_without_out", "SOPS222", "a dvc.lock pin names its output"),
])
def test_bad_pins_are_positioned_errors_and_nothing_is_written(tmp_path: Path, dvc_repo: Path, setup: str, code: str,
                                                              message: str) -> None:
    repo = tmp_path / "plain" if setup == "no_repo" else dvc_repo
    repo.mkdir(exist_ok=True)
    (repo / "data").mkdir()
    text = MODEL
    if setup in ("no_repo", "not_yaml"):
        (repo / "data" / "ped.csv.dvc").write_text("outs: [\n- md5: {\n" if setup == "not_yaml" else "outs:\n- md5: 0a\n  path: ped.csv\n")
    elif setup == "not_a_dvc_file":
        (repo / "data" / "ped.csv.dvc").write_text("outs:\n- md5: 5\n  size: many\n  path: ped.csv\n")
    elif setup == "lock_without_out":
        text = MODEL.replace('dvc "data/ped.csv.dvc"', 'dvc "dvc.lock"')
        (repo / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
    (repo / "m.sops").write_text(text)
    before = tree_digest(repo)
    out_dir = repo / "site"
    exit_code, out = invoke("build", "m.sops", "-o", str(out_dir), "-q", cwd=repo)
    assert exit_code == 1
    assert f"m.sops:5:5: error[{code}]: dataset 'ped-verify': " in out and message in out, out
    assert "Traceback" not in out
    assert not out_dir.exists() and tree_digest(repo) == before
