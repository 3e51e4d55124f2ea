"""The click-free path of `sops fta` (cli/fta_fast.py) against the click command: same options, and the same
stdout, stderr, files and exit code on every command line, plain or not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from safetyops_dsl.cli import fta_fast
from safetyops_dsl.cli.fta_cmd import fta
from safetyops_dsl.cli.fta_run import DEFAULTS
from safetyops_dsl.cli.main import cli, main

MODEL = """<?xml version="1.0"?>
<opsa-mef>
  <define-fault-tree name="FT">
    <define-gate name="Top1"><or><gate name="Shared"/><basic-event name="a"/></or></define-gate>
    <define-gate name="Top2"><and><gate name="Shared"/><basic-event name="b"/></and></define-gate>
    <define-gate name="Shared"><atleast min="2"><basic-event name="c"/><basic-event name="d"/>
      <basic-event name="e"/></atleast></define-gate>
  </define-fault-tree>
  <model-data>
    <define-basic-event name="a"><float value="0.1"/></define-basic-event>
    <define-basic-event name="b"><float value="0.2"/></define-basic-event>
    <define-basic-event name="c"><float value="0.3"/></define-basic-event>
    <define-basic-event name="d"><float value="0.4"/></define-basic-event>
    <define-basic-event name="e"><float value="0.5"/></define-basic-event>
  </model-data>
