"""The Python API (safetyops_dsl.api): what a script or notebook can rely on gives what the CLI gives."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from safetyops_dsl import api
from safetyops_dsl.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
AEB = ROOT / "models" / "aeb"


@pytest.fixture(scope="module")
def results() -> api.Results:
    return api.analyse(api.load(AEB), results=[AEB / "ci-results"])


def test_the_stable_surface_is_what_all_lists() -> None:
    assert sorted(api.__all__) == ["Checked", "Model", "ModelError", "Options", "Results", "analyse", "artifacts",
                                   "check", "json_schema", "load", "render", "to_data"]
    for name in api.__all__:
        assert getattr(api, name) is not None


def test_load_raises_with_the_diagnostics() -> None:
    with pytest.raises(api.ModelError) as err:
        api.load(ROOT / "tests" / "golden" / "check_sops011_unknown_name")
    assert [d.code for d in err.value.diagnostics if d.level.name == "ERROR"] == ["SOPS011"]
    assert "error[SOPS011]: unknown refined element 'SG_BRAKES'" in str(err.value)


def test_strict_load_refuses_warnings() -> None:
    case = ROOT / "tests" / "golden" / "check_sops023_unconnected_input"
    api.load(case)
    with pytest.raises(api.ModelError):
        api.load(case, strict=True)


@pytest.mark.parametrize("artifact,fmt", [("fmeda", "json"), ("fmea", "md"), ("hara", "csv"), ("trace", "json"),
                                          ("fta", "json"), ("gate", "json"), ("gate", "text"), ("gsn", "json"),
                                          ("sotif", "json")])
def test_render_gives_the_bytes_of_the_cli(results: api.Results, tmp_path: Path, artifact: str, fmt: str) -> None:
    args = [artifact, str(AEB), "--format", fmt]
    if artifact in ("trace", "gate", "gsn", "sotif"):
        args += ["--results", str(AEB / "ci-results")]
    if artifact == "gsn":
        args += ["-o", str(tmp_path / "gsn.json")]
    if artifact == "fmeda":  # the API, like the gate, reads the campaign results shipped beside the CI results
        args += ["--campaign-results", str(AEB / "ci-results" / "injection.xml")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    cli_text = (tmp_path / "gsn.json").read_text(encoding="utf-8") if artifact == "gsn" else result.stdout
    assert api.render(results, artifact, fmt) == cli_text


def test_every_artifact_renders(results: api.Results) -> None:
    for artifact, fmt in api.artifacts():
        out = api.render(results, artifact, fmt)
        assert out and isinstance(out, bytes if fmt == "xlsx" else str), (artifact, fmt)
    with pytest.raises(ValueError, match="no format 'pdf'"):
        api.render(results, "fmeda", "pdf")


def test_to_data_is_plain_json(results: api.Results) -> None:
    for section in (results.fmea, results.fmeda, results.hara, results.goal_checks, results.trees[0][1]):
        data = api.to_data(section)
        assert json.loads(json.dumps(data, allow_nan=False)) == data
    fmeda = api.to_data(results.fmeda)
    assert {g["goal"] for g in fmeda["goals"]} == {g.goal for g in results.fmeda.goals}


def test_json_schema_by_name_or_document_tag(results: api.Results) -> None:
    doc = json.loads(api.render(results, "fmeda", "json"))
    assert api.json_schema(doc["schema"]) == api.json_schema("sops-fmeda")
    assert api.json_schema("sops-fmeda")["title"] == "FMEDA"


def test_importing_check_does_not_import_the_analyses() -> None:
    """`sops check` imports api.check: the analyses and generators stay out of its start-up."""
    code = ("import sys; from safetyops_dsl.api import check; "
            "print(sorted(m for m in sys.modules if m.startswith(('safetyops_dsl.analysis', 'safetyops_dsl.generators', 'jinja2', 'openpyxl'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
