"""The AEB example's loop against real MLflow (SQLite) and real DVC: the example is copied into a tmp git +
DVC repository, its three datasets pinned to DVC instead of typed digests, its model version registered in a
SQLite store from a run that logs the example's CI metrics and the datasets' DVC md5s. Then the gate, trace
and diff react to a degraded metric and to a changed dataset."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from click.testing import CliRunner
from conftest import Store, dvc_exe, run

from safetyops_dsl.analysis.evidence import mlflow_metric_name
from safetyops_dsl.cli.main import cli

AEB = Path(__file__).resolve().parents[2] / "models" / "aeb"
DATASETS = {"ped-2026-07": "train", "ped-val-2026-07": "validation", "ped-verify-2026-08": "verification"}


def invoke(*args: str, cwd: Path) -> tuple[int, str]:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)
    return r.exit_code, r.stdout


def checks(gate_json: str) -> dict[str, str]:
    return {f"{c['check']}: {c['subject']}": c["status"] for c in json.loads(gate_json)["checks"]}


def md5_of(dvc_file: Path) -> str:
    return re.search(r"md5: ([0-9a-f]{32})", dvc_file.read_text()).group(1)  # type: ignore[union-attr]


def _aeb_repo(repo: Path) -> Path:
    aeb = repo / "aeb"
    shutil.copytree(AEB, aeb)
    (aeb / "data").mkdir(exist_ok=True)  # the ODD coverage manifests live there too
    text = (aeb / "components.sops").read_text()
    for name in DATASETS:
        (aeb / "data" / f"{name}.csv").write_text(f"frame,label\n{name},pedestrian\n")
        run([dvc_exe(), "add", "-q", f"aeb/data/{name}.csv"], repo)
        text, n = re.subn(rf'"{name}"(\s+)sha256 "[0-9a-f]{{64}}"', rf'"{name}"\1dvc "data/{name}.csv.dvc"', text)
        assert n == 1
    (aeb / "components.sops").write_text(text)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "AEB with DVC pins"], repo)
    return aeb


def _flat(doc: dict[str, object], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in doc.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        elif isinstance(v, int | float) and not isinstance(v, bool):
            out[f"{prefix}{k}"] = float(v)
    return out


def _register(store: Store, aeb: Path, recall: float) -> str:
    measured = json.loads((aeb / "ci-results" / "metrics.json").read_text())
    # every metric the model declares, sliced ones under their MLflow spelling (recall/light:night)
    metrics = {mlflow_metric_name(k): [v] for k, v in _flat(measured).items()}
    metrics["recall.night_pedestrian"] = [recall]
    datasets = {name: md5_of(aeb / "data" / f"{name}.csv.dvc") for name in DATASETS}
    c = store.client
    for v in c.search_model_versions("name='ped-detector'") if c.search_registered_models() else []:
        c.delete_model_version_tag("ped-detector", v.version, "version")  # the tag moves to the new version
    number, _ = store.version("ped-detector", metrics, datasets, tags={"version": "3.2.0"})
    return number


def test_aeb_loop_against_mlflow_and_dvc(store: Store, dvc_repo: Path) -> None:
    aeb = _aeb_repo(dvc_repo)
    measured = json.loads((aeb / "ci-results" / "metrics.json").read_text())
    _register(store, aeb, measured["recall"]["night_pedestrian"])

    code, plain = invoke("gate", "aeb", "--format", "json", cwd=dvc_repo)
    code, with_ops = invoke("gate", "aeb", "--mlflow", store.uri, "--format", "json", cwd=dvc_repo)
    assert checks(with_ops) == checks(plain)  # the same values from MLflow as from the shipped metrics file
    assert checks(with_ops)["coverage policy: evidence_passing"] == "pass"
    code, out = invoke("trace", "aeb", "--mlflow", store.uri, "--format", "json", cwd=dvc_repo)
    ev = {e["evidence"]: e for e in json.loads(out)["evidence"]}
    assert ev["MET_REC"]["status"] == "passed" and ev["MET_REC"]["result_file"].startswith("MLflow run ")

    # a retrained model that misses the recall threshold: the gate fails
    _register(store, aeb, 0.985)
    code, out = invoke("gate", "aeb", "--mlflow", store.uri, "--format", "json", cwd=dvc_repo)
    assert code == 1 and checks(out)["coverage policy: evidence_passing"] == "fail"
    _register(store, aeb, measured["recall"]["night_pedestrian"])  # and back

    # new verification data (`dvc add` again): the metrics were measured on other data
    (aeb / "data" / "ped-verify-2026-08.csv").write_text("frame,label\n1,pedestrian\n2,cyclist\n")
    run([dvc_exe(), "add", "-q", "aeb/data/ped-verify-2026-08.csv"], dvc_repo)
    code, out = invoke("trace", "aeb", "--mlflow", store.uri, "--format", "json", cwd=dvc_repo)
    ev = {e["evidence"]: e for e in json.loads(out)["evidence"]}
    assert ev["MET_REC"]["stale"] and ev["MET_PRE"]["stale"]
    assert "dataset 'ped-verify-2026-08' changed" in ev["MET_REC"]["stale_reason"]
    code, out = invoke("gate", "aeb", "--mlflow", store.uri, "--format", "json", cwd=dvc_repo)
    assert code == 1 and checks(out)["coverage policy: evidence_passing"] == "fail"

    run(["git", "commit", "-qam", "new verification data"], dvc_repo)
    code, out = invoke("diff", "HEAD~1", "HEAD", "--format", "json", cwd=dvc_repo / "aeb")
    doc = json.loads(out)
    assert "ped-verify-2026-08" in json.dumps(doc["changes"])
    impacted = {(i["kind"], i["name"]) for i in doc["impact"]}
    assert {("evidence", "MET_REC"), ("requirement", "FSR1"), ("safety_goal", "SG1"), ("safety_goal", "SG2")} <= impacted