</opsa-mef>
"""
EMPTY = '<?xml version="1.0"?>\n<opsa-mef><model-data/></opsa-mef>\n'
BROKEN = '<?xml version="1.0"?>\n<opsa-mef>\n  <define-fault-tree name="FT">\n</opsa-mef>\n'
WARNED = MODEL.replace('<basic-event name="a"/></or>', '<basic-event name="a"/><house-event name="h"/></or>').replace(
    "</model-data>", '<define-house-event name="h"><constant value="false"/></define-house-event></model-data>'
)

# (command line after `fta`, taken by the fast path?) with {m} the model, {e} the empty, {b} the broken model,
# {w} a model with a house event, {s} a .sops model, {o} an output file, {d} an output folder
LINES: list[tuple[str, bool]] = [
    ("{m}", True),
    ("{m} --format json", True),
    ("{m} --format=md --no-importance", True),
    ("{m} --format dot -o {o}", True),
    ("{m} --format dot -o {d}", True),
    ("{m} --format openpsa --output={o}", True),
    ("{m} --hazard Top2 --limit-order 1 --cut-off 0.1 --approx mcub", True),
    ("{m} --mission-time 10 --cut-set-limit 1 --max-cut-sets 5 --importance --gate", True),
    ("{m} --max-bdd-nodes 1", True),
    ("{s} --uncertainty 40 --seed 3 --format json", True),
    ("{s} --uncertainty 40 --uncertainty-limit 20", True),
    ("{m} --simulate 5000 --seed 4 --format json", True),
    ("{m} --simulate 300 --format md", True),
    ("{m} --simulate 0", False),
    ("{m} --seed -1", False),
    ("{m} --max-cut-sets 1", True),
    ("{m} --hazard Nope", True),
    ("{e}", True),
    ("{b}", True),
    ("{w} --format json", True),
    ("{m} -o -", True),
    ("{s} --format md --gate", True),
    ("--format json {m} {m}", True),
    ("{m} --format bogus", False),
    ("{m} --limit-order -1", False),
    ("{m} --limit-order 1.5", False),
    ("{m} --cut-off 2", False),
    ("{m} --cut-off nan", False),
    ("{m} --format json --format text", False),
    ("{m} --hazard", False),
    ("{m} --unknown", False),
    ("{m} --gate=yes", False),
    ("{m} -o{o}", False),
    ("{m} -- {m}", False),
    ("{m} missing.xml", False),
    ("", False),
    ("-h", False),
    ("{m} --help", False),
]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    made = {"m": MODEL, "e": EMPTY, "b": BROKEN, "w": WARNED}
    out = {}
    for key, text in made.items():
        path = tmp_path / f"{key}.xml"
        path.write_text(text, encoding="utf-8")
        out[key] = str(path)
    out["s"] = str(Path(__file__).parents[2] / "models" / "insulin_pump")
    out["o"] = str(tmp_path / "out.txt")
    out["d"] = str(tmp_path / "folder")
    return out


def _outputs(files: dict[str, str]) -> dict[str, bytes]:
    found = {}
    for key in ("o", "d"):
        path = Path(files[key])
        if path.is_file():
            found[key] = path.read_bytes()
            path.unlink()
        elif path.is_dir():
            for child in sorted(path.iterdir()):
                found[f"{key}/{child.name}"] = child.read_bytes()
                child.unlink()
            path.rmdir()
    return found


def _run(capsys: pytest.CaptureFixture[str], call: object) -> tuple[object, str, str]:
    with pytest.raises(SystemExit) as stop:
        call()  # type: ignore[operator]
    captured = capsys.readouterr()
    return stop.value.code, captured.out, captured.err


@pytest.mark.parametrize(("line", "fast"), LINES, ids=[line or "<none>" for line, _ in LINES])
def test_fast_and_click_paths_agree(
    line: str, fast: bool, files: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = [word.format(**files) for word in line.split()]
    if "{d}" in line:
        os.mkdir(files["d"])
    assert (fta_fast.parse(args) is not None) is fast
    quick = _run(capsys, lambda: main(["fta", *args]))
    quick_files = _outputs(files)
    if "{d}" in line:
        os.mkdir(files["d"])
    slow = _run(capsys, lambda: cli.main(args=["fta", *args], prog_name="sops", standalone_mode=True))
    assert quick == slow
    assert quick_files == _outputs(files)
    assert "Traceback" not in quick[2]


def test_usage_errors_read_as_click_writes_them(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, lambda: main(["fta", files["m"], "--hazard", "Nope"]))
    assert code == 2
    assert err == "Usage: sops fta [OPTIONS] PATHS...\nTry 'sops fta --help' for help.\n\nError: no top event named 'Nope'\n"


def test_the_option_table_is_the_click_commands(files: dict[str, str]) -> None:
    kinds = {click.Path: "path", click.Choice: "choice", click.IntRange: "int", click.FloatRange: "float"}
    options = [p for p in fta.params if isinstance(p, click.Option)]
    spelled = {**{k: v[0] for k, v in fta_fast.OPTIONS.items()}, **{k: v[0] for k, v in fta_fast.FLAGS.items()}}
    assert sorted(spelled) == sorted(s for p in options for s in [*p.opts, *p.secondary_opts])
    # what click hands the command when no option is given is what the fast path starts from
    assert fta.make_context("fta", [files["m"]]).params == {**DEFAULTS, "paths": (files["m"],)}
    assert fta_fast.parse([files["m"]]) == {**DEFAULTS, "paths": (files["m"],)}
    for p in options:
        assert p.name is not None
        for spelling in p.secondary_opts:
            assert fta_fast.FLAGS[spelling] == (p.name, False)
            assert fta.make_context("fta", [files["m"], spelling]).params[p.name] is False
        for spelling in p.opts:
            assert spelled[spelling] == p.name
            if p.is_flag:
                assert fta_fast.FLAGS[spelling] == (p.name, True)
                assert fta.make_context("fta", [files["m"], spelling]).params[p.name] is True
                continue
            _, kind, allowed = fta_fast.OPTIONS[spelling]
            assert kind == kinds.get(type(p.type), "str"), p.name
            if isinstance(p.type, click.Choice):
                assert tuple(p.type.choices) == allowed
            if isinstance(p.type, click.IntRange | click.FloatRange):
                assert (p.type.min, p.type.max, p.type.min_open, p.type.max_open) == (*allowed, False, False)


def test_a_plain_line_never_imports_click(files: dict[str, str]) -> None:
    code = (
        "import sys; from safetyops_dsl.cli.fta_fast import run_plain; "
        f"rc = run_plain([{files['m']!r}, '--format', 'json', '-o', {files['o']!r}]); "
        "print(rc, 'click' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "0 False\n"
    assert Path(files["o"]).read_text(encoding="utf-8").startswith("{")
