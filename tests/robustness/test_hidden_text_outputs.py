"""Hidden text (Trojan Source) through every output: a model whose every string, and a comment, holds each
kind of hidden character (bidi embeddings, overrides and isolates, zero-width characters, line and paragraph
separators, a byte-order mark inside the text, soft hyphen, word joiner, C0/C1 controls, a tag character).

`sops check` warns (SOPS014); no file or stdout of `sops build` or of any command in any format holds a raw
hidden character. Presentation formats show `<U+202E>`; JSON and YAML keep the exact text with their own
`\\u` escapes (checked by reading them back).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from safetyops_dsl.cli.main import cli
from safetyops_dsl.diagnostics import HIDDEN

HIDDEN_CHARS = (
    "\u202a\u202b\u202c\u202d\u202e"  # bidi embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # bidi isolates
    "\u200b\u200c\u200d\u200e\u200f"  # zero-width space/joiners, LRM/RLM
    "\u2028\u2029\ufeff"  # separators, BOM inside text
    "\u00ad\u2060\u061c"  # soft hyphen, word joiner, Arabic letter mark (other Cf)
    "\x07\x1b\x7f\x85"  # C0 and C1 controls
    "\U000e0041"  # a tag character (astral Cf)
)


def h(text: str) -> str:
    return f"{text}[{HIDDEN_CHARS}]"


def model(hidden: bool) -> str:
    m = h if hidden else (lambda t: t)
    return f'''package hid
deviation value.high refines value "{m('too high')}"
component Sensor "{m('sensor')}" {{
    in  power
    out data
    failure Dead rate 10 FIT "{m('dead')}"
    failure Drift rate 5 FIT "{m('drift')}"
    mechanism Watch covers Dead coverage 90 % "{m('watchdog')}"
    data.omission <- Dead or power.omission // {m('comment')}
    data.value.high <- Drift
}}
component Supply "{m('supply')}" {{
    out power
    failure Off rate 20 FIT "{m('off')}"
    power.omission <- Off
}}
system Sys "{m('system')}" {{
    out data
    part s : Sensor
    part p : Supply
    connect p.power -> s.power
    connect s.data -> data
}}
hazard H1 "{m('hazard')}" {{
    situation "{m('situation')}"
    severity S3 exposure E4 controllability C3
    when data.omission or data.value.high
}}
safety_goal SG1 "{m('goal')}" mitigates H1 {{ safe_state "{m('safe')}" ftti 50 ms target 1e-7 per h }}
requirement R1 "{m('req')}" refines SG1 allocated_to s asil D
evidence E1 test "tests/x.py::{m('t')}" verifies R1
evidence E2 review "{m('review')}" supports H1
'''


def raw_hidden(text: str) -> set[str]:
    return {f"U+{ord(c.group()):04X}" for c in HIDDEN.finditer(text)}


def strings(data: object) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in strings(k) + strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in strings(v)]
    return []


def exact(data: object) -> bool:
    """JSON and YAML keep the model's text exactly (escaped in the file, the characters after reading)."""
    return any(HIDDEN_CHARS in s for s in strings(data))


def texts_of(path: Path) -> list[tuple[str, str]]:
    if zipfile.is_zipfile(path):  # XLSX
        with zipfile.ZipFile(path) as z:
            return [(f"{path.name}!{n}", z.read(n).decode("utf-8")) for n in z.namelist()]
    return [(path.name, path.read_text(encoding="utf-8"))]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("hidden")
    for name, hidden in (("new", True), ("old", False)):
        (root / name).mkdir()
        (root / name / "hid.sops").write_text(model(hidden), encoding="utf-8")
    return root / "old", root / "new"


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, catch_exceptions=False, env={"NO_COLOR": "1"})
    return result.exit_code, result.output


def test_check_warns_and_shows_no_raw_character(models: tuple[Path, Path]) -> None:
    _, new = models
    for fmt in ("text", "json", "sarif", "github"):
        code, out = run(["check", "--format", fmt, str(new)])
        assert code == 0, out
        assert "SOPS014" in out and not raw_hidden(out), (fmt, raw_hidden(out))
    _, text = run(["check", str(new)])
    assert "<U+202E>" in text and "U+E0041 TAG LATIN CAPITAL LETTER A" in text  # excerpts write them out
    assert text.count("warning[SOPS014]") == 15  # every line with a string or the comment
    # U+2028 and U+0085 are no line breaks for the parser, nor for the excerpts: each shows its own line
    assert " 30 | requirement R1 " in text and " 32 | evidence E2 review " in text


def test_build_writes_no_raw_hidden_character(models: tuple[Path, Path], tmp_path: Path) -> None:
    _, new = models
    code, out = run(["build", str(new), "-o", str(tmp_path / "site"), "--no-git", "-q"])
    assert code in (0, 1), out  # the release gate may fail; the outputs are written either way
    files = sorted(p for p in (tmp_path / "site").rglob("*") if p.is_file())
    suffixes = {p.suffix for p in files}
    assert {".html", ".md", ".csv", ".xlsx", ".json", ".svg", ".dot", ".xml", ".yaml"} <= suffixes, suffixes
    shown = 0
    for path in files:
        for name, text in texts_of(path):
            assert not raw_hidden(text), (name, raw_hidden(text))
            shown += "U+202E" in text or "u202e" in text.lower()
    assert shown >= 15, "the model text with its hidden characters reaches the outputs, escaped"


COMMANDS = [
    *[["fta", "--format", f] for f in ("text", "json", "dot", "svg", "openpsa", "md")],
    *[[kind, "--format", f] for kind in ("fmea", "fmeda", "hara") for f in ("md", "csv", "html", "xlsx", "json")],
    *[["trace", "--format", f] for f in ("md", "csv", "html", "json", "dot", "svg")],
    *[["gsn", "--format", f] for f in ("svg", "dot", "json", "yaml", "md")],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: "-".join(a))
def test_every_command_and_format(models: tuple[Path, Path], tmp_path: Path, args: list[str]) -> None:
    if args[-1] in ("svg",) and shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    _, new = models
    out = tmp_path / ("out.xlsx" if args[-1] == "xlsx" else "out")
    code, stdout = run([args[0], str(new), *args[1:], "-o", str(out)])
    assert code in (0, 1), stdout
    assert not raw_hidden(stdout)
    files = [p for p in out.rglob("*") if p.is_file()] if out.is_dir() else [out]
    assert files and all(p.stat().st_size for p in files), stdout
    for path in files:
        for name, text in texts_of(path):
            assert not raw_hidden(text), (args, name, raw_hidden(text))
            if args[-1] == "json":
                json.loads(text)
            if path.suffix == ".yaml":
                assert exact(yaml.safe_load(text))
    if args[-1] == "json" and args[0] in ("fmea", "fmeda", "hara", "trace", "gsn"):
        assert exact(json.loads(out.read_text(encoding="utf-8")))


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_gate(models: tuple[Path, Path], fmt: str) -> None:
    _, new = models
    code, out = run(["gate", str(new), "--format", fmt])
    assert code in (0, 1), out
    assert not raw_hidden(out)


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_diff(models: tuple[Path, Path], fmt: str) -> None:
    old, new = models
    code, out = run(["diff", str(old), str(new), "--format", fmt])
    assert code == 0, out
    assert not raw_hidden(out)
    if fmt == "json":
        assert exact(json.loads(out))
    else:
        assert "&lt;U+202E&gt;" in out or "<U+202E>" in out
