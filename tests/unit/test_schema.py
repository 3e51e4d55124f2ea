"""The schema of the semantic model (model/schema.py): every field of every element has a role, and the diff
compares every field whose role says it must (a mutated compared field always changes what the diff sees)."""

from __future__ import annotations

import dataclasses
import inspect
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

from safetyops_dsl.analysis import diff
from safetyops_dsl.analysis.diff import UnclassifiedValue, canon, members_of, value_text
from safetyops_dsl.api import check
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.schema import Role, key_of, roles

ROOT = Path(__file__).resolve().parents[2]
ELEMENTS = [c for _, c in inspect.getmembers(el, inspect.isclass)
            if dataclasses.is_dataclass(c) and c.__module__ == el.__name__]


def test_every_field_of_every_element_has_a_known_role() -> None:
    assert len(ELEMENTS) > 25
    for cls in ELEMENTS:
        for f, role in roles(cls):
            assert role.kind in ("compared", "key", "presentation", "members", "nested"), (cls, f.name)
            if role.kind == "presentation":
                assert role.reason, f"{cls.__name__}.{f.name}: say why it carries no meaning"
            if role.kind in ("members", "nested"):
                assert role.member in diff.KIND_RANK, f"{cls.__name__}.{f.name}: kind {role.member} unknown to the diff"


def test_locations_are_presentation_and_names_are_keys() -> None:
    for cls in ELEMENTS:
        for f, role in roles(cls):
            if f.name.endswith("location"):
                assert role.kind == "presentation", (cls, f.name)
    for cls in (el.Component, el.Hazard, el.SafetyGoal, el.Requirement, el.Evidence, el.FailureMode, el.Mechanism):
        assert [f.name for f, r in roles(cls) if r.kind == "key"][0] == "name"


def test_the_source_file_lists_every_top_level_kind_the_diff_compares() -> None:
    kinds = {r.member for _, r in roles(el.SourceFile) if r.kind == "members"}
    assert kinds == set(diff.TOP_KINDS) | {"parameter", "deviation", "policy", "ffs"}


def test_an_unknown_value_is_an_internal_error_not_a_skipped_field() -> None:
    with pytest.raises(UnclassifiedValue):
        value_text(object(), Role("compared"), diff.NO_MAPS)


def _elements(model: Any) -> list[Any]:
    """Every element instance reachable from the example model, nested ones included."""
    out: list[Any] = []
    stack: list[Any] = [f for f in model.files]
    while stack:
        e = stack.pop()
        out.append(e)
        for f in dataclasses.fields(e):
            v = getattr(e, f.name)
            vs = v if isinstance(v, tuple) else (v,)
            stack.extend(x for x in vs if dataclasses.is_dataclass(x) and not isinstance(x, type)
                         and type(x).__module__ == el.__name__)
    return out


def _mutate(v: Any) -> Any:
    """A different value of the same type, or None where this test cannot make one."""
    if isinstance(v, bool):
        return not v
    if isinstance(v, Enum):
        others = [m for m in type(v) if m is not v]
        return others[0] if others else None
    if isinstance(v, int):
        return v + 1
    if isinstance(v, float):
        return v * 3 + 0.5
    if isinstance(v, str):
        return v + "x"
    if isinstance(v, tuple):
        return v[:-1] if v else None
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        for f, role in roles(type(v)):
            if role.kind in ("compared", "key"):
                m = _mutate(getattr(v, f.name))
                if m is not None:
                    return dataclasses.replace(v, **{f.name: m})
    return None


@pytest.mark.parametrize("model_dir", ["aeb", "insulin_pump"])
def test_mutating_any_compared_field_changes_what_the_diff_compares(model_dir: str) -> None:
    checked = check([ROOT / "models" / model_dir])
    assert checked.model is not None
    tried = 0
    for e in _elements(checked.model):
        before = (canon(e), members_of(e), key_of(e))
        for f, role in roles(type(e)):
            if role.kind not in ("compared", "key", "members"):
                continue
            new = _mutate(getattr(e, f.name))
            if new is None:
                continue
            after_e = dataclasses.replace(e, **{f.name: new})
            after = (canon(after_e), members_of(after_e), key_of(after_e))
            assert after != before, f"{type(e).__name__}.{f.name}: a changed value is invisible to the diff"
            tried += 1
    assert tried > 200
