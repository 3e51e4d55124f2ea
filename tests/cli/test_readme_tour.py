"""The README's CLI tour shows real output: every ```text block that starts with `$ sops ...` is run from the
repository root and its output (stdout and stderr, interleaved as a terminal shows them) must match the block.

A line `...` in a block stands for any number of lines (the README elides long output); every other line
must match exactly, trailing blanks aside. A block fails when the command's output changed: rerun the
command and paste the new output, then read it as a newcomer would.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```text\n(\$ sops [^\n]*)\n(.*?)^```$", re.S | re.M)


def tour_blocks(text: str) -> list[tuple[str, list[str]]]:
    """(command line, expected output lines) of each tour block."""
    return [(cmd[2:], body.splitlines()) for cmd, body in FENCE.findall(text)]


def matches(expected: list[str], actual: list[str]) -> bool:
    """`expected` with `...` lines as wildcards (zero or more lines) against `actual`, line by line."""
    pattern = ""
    for line in expected:
        pattern += r"(?:[^\n]*\n)*?" if line.strip() == "..." else re.escape(line.rstrip()) + r"\n"
    return re.fullmatch(pattern, "".join(a.rstrip() + "\n" for a in actual)) is not None


def test_the_matcher() -> None:
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "...", "b"], ["a", "b"])
    assert matches(["...", "b", "..."], ["a", "b", "c"])
    assert not matches(["a", "...", "d"], ["a", "b", "c", "e"])
    assert not matches(["a", "b"], ["a", "b", "c"])
    assert not matches(["a  x"], ["a x"])


BLOCKS = tour_blocks((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_a_tour() -> None:
    assert len(BLOCKS) >= 4, [cmd for cmd, _ in BLOCKS]


@pytest.mark.parametrize(("command", "expected"), BLOCKS, ids=[cmd for cmd, _ in BLOCKS])
def test_readme_tour_output_is_real(command: str, expected: list[str]) -> None:
    args = shlex.split(command)
    assert args[0] == "sops"
    env = {**os.environ, "PYTHONHASHSEED": "0", "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("SOPS_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "safetyops_dsl", *args[1:]], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, check=False)
    actual = proc.stdout.splitlines()
    assert matches(expected, actual), "README block differs from the real output:\n" + proc.stdout
