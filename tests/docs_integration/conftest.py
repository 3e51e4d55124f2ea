"""Real docs projects in a tmp folder, built by the real tools (sphinx-build, mkdocs) in a subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AEB = ROOT / "models" / "aeb"


Run = Callable[[list[str], Path], subprocess.CompletedProcess[str]]


@pytest.fixture
def run() -> Run:
    """`python -m TOOL ARGS` in a folder (the tools of this interpreter's environment)."""

    def call(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=300, check=False)

    return call


@pytest.fixture
def project(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """A folder holding a copy of the AEB model in model/ and the given files (name -> text)."""
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")

    def make(files: dict[str, str]) -> Path:
        shutil.copytree(AEB, tmp_path / "model")
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return tmp_path

    return make
