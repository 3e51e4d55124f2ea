from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

# In CI the property tests explore a fixed, reproducible set of examples (a red main must be reproducible);
# locally they keep exploring at random. Tests' own @settings still set their example counts.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "openpsa"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/*/expected from actual output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus/openpsa is absent")
    return CORPUS


@pytest.fixture(scope="session")
def scram() -> str:
    path = shutil.which("scram")
    if path is None:
        pytest.skip("SCRAM is not installed (apt-get install scram)")
    return path


@pytest.fixture(scope="session")
def dot_program() -> str:
    path = shutil.which("dot")
    if path is None:
        pytest.skip("Graphviz dot is not installed")
    return path
