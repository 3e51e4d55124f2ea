"""ML metric evidence from a real MLflow: a SQLite store written with the MLflow client, and one `mlflow server`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import Store

from safetyops_dsl.cli.main import cli

SHA = "c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3"
MODEL = f"""\
hazard H1 "no braking for a pedestrian" {{ severity S3 exposure E4 controllability C1 }}
safety_goal SG1 "brake for pedestrians" mitigates H1
ml_component Det {{
    model "ped-detector" version "VERSION"
    dataset verification "ped-verify" sha256 "{SHA}"
    metric recall.night_pedestrian   >= 0.99
    metric precision.highway_clutter >= 0.995
}}
requirement R1 "detect pedestrians at night" {{ refines SG1 allocated_to Det asil B }}
requirement R2 "no phantom braking" {{ refines SG1 allocated_to Det asil B }}
evidence E1 metric "recall.night_pedestrian" verifies R1
evidence E2 metric "precision.highway_clutter" verifies R2
"""
GOOD = {"recall.night_pedestrian": [0.95, 0.9912], "precision.highway_clutter": [0.9963]}


def model(tmp_path: Path, version: str) -> Path:
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    (folder / "m.sops").write_text(MODEL.replace("VERSION", version))
    return folder / "m.sops"


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)
    return r.exit_code, r.stdout, r.stderr


def evidence(stdout: str) -> dict[str, dict[str, object]]:
    return {e["evidence"]: e for e in json.loads(stdout)["evidence"]}


@pytest.mark.parametrize("name", ["1", "champion", "3.2.0"])
def test_version_by_number_alias_or_tag_gives_the_run_s_latest_values(store: Store, tmp_path: Path, name: str) -> None:
    number, run_id = store.version("ped-detector", GOOD, {"ped-verify": SHA[:8]}, tags={"version": "3.2.0"},
                                   alias="champion")
    before = store.digest()
    code, out, err = invoke("trace", str(model(tmp_path, name)), "--mlflow", store.uri, "--format", "json")
    assert code == 0, err
    ev = evidence(out)
    assert ev["E1"]["status"] == "passed" and ev["E1"]["result_file"] == f"MLflow run {run_id}"
    assert ev["E1"]["detail"] == (f"recall.night_pedestrian = 0.9912 (>= 0.99); MLflow run {run_id}, "
                                  f"ped-detector version {number}")  # the latest value, not the first
    assert not ev["E1"]["stale"] and ev["E2"]["status"] == "passed"
    assert "run_url" not in ev["E1"]  # a local store has no page to link
    assert store.digest() == before  # nothing written to the store


def test_gate_reacts_to_a_degraded_metric(store: Store, tmp_path: Path) -> None:
    store.version("ped-detector", GOOD, alias="champion")
    m = str(model(tmp_path, "champion"))
    code, out, _ = invoke("gate", m, "--mlflow", store.uri, "--format", "json")
    assert _check(out, "evidence_passing") == "pass"
    store.version("ped-detector", {**GOOD, "recall.night_pedestrian": [0.97]}, alias="champion")  # retrained: worse
    code, out, _ = invoke("gate", m, "--mlflow", store.uri, "--format", "json")
    assert code == 1
    assert _check(out, "evidence_passing") == "fail"
    code, out, _ = invoke("trace", m, "--mlflow", store.uri, "--format", "json")
    assert evidence(out)["E1"]["status"] == "failed" and "= 0.97, needs >= 0.99" in str(evidence(out)["E1"]["detail"])


def _check(gate_json: str, subject: str) -> str:
    return next(str(c["status"]) for c in json.loads(gate_json)["checks"] if c["subject"] == subject)


def test_the_environment_variable_names_the_store(store: Store, tmp_path: Path) -> None:
    store.version("ped-detector", GOOD)
    code, out, _ = invoke("trace", str(model(tmp_path, "1")), "--format", "json", env={"MLFLOW_TRACKING_URI": store.uri})
    assert code == 0 and evidence(out)["E1"]["status"] == "passed"


def test_a_metric_missing_from_the_run_is_missing(store: Store, tmp_path: Path) -> None:
    store.version("ped-detector", {"recall.night_pedestrian": [0.995]})
    code, out, _ = invoke("trace", str(model(tmp_path, "1")), "--mlflow", store.uri, "--format", "json")
    ev = evidence(out)
    assert ev["E1"]["status"] == "passed"
    assert ev["E2"]["status"] == "missing" and "no metric 'precision.highway_clutter' in MLflow run" in str(ev["E2"]["detail"])


@pytest.mark.parametrize(("logged", "why"), [
    ({"ped-verify": "0123abcd"}, "dataset 'ped-verify' changed: MLflow run"),
    ({"ped-other": SHA[:8]}, "dataset 'ped-verify' is not among the inputs of MLflow run"),
    ({"ped-verify": SHA[:8], "ped-night": "99999999"}, "which the model does not declare"),
])
def test_metrics_measured_on_other_data_are_stale(store: Store, tmp_path: Path, logged: dict[str, str], why: str) -> None:
    store.version("ped-detector", GOOD, logged)
    code, out, _ = invoke("trace", str(model(tmp_path, "1")), "--mlflow", store.uri, "--format", "json")
    ev = evidence(out)
    assert ev["E1"]["stale"] and ev["E2"]["stale"] and why in str(ev["E1"]["stale_reason"])


@pytest.mark.parametrize(("setup", "code", "message"), [
    ("unknown_version", "SOPS212", "model 'ped-detector' has no version '7' (no such version number, alias or `version` tag)"),
    ("unknown_model", "SOPS212", "no registered model 'ped-detector' in MLflow"),
    ("no_metrics", "SOPS213", "of model 'ped-detector' version 1 has no metrics"),
    ("no_run", "SOPS213", "model 'ped-detector' version 1 has no source run"),
])
def test_registry_answers_that_are_errors(store: Store, tmp_path: Path, setup: str, code: str, message: str) -> None:
    if setup == "unknown_version":
        store.version("ped-detector", GOOD)
    elif setup == "no_metrics":
        store.version("ped-detector", None)
    elif setup == "no_run":
        store.version("ped-detector", GOOD, with_run=False)
    before = store.digest()
    version = "7" if setup == "unknown_version" else "1"
    out_dir = tmp_path / "site"
    exit_code, _, err = invoke("build", str(model(tmp_path, version)), "-o", str(out_dir), "-q", "--mlflow", store.uri)
    assert exit_code == 1
    assert f"m.sops:4:5: error[{code}]: " in err and message in err, err
    assert "Traceback" not in err and not out_dir.exists() and store.digest() == before


def test_bad_uris(tmp_path: Path) -> None:
    m = str(model(tmp_path, "1"))
    code, _, err = invoke("trace", m, "--mlflow", "ftp://models.example.com/x")
    assert code == 1 and "m.sops:4:5: error[SOPS210]: MLflow tracking URI 'ftp://models.example.com/x': scheme 'ftp'" in err
    code, _, err = invoke("trace", m, "--mlflow", f"sqlite:///{tmp_path / 'nope.db'}")
    assert code == 1 and "error[SOPS210]" in err and "no such SQLite file" in err
    assert not (tmp_path / "nope.db").exists()  # MLflow would have created it
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    code, _, err = invoke("gate", m, "--mlflow", f"http://user:secret@127.0.0.1:{port}")
    assert code == 1 and time.monotonic() - start < 30
    assert f"error[SOPS211]: MLflow server 'http://user:***@127.0.0.1:{port}' did not answer: connection refused" in err
    assert "secret" not in err


def test_without_the_mlflow_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow -> ImportError
    code, _, err = invoke("trace", str(model(tmp_path, "1")), "--mlflow", store.uri)
    assert code == 1 and "error[SOPS210]: reading MLflow needs the mlflow package" in err
    assert "pip install 'safetyops-dsl[ops]'" in err


def test_diff_compares_two_versions_through_the_registry(store: Store, tmp_path: Path) -> None:
    store.version("ped-detector", GOOD)
    store.version("ped-detector", {**GOOD, "recall.night_pedestrian": [0.97]})
    old, new = tmp_path / "old", tmp_path / "new"
    for folder, version in ((old, "1"), (new, "2")):
        folder.mkdir()
        (folder / "m.sops").write_text(MODEL.replace("VERSION", version))
    code, out, err = invoke("diff", str(old), str(new), "--mlflow", store.uri, "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert "version" in json.dumps(doc["changes"])
    failing = json.dumps(doc["deltas"]["gate"]["newly_failing"])
    assert "evidence_passing" in failing, doc["deltas"]["gate"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_against_a_tracking_server(store: Store, tmp_path: Path) -> None:
    """One real `mlflow server` on a free port; skipped where it cannot start within 90 s."""
    pytest.importorskip("flask")
    number, run_id = store.version("ped-detector", GOOD, alias="champion")
    port = _free_port()
    exe = Path(sys.executable).parent / "mlflow"
    if not exe.exists():
        pytest.skip("no mlflow command beside this Python")
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen([str(exe), "server", "--backend-store-uri", store.uri, "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "1"], stdout=log, stderr=subprocess.STDOUT,
                            cwd=tmp_path, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/health", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.skip("mlflow server did not start: " + (tmp_path / "server.log").read_text()[-300:])
                time.sleep(0.5)
        code, out, err = invoke("trace", str(model(tmp_path, "champion")), "--mlflow", url, "--format", "json")
        assert code == 0, err
        ev = evidence(out)
        assert ev["E1"]["status"] == "passed" and ev["E1"]["run_url"] == f"{url}/#/experiments/1/runs/{run_id}"
        code, html, _ = invoke("trace", str(model(tmp_path, "champion")), "--mlflow", url, "--format", "html")
        assert f'<a href="{url}/#/experiments/1/runs/{run_id}">MLflow run</a>' in html
        out_dir = tmp_path / "site"
        code, _, err = invoke("build", str(model(tmp_path, "champion")), "-o", str(out_dir), "-q", "--mlflow", url)
        assert code == 0, err
        page = (out_dir / "trace.html").read_text()
        assert f'href="{url}/#/experiments/1/runs/{run_id}"' in page
        assert "0.9912" in page
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
        log.close()
