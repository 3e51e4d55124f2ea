"""Mutation check of `sops diff`: random single-point edits of the example models, each compared with what
every command prints before and after.

For each edit: the edited model is analysed by the commands a reviewer reads (`sops fta|fmea|fmeda|hara|
trace|gate|gsn|inject|sotif --format json`, in process; fmeda with the shipped fault-injection results); a
section "moved" where that command's output changed. The diff
(`sops diff OLD NEW --format json`) must then list at least one element change and a non-empty
`deltas.<section>` for every moved section, and no section that did not move. Edits that make the model
invalid must still get a diff (exit 1) with the change listed.

    python benchmarks/diff_mutations.py --count 200 --seed 1     # the larger sample
The CI test (tests/cli/test_diff_mutations.py) runs a fixed small sample through the same code.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from safetyops_dsl.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
MODELS = (ROOT / "models" / "aeb", ROOT / "models" / "insulin_pump")
# command -> deltas section it stands for
SECTIONS = {"fta": "fta", "fmea": "fmea", "fmeda": "fmeda", "hara": "hara", "trace": "trace", "gate": "gate",
            "gsn": "gsn", "inject": "injection", "sotif": "sotif", "odd_coverage": "odd_coverage"}
# `sops sotif` prints both: its "coverage" member is the ODD coverage, the rest the SOTIF analysis
SPLIT = {"odd_coverage": ("sotif", "coverage")}


@dataclass(frozen=True)
class Edit:
    file: str  # relative to the model folder
    line: int  # 0-based
    old: str
    new: str
    what: str

    def describe(self) -> str:
        return f"{self.file}:{self.line + 1}: {self.what}: {self.old.strip()!r} -> {self.new.strip()!r}"


_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?(?:e-?\d+)?)(?![\w.])")
_CLASS = re.compile(r"\b([SEC])([0-4])\b")
_SWAPS = ((" and ", " or "), (" or ", " and "), ("mechanism ", "monitor "), ("asil D", "asil C"),
          ("asil B", "asil C"), ("latent_coverage", "coverage"))


def candidate_edits(folder: Path) -> list[Edit]:
    """Every single-point edit this script knows for the model's files, in a stable order."""
    out: list[Edit] = []
    for f in sorted(folder.rglob("*.sops")):
        rel = f.relative_to(folder).as_posix()
        lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
        for i, line in enumerate(lines):
            body = line.split("//", 1)[0]
            if not body.strip() or body.strip() in ("{", "}"):
                continue
            # numbers outside strings: rates, coverages, targets, mission times, exposures, k of n
            code = re.sub(r'"[^"]*"', lambda m: " " * len(m.group(0)), body)
            for m in _NUMBER.finditer(code):
                x = float(m.group(1))
                new = f"{x * 2:g}" if x < 50 or "%" not in code[m.end():m.end() + 2] else f"{x - 10:g}"
                out.append(Edit(rel, i, line, line[:m.start()] + new + line[m.end():], "number"))
            for m in _CLASS.finditer(code):
                k = int(m.group(2))
                new = f"{m.group(1)}{k - 1 if k > 1 else k + 1}"
                out.append(Edit(rel, i, line, line[:m.start()] + new + line[m.end():], "classification"))
            for a, b in _SWAPS:
                if a in code:
                    out.append(Edit(rel, i, line, line.replace(a, b, 1), "swap"))
            if re.match(r"\s*failure \w+ .*(FIT|per h|probability)", code) and "systematic" not in code:
                head, sep, tail = line.partition('"')
                out.append(Edit(rel, i, line, head.rstrip() + " systematic " + sep + tail if sep else
                                line.rstrip("\n") + " systematic\n", "flag"))
            if "{" not in code and "}" not in code:
                out.append(Edit(rel, i, line, "", "delete line"))
    return out


def _run(args: list[str]) -> tuple[int, str]:
    res = CliRunner().invoke(cli, args, catch_exceptions=False)
    return res.exit_code, res.stdout


def _json(text: str) -> Any:
    return _no_positions(json.loads(text)) if text.strip() else None


_POSITION_KEYS = frozenset({"file", "line", "col", "location", "end_line", "end_col"})


