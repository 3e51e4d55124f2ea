"""The JSON report writes its importance tables and lists of cut sets itself (json.dumps with indent is pure
Python and slow): its bytes must be json.dumps's, for any names and any values."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from safetyops_dsl.generators import fta_report

from safetyops_dsl.fta.result import FtaResult, ImportanceRow
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind


def _reference(pairs: list[tuple[FaultTree, FtaResult]]) -> str:
    doc, tables, listed = fta_report._json_doc(pairs)
    for event, rows, sets in zip(doc["top_events"], tables.values(), listed.values(), strict=True):
        event["cut_sets"] = [list(cs) for cs in sets]
        event["importance"] = {
            row.event: {key: fta_report._num(getattr(row, key)) for key in fta_report._IMPORTANCE_KEYS}
            for row in rows
        }
    return json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n"


values = st.one_of(st.floats(allow_nan=False), st.just(math.inf), st.integers(0, 3))
names = st.text(st.characters(codec="utf-8", exclude_characters="\0"), min_size=1, max_size=6)


@st.composite
def reports(draw: st.DrawFn) -> list[tuple[FaultTree, FtaResult]]:
    pairs = []
    for t in range(draw(st.integers(1, 3))):
        events = sorted(set(draw(st.lists(names, max_size=5))))
        rows = tuple(ImportanceRow(e, *(draw(values) for _ in range(7))) for e in events)
        tree = FaultTree(
            name=f"T{t}", top=f"T{t}", gates={f"T{t}": Gate(f"T{t}", GateKind.OR, ("a",), None, "", None)},
            basic_events={"a": BasicEvent("a", 0.5, "", None)}, house_events={},
        )
        cut_sets = tuple(tuple(cs) for cs in draw(st.lists(st.lists(names, max_size=3), max_size=4)))
        result = FtaResult(f"T{t}", f"T{t}", 0.5, 0.5, 0.5, 0.5, 1, {1: 1}, cut_sets, False, rows)
        pairs.append((tree, result))
    return pairs


@settings(max_examples=60, deadline=None)
@given(reports())
def test_importance_tables_are_written_as_json_dumps_writes_them(pairs: list[tuple[FaultTree, FtaResult]]) -> None:
    assert fta_report.to_json(pairs) == _reference(pairs)


def test_a_nan_is_refused_as_json_dumps_refuses_it() -> None:
    row = ImportanceRow("a", math.nan, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    tree = FaultTree(name="T", top="T", gates={}, basic_events={}, house_events={})
    result = FtaResult("T", "T", 0.5, 0.5, 0.5, 0.5, 1, {1: 1}, (), False, (row,))
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        fta_report.to_json([(tree, result)])
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        _reference([(tree, result)])


few_values = st.sampled_from([0.0, -0.0, 1e-3, 0.1, 1.0, 2.5e-7, 5e-324, 1e308])
odd_values = st.sampled_from([None, None, None, math.inf, 1, 0, 1e308])  # None: nothing odd in the table


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(names, st.lists(few_values, min_size=7, max_size=7)), min_size=1, max_size=8),
       odd_values, st.integers(0, 6))
def test_tables_that_repeat_values_and_signed_zeros_are_written_as_json_dumps_writes_them(
        drawn: list[tuple[str, list[float]]], odd: float | None, at: int) -> None:
    # Each distinct value is written once (a table repeats few): -0.0 equals 0.0 as a key, and a sum that
    # overflows, an int or an infinity sends the table the general way; the bytes stay json.dumps's.
    table = sorted(dict(drawn).items())
    if odd is not None:
        table[0][1][at] = odd
    rows = tuple(ImportanceRow(e, *v) for e, v in table)
    tree = FaultTree(name="T", top="T", gates={}, basic_events={}, house_events={})
    pairs = [(tree, FtaResult("T", "T", 0.5, 0.5, 0.5, 0.5, 1, {1: 1}, (), False, rows))]
    assert fta_report.to_json(pairs) == _reference(pairs)


def test_a_table_of_several_blocks_is_written_as_json_dumps_writes_it() -> None:
    # The table is formatted a block of rows at a time: full blocks and a last partial one.
    rows = tuple(ImportanceRow(f"e{i:04d}", *(i * 1e-3 + j for j in range(7))) for i in range(600))
    tree = FaultTree(name="T", top="T", gates={}, basic_events={}, house_events={})
    pairs = [(tree, FtaResult("T", "T", 0.5, 0.5, 0.5, 0.5, 1, {1: 1}, (), False, rows))]
    assert fta_report.to_json(pairs) == _reference(pairs)
