"""The JSON outputs' schemas: every JSON document sops writes carries `"schema": "<name>/<version>"` at its top,
and the JSON Schema (draft 2020-12) of each ships beside this file as `<name>.schema.json`.

Versions follow semantic versioning, for the consumers of the files (CI scripts, dashboards, other tools):
a new optional field is a minor version, a removed or retyped field or a changed meaning a major one.
tests/unit/test_json_schemas.py validates every output of the example models against its schema and fails
when a schema file changes without its version here changing."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

TYPE_CHECKING = False  # typing itself is not imported at run time (`sops fta` start-up)
if TYPE_CHECKING:
    from typing import Any

VERSIONS: dict[str, str] = {
    "sops-diagnostics": "1.0.0",  # sops check --format json
    "sops-fmea": "1.0.0",
    "sops-fmeda": "1.0.0",
    "sops-hara": "1.1.0",  # 1.1: profile.sil[].risk_graph, profile.dal (ARP4754A FDAL/IDAL assignment), profile.fha[].at_risk_h
    "sops-trace": "1.0.0",
    "sops-diff": "1.0.0",
    "sops-gate": "1.0.0",
    "sops-fta": "1.5.0",  # 1.1: uncertainty.<top>.pfd_avg, simulation; 1.2: refused; 1.3: model_count; 1.4: enumerated_cut_sets; 1.5: its method, zdd_nodes
    "sops-gsn": "1.0.0",
    "sops-build": "1.0.0",  # the build folder's manifest.json
    "sops-sotif": "1.0.0",  # sops sotif --format json
    "sops-injection-campaign": "1.0.0",  # sops inject --format json
    "sops-injection-results": "1.0.0",  # what a test bench writes back (an input, documented the same way)
}

FOLDER = Path(__file__).parent


def tag(name: str) -> str:
    """The value of a document's top-level `schema` key, e.g. "sops-fmea/1.0.0"."""
    return f"{name}/{VERSIONS[name]}"


def schema_file(name: str) -> Path:
    return FOLDER / f"{name}.schema.json"


@cache
def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema_file(name).read_text(encoding="utf-8"))
    return data