def _no_positions(doc: Any) -> Any:
    """Where an element is written is not a result: a deleted line moves every line after it. Numbers are
    compared to 10 significant digits (rounding noise of a changed variable order is not a move)."""
    if isinstance(doc, dict):
        return {k: _no_positions(v) for k, v in doc.items() if k not in _POSITION_KEYS}
    if isinstance(doc, list):
        return [_no_positions(v) for v in doc]
    if isinstance(doc, str):
        return re.sub(r"(\.sops)(:\d+)+", r"\1", doc)
    if isinstance(doc, float):
        # the engine's last bits depend on the variable order: a result moves when 10 digits move
        return float(f"{doc:.10g}")
    return doc


def outputs(folder: Path) -> dict[str, str] | None:
    """The JSON every command prints for the model (run from inside it, so file names read the same on both
    sides), or None where the model does not check. `sops trace`'s "graph" is the trace diagram's drawing data
    (node attributes copied from the model and the trees): the rows beside it are the trace results."""
    old = os.getcwd()
    os.chdir(folder)
    try:
        code, _ = _run(["check", ".", "--brief"])
        if code != 0:
            return None
        out = {}
        # the CI results the model ships: sops build, gate and diff read ci-results/ by convention, trace and
        # gsn take them as --results
        shipped = ["--results", "ci-results"] if (folder / "ci-results").is_dir() else []
        # and its fault-injection results, which diff reads from there too (the FMEDA shows the measurement)
        campaign = [f"ci-results/{n}" for n in ("injection.xml", "injection.json") if (folder / "ci-results" / n).is_file()]
        for cmd in SECTIONS:
            if cmd in SPLIT:
                continue
            extra = shipped if cmd in ("trace", "gsn") else []
            if cmd == "fmeda":
                extra = [a for f in campaign for a in ("--campaign-results", f)]
            _, text = _run([cmd, ".", "--format", "json", *extra])
            doc = _json(text)
            if cmd == "trace" and isinstance(doc, dict):
                doc.pop("graph", None)
            for part, (whole, member) in SPLIT.items():
                if cmd == whole:
                    out[part] = json.dumps(doc.pop(member, None) if isinstance(doc, dict) else None,
                                           sort_keys=True)
            out[cmd] = json.dumps(doc, sort_keys=True)
        return out
    finally:
        os.chdir(old)


def check_edit(model: Path, edit: Edit, base: dict[str, str], tmp: Path) -> list[str]:
    """Problems found for one edit ([] when the diff told everything that moved)."""
    dest = tmp / "new" / model.name
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(model, dest)
    f = dest / edit.file
    lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[edit.line] == edit.old
    lines[edit.line] = edit.new
    f.write_text("".join(lines), encoding="utf-8")
    after = outputs(dest)
    code, text = _run(["diff", str(model), str(dest), "--format", "json"])
    problems: list[str] = []
    try:
        doc = json.loads(text)
    except ValueError:
        return [f"{edit.describe()}: diff printed no JSON (exit {code})"]
    deltas = doc.get("deltas", {})
    if after is None:
        if code != 1:
            problems.append(f"{edit.describe()}: the new side has errors but diff exited {code}")
        return problems
    moved = {SECTIONS[c] for c in SECTIONS if base[c] != after[c]}
    if moved and not doc["changes"]:
        problems.append(f"{edit.describe()}: results moved ({', '.join(sorted(moved))}) but no change is listed")
    for section in sorted(moved - set(deltas)):
        problems.append(f"{edit.describe()}: {section} moved but deltas.{section} is absent")
    for section in sorted(set(deltas) - moved):
        problems.append(f"{edit.describe()}: deltas.{section} is present but `sops {section}` printed the same")
    return problems


def sample(count: int, seed: int) -> list[tuple[Path, Edit]]:
    pool = [(m, e) for m in MODELS for e in candidate_edits(m)]
    rng = random.Random(seed)
    return rng.sample(pool, min(count, len(pool)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    edits = sample(args.count, args.seed)
    bases = {m: outputs(m) for m in MODELS}
    problems: list[str] = []
    moved_edits = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for model, edit in edits:
            base = bases[model]
            assert base is not None
            found = check_edit(model, edit, base, Path(tmp))
            problems += found
            moved_edits += 1
    took = time.perf_counter() - start
    for p in problems:
        print(p)
    print(f"{len(edits)} edits of {len(MODELS)} models, {len(problems)} problems, {took:.1f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
