"""The rules of a large model split over two processes (rules.validate with workers > 1, validation/forked.py)
give exactly the diagnostics, in the same order, of one process: on random edits of generated models, so
that every forked rule meets models where it finds something."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from safetyops_dsl.api import check
from safetyops_dsl.validation import rules
from safetyops_dsl.validation.forked import Forked, can_fork
from tests.unit.test_incremental_validation import FILES, _edit, _file, write_model

needs_fork = pytest.mark.skipif(not can_fork(), reason="no fork here (or other threads run)")


@needs_fork
@pytest.mark.parametrize("seed", range(1, 5))
def test_two_processes_give_the_diagnostics_of_one(tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "PARALLEL_MIN_COMPONENTS", 1)  # the generated models are small
    rng = random.Random(seed)
    model, base, names = write_model(tmp_path)
    found: set[str] = set()
    for step in range(10):
        name = rng.choice(sorted(base))
        path = model / name
        path.write_text(_edit(rng, path.read_text("utf-8"), names), "utf-8")
        checked = check([model], workers=1)
        if checked.model is None:
            continue
        one = rules.validate(checked.model, workers=1)
        fresh = check([model], workers=1, validate=False).model  # no caches filled by a validation before
        assert fresh is not None
        assert rules.validate(fresh, workers=2) == one, (seed, step)
        found.update(d.code for d in one)
    assert found  # the edits broke something the rules report


@needs_fork
def test_the_order_of_the_rules_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "PARALLEL_MIN_COMPONENTS", 1)
    for f in range(FILES):
        text = _file(f)
        if f == 2:  # a duplicate port (a forked rule, first in ALL_RULES) and a connection to no port (not forked)
            text = text.replace("    out y\n", "    out y\n    out y\n", 1).replace("-> sink", "-> nowhere", 1)
        (tmp_path / f"f{f}.sops").write_text(text, encoding="utf-8")
    checked = check([tmp_path], workers=1, validate=False)
    assert checked.model is not None
    one = rules.validate(checked.model, workers=1)
    codes = [d.code for d in one]
    assert codes.index("SOPS010") < codes.index("SOPS026") < codes.index("SOPS035")  # forked, here, forked
    fresh = check([tmp_path], workers=1, validate=False).model
    assert fresh is not None
    assert rules.validate(fresh, workers=2) == one


@needs_fork
def test_the_rules_run_here_when_the_child_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for f in range(FILES):
        (tmp_path / f"f{f}.sops").write_text(_file(f), encoding="utf-8")
    checked = check([tmp_path], workers=1)
    assert checked.model is not None
    expected = rules.validate(checked.model, workers=1)
    assert any(d.code == "SOPS035" for d in expected)  # a logic cycle: a forked rule's finding

    def broken(model: object) -> list[object]:
        raise RuntimeError("the child fails")

    # the child runs FORKED_RULES as they are at the fork; the parent then runs them itself, as they are
    # after it: the restored rule, so that the result shows the parent's run
    monkeypatch.setattr(rules, "PARALLEL_MIN_COMPONENTS", 1)
    real = rules.FORKED_RULES
    monkeypatch.setattr(rules, "FORKED_RULES", (*real[:-1], broken))
    original = rules.Forked

    def start_then_restore(fn: object) -> Forked:
        child = original(fn)  # type: ignore[arg-type]
        monkeypatch.setattr(rules, "FORKED_RULES", real)
        return child

    monkeypatch.setattr(rules, "Forked", start_then_restore)
    assert rules.validate(checked.model, workers=2) == expected


@needs_fork
def test_forked_returns_the_childs_value_or_none() -> None:
    assert Forked(lambda: [1, "two", (3.0,)]).result() == [1, "two", (3.0,)]

    def fails() -> object:
        raise ValueError("no")

    assert Forked(fails).result() is None
    child = Forked(lambda: sum(range(10**9)))
    child.cancel()  # ends it at once; no zombie is left (waitpid)
