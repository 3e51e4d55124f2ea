"""Every JSON document sops writes names its schema and version, validates against the JSON Schema shipped in
the package, and a schema file cannot change without its version changing (semantic versioning for the
scripts and dashboards that read our outputs)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from safetyops_dsl import schemas
from safetyops_dsl.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
MODELS = ["models/aeb", "models/insulin_pump"]

# name -> (version, sha256 of the schema file). A schema edit must bump the version in
# safetyops_dsl/schemas/__init__.py (major when a field goes or changes meaning, minor when one is added),
# and then this table.
LOCK = {
    "sops-build": ("1.0.0", "9155db5bf1db74d2896a1dc1bf45a1531ab9e8bd4480d98cb115c04c05548abf"),
    "sops-diagnostics": ("1.0.0", "03b806049bb7991384e3b569065e0f13c3e244f30c16065aee2d5f0c96710885"),
    "sops-diff": ("1.0.0", "fa9c7779d95a9b2c0796e587c44ca036849492cf546aaec76be1c4768b8e181f"),
    "sops-fmea": ("1.0.0", "88c23b62cfe1fc1101ec3b9923a2b874936b9185092fefd0c126e09ea11910d6"),
    "sops-fmeda": ("1.0.0", "6a84c3bee3f55831fee827a3daf9a1ca422ad6c5b386cec3622086647cf5b91e"),
    "sops-fta": ("1.5.0", "1f7ca5217db9d793a72236708d7f652acb00f1928b33d9bbee6174b199422876"),
    "sops-gate": ("1.0.0", "ca35ebb09ec555f37486c637d16ce142d38a1d3cecd034fdc279af1d6c396adc"),
    "sops-gsn": ("1.0.0", "d3045f9651e96b7020a3d71064fb7495d990b8d6dac39ac13692ecad165ecc65"),
    "sops-hara": ("1.1.0", "d37320c3fae2136c01ec6408b6073b56a789c042b4eb7df4eef6f4bbe702bb73"),
    "sops-injection-campaign": ("1.0.0", "4d9c2ff6fa45ff57272f1e54fa506cebcf2e2279b439641182611313cc559a66"),
    "sops-injection-results": ("1.0.0", "ef87506e108b71412aed872fc4f606e4632dfbe1a00eec0e80c791fb0f656e96"),
    "sops-sotif": ("1.0.0", "6f98837d42555bd1e8ee4c3770dc2c4052c662f6a09a247bb0327c2992d519ed"),
    "sops-trace": ("1.0.0", "64e568d204e8ee39266dede5b8a16cbaf19f18126bc03b40519a20dc9f77c862"),
}


def _digest(name: str) -> str:
    return hashlib.sha256(schemas.schema_file(name).read_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(schemas.VERSIONS))
def test_schema_file_is_a_valid_json_schema(name: str) -> None:
    schema = schemas.load(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "schema" in schema["required"]


@pytest.mark.parametrize("name", sorted(schemas.VERSIONS))
def test_a_changed_schema_has_a_new_version(name: str) -> None:
    version, digest = LOCK[name]
    assert (schemas.VERSIONS[name], _digest(name)) == (version, digest), (
        f"{name}.schema.json changed: bump its version in safetyops_dsl/schemas/__init__.py and update LOCK here")


def _validate(doc: Any, where: str) -> str:
    assert isinstance(doc, dict) and isinstance(doc.get("schema"), str), f"{where}: no top-level schema key"
    name = doc["schema"].rpartition("/")[0]
    assert doc["schema"] == schemas.tag(name), where
    errors = sorted(Draft202012Validator(schemas.load(name)).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, f"{where}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:3])
    return name


def _run(args: list[str]) -> Any:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("model", MODELS)
def test_every_json_output_of_the_examples_validates(model: str, tmp_path: Path) -> None:
    path = str(ROOT / model)
    seen = set()
    for cmd in (["check"], ["fmea"], ["fmeda"], ["hara"], ["trace"], ["gate"], ["fta"], ["inject"], ["sotif"]):
        seen.add(_validate(_run([*cmd, path, "--format", "json"]), f"{cmd[0]} {model}"))
    result = CliRunner().invoke(cli, ["gsn", path, "--format", "json", "-o", str(tmp_path / "gsn.json")])
    assert result.exit_code in (0, 1), result.output
    seen.add(_validate(json.loads((tmp_path / "gsn.json").read_text()), f"gsn {model}"))
    seen.add(_validate(_run(["diff", path, path, "--format", "json"]), f"diff {model}"))
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", path, "-o", str(out)])
    assert result.exit_code in (0, 1), result.output
    seen.add(_validate(json.loads((out / "manifest.json").read_text()), f"build {model}"))
    for export in sorted((out / "exports").glob("*.json")):
        seen.add(_validate(json.loads(export.read_text()), f"build {model} {export.name}"))
    assert seen == set(schemas.VERSIONS) - INPUTS


# Schemas of files sops reads rather than writes (a test bench's results), checked on the files the tests use.
INPUTS = {"sops-injection-results"}


def test_the_input_files_the_tests_use_validate() -> None:
    files = sorted((ROOT / "tests" / "golden").glob("inject_*/*.json"))
    assert files
    names = {_validate(json.loads(f.read_text(encoding="utf-8")), str(f.relative_to(ROOT))) for f in files}
    assert names == INPUTS


def test_every_json_golden_validates() -> None:
    """The golden outputs hold the edge cases (diagnostics, failing gates, diffs with every delta section)."""
    count = 0
    for f in sorted((ROOT / "tests" / "golden").glob("*/expected/**/*")):
        if not f.is_file() or not (f.name == "stdout" or f.suffix == ".json"):
            continue
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(doc, dict) and str(doc.get("schema", "")).startswith("sops-"):
            _validate(doc, str(f.relative_to(ROOT)))
            count += 1
    assert count >= 10


def test_a_schema_rejects_what_it_should() -> None:
    doc = _run(["gate", str(ROOT / "models" / "aeb"), "--format", "json"])
    validator = Draft202012Validator(schemas.load("sops-gate"))
    assert validator.is_valid(doc)
    assert not validator.is_valid({**doc, "schema": "sops-gate/2.0.0"})
    assert not validator.is_valid({k: v for k, v in doc.items() if k != "passed"})
    assert not validator.is_valid({**doc, "checks": [{"check": "x"}]})
