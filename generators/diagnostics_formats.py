"""Diagnostics for CI systems: SARIF 2.1.0 (code scanning) and GitHub Actions workflow commands (annotations).

Both renderings are deterministic: diagnostics come sorted (diagnostics.sort_unique), rules are every
registered code in code order, JSON keys are sorted, and nothing depends on the clock or the machine.
Paths are the diagnostics' display paths (relative to the working directory, POSIX), so run `sops check`
from the repository root for GitHub to place the annotations.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from safetyops_dsl.diagnostics import Diagnostic, Severity, all_codes, show_hidden

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "sops"

_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def _message(d: Diagnostic) -> str:
    """The text a person reads in the code-scanning view or the annotation: hidden characters written out."""
    return show_hidden(f"{d.message}\nhint: {d.hint}" if d.hint else d.message)


def artifact_uri(path: str) -> str:
    """A SARIF artifact URI: a relative POSIX path stays relative (percent-encoded), an absolute one becomes
    a file:// URI."""
    posix = path.replace("\\", "/")
    if PurePosixPath(posix).is_absolute():
        return "file://" + quote(posix)
    if PureWindowsPath(path).is_absolute():  # C:\...
        return "file:///" + quote(posix, safe="/:")
    return quote(posix)


def to_sarif(diags: Sequence[Diagnostic]) -> str:
    codes = all_codes()
    rule_index = {c.code: i for i, c in enumerate(codes)}
    rules = [
        {
            "id": c.code,
            "shortDescription": {"text": c.title},
            "defaultConfiguration": {"level": _SARIF_LEVEL[c.severity]},
        }
        for c in codes
    ]
    results = []
    for d in diags:
        physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(d.location.file)}}
        if d.location.line > 0:
            region: dict[str, int] = {"startLine": d.location.line}
            if d.location.col > 0:
                region["startColumn"] = d.location.col
            if d.location.has_span:
                region["endLine"] = d.location.end_line
                region["endColumn"] = d.location.end_col
            physical["region"] = region
        result: dict[str, Any] = {
            "ruleId": d.code,
            "level": _SARIF_LEVEL[d.level],
            "message": {"text": _message(d)},
            "locations": [{"physicalLocation": physical}],
        }
        if d.code in rule_index:
            result["ruleIndex"] = rule_index[d.code]
        results.append(result)
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": {"name": TOOL_NAME, "rules": rules}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def escape_data(text: str) -> str:
    """The message part of a workflow command (after `::`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value of a workflow command (`file=...,title=...`): also `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_command(d: Diagnostic) -> str:
    props = [f"file={escape_property(d.location.file)}"]
    if d.location.line > 0:
        props.append(f"line={d.location.line}")
        if d.location.col > 0:
            props.append(f"col={d.location.col}")
    props.append(f"title={escape_property(d.code)}")
    return f"::{_GITHUB_LEVEL[d.level]} {','.join(props)}::{escape_data(_message(d))}"


def to_github(diags: Sequence[Diagnostic], summary: str = "") -> str:
    """One workflow command per diagnostic, then the summary as a plain log line."""
    lines = [github_command(d) for d in diags]
    if summary:
        lines.append(summary)
    return "".join(line + "\n" for line in lines)
