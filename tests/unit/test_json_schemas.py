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
    "sops-build": ("1.0.0", "e3fbf87a25c666360282d87d47f7a50545333a893b8a8e7f04d60bd9e05d983b"),
    "sops-diagnostics": ("1.0.0", "10c08c4edb2263a52785b57e5ddb8b5a756923f27e7ce05780678a3287508005"),
    "sops-diff": ("1.0.0", "f2ba3b7df7ddfbe92068bfbe8b625c70b378970081ca2b984cc2d7c2fe364f3a"),
    "sops-fmea": ("1.0.0", "72b7c9a661364cb4ae1dac518cd2e76041c9470fdae2c72002869b92b8444c5e"),
    "sops-fmeda": ("1.0.0", "66babcb977a75810a10b88e22bef7b69aa57e16731bd222b6c6978341395ae5c"),
    "sops-fta": ("1.0.0", "2099490ac80e53df349c06950a8c3341a3f2a574322bd608cae3ba77146162bd"),
    "sops-gate": ("1.0.0", "015a827ac606a1f22b83125b2f0dc789a2416c9caaa461f478f31c65349b8d83"),
    "sops-gsn": ("1.0.0", "926fadab7bddc7f6981155c324a756674b5f0fa127dc00e5e39d46835a84b2d9"),
    "sops-hara": ("1.0.0", "4947714ca54c8753509cd4a7e3f2969688967e6f56cd792fbe0c23d0d36b92e1"),
    "sops-injection-campaign": ("1.0.0", "4d9c2ff6fa45ff57272f1e54fa506cebcf2e2279b439641182611313cc559a66"),
    "sops-injection-results": ("1.0.0", "ef87506e108b71412aed872fc4f606e4632dfbe1a00eec0e80c791fb0f656e96"),
    "sops-trace": ("1.0.0", "8da07b0e329c434a3d811dd1a7b8efc6f7c0a3226d4753c28491b8246d0b096a"),
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
    for cmd in (["check"], ["fmea"], ["fmeda"], ["hara"], ["trace"], ["gate"], ["fta"], ["inject"]):
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
