"""The language server's pure parts: the symbol index, token ranges, model folders, hover and completion,
and the loader's `overrides` hook they rely on."""

from __future__ import annotations

from pathlib import Path

import pytest

from safetyops_dsl.api import check
from safetyops_dsl.diagnostics import Location
from safetyops_dsl.lsp import symbols as sy
from safetyops_dsl.lsp.server import (
    ModelState,
    complete,
    context_at,
    diagnostic_range,
    hover_markdown,
    model_folder,
    run_check,
)
from safetyops_dsl.lsp.symbols import Span, build_index
from safetyops_dsl.parse.loader import load

ROOT = Path(__file__).resolve().parents[2]
AEB = ROOT / "models" / "aeb"

MODEL = """package demo

deviation value.stuck refines value "frozen"

component Sensor "Wheel-speed sensor" {
    out speed
    failure Dead  rate 50 FIT "no signal"
    failure Stuck rate 10 FIT
    mechanism Plaus covers Stuck coverage 90 %
    speed.omission    <- Dead
    speed.value.stuck <- Stuck
}

component Filter {
    in  raw
    out clean
    propagate raw -> clean { omission }
}

system Brake {
    out cmd
    part sensor : Sensor
    parts Filter
    connect sensor.speed -> Filter.raw
    connect Filter.clean -> cmd
}

hazard H1 "Loss of braking" {
    severity S3  exposure E4  controllability C2
    when Brake.cmd.omission
}

safety_goal SG1 "Avoid loss of braking" mitigates H1 { target 1e-7 per h }

requirement FSR1 "Detect a dead sensor" refines SG1 allocated_to Brake.sensor asil C

evidence T1 test "tests/t.py::test_dead" verifies FSR1

argument A "Argument" {
    goal G0 "Safe" in_context_of C0
    context C0 "Context" refers H1
    solution Sn1 "Test" supports G0 evidence T1
}
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelState, str, list[str]]:
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "demo.sops"
    path.write_text(MODEL, encoding="utf-8")
    state = run_check(folder, {}, 1, None)
    assert state.model is not None and state.checked.ok, state.checked.diagnostics
    display = next(iter(state.checked.sources))
    return state, display, MODEL.splitlines()


def where(text: str, needle: str, nth: int = 0, offset: int = 0) -> tuple[int, int]:
    """1-based (line, col) of the nth `needle` in `text`, plus `offset` characters."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    at += offset
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def key_at(state: ModelState, display: str, needle: str, nth: int = 0, offset: int = 0) -> str | None:
    occ = state.index.at(display, *where(MODEL, needle, nth, offset))
    return occ.key if occ else None


def texts(state: ModelState, display: str, key: str) -> list[tuple[int, str]]:
    lines = MODEL.splitlines()
    return [(s.line, lines[s.line - 1][s.start - 1 : s.end - 1]) for s in state.index.references(key)]


def test_definitions_point_at_names(demo: tuple[ModelState, str, list[str]]) -> None:
    state, display, lines = demo
    for key, name in [
        ("component:demo.Sensor", "Sensor"), ("port:demo.Sensor/speed", "speed"),
        ("failure_mode:demo.Sensor/Dead", "Dead"), ("mechanism:demo.Sensor/Plaus", "Plaus"),
        ("part:demo.Brake/sensor", "sensor"), ("part:demo.Brake/Filter", "Filter"), ("hazard:demo.H1", "H1"),
        ("safety_goal:demo.SG1", "SG1"), ("requirement:demo.FSR1", "FSR1"), ("evidence:demo.T1", "T1"),
        ("argument:demo.A", "A"), ("gsn_node:demo.A/G0", "G0"), ("deviation:value.stuck", "value.stuck"),
    ]:
        span = state.index.definition(key)
        assert span is not None, key
        assert lines[span.line - 1][span.start - 1 : span.end - 1] == name, key
    assert state.index.definition("deviation:omission") is None  # built in


def test_uses_resolve_to_their_elements(demo: tuple[ModelState, str, list[str]]) -> None:
    state, display, _ = demo
    assert key_at(state, display, "mitigates H1", offset=10) == "hazard:demo.H1"
    assert key_at(state, display, "refines SG1", offset=8) == "safety_goal:demo.SG1"
    assert key_at(state, display, "verifies FSR1", offset=9) == "requirement:demo.FSR1"
    assert key_at(state, display, "covers Stuck", offset=7) == "failure_mode:demo.Sensor/Stuck"
    assert key_at(state, display, "<- Dead", offset=3) == "failure_mode:demo.Sensor/Dead"
    assert key_at(state, display, "speed.value.stuck") == "port:demo.Sensor/speed"
    assert key_at(state, display, "speed.value.stuck", offset=7) == "deviation:value.stuck"
    assert key_at(state, display, "refines value", offset=8) == "deviation:value"
    # connection endpoints: part, then the port of the part's type
    assert key_at(state, display, "sensor.speed") == "part:demo.Brake/sensor"
    assert key_at(state, display, "sensor.speed", offset=7) == "port:demo.Sensor/speed"
    assert key_at(state, display, "Filter.raw", offset=7) == "port:demo.Filter/raw"
    # `parts Filter` declares part Filter and uses type Filter: the use wins at the cursor
    assert key_at(state, display, "parts Filter", offset=6) == "component:demo.Filter"
    # propagate: no positions in the model, found by scanning the line
    assert key_at(state, display, "raw -> clean") == "port:demo.Filter/raw"
    assert key_at(state, display, "-> clean", offset=3) == "port:demo.Filter/clean"
    assert key_at(state, display, "{ omission }", offset=2) == "deviation:omission"
    # hazard condition over the system: system, port, deviation
    assert key_at(state, display, "Brake.cmd.omission") == "component:demo.Brake"
    assert key_at(state, display, "Brake.cmd.omission", offset=6) == "port:demo.Brake/cmd"
    assert key_at(state, display, "Brake.cmd.omission", offset=10) == "deviation:omission"
    # allocation to a part path
    assert key_at(state, display, "Brake.sensor asil", offset=6) == "part:demo.Brake/sensor"
    # GSN: nodes local to the argument, evidence and refers to model elements
    assert key_at(state, display, "in_context_of C0", offset=14) == "gsn_node:demo.A/C0"
    assert key_at(state, display, "supports G0", offset=9) == "gsn_node:demo.A/G0"
    assert key_at(state, display, "evidence T1", offset=9) == "evidence:demo.T1"
    assert key_at(state, display, "refers H1", offset=7) == "hazard:demo.H1"
    # keywords and strings are nothing
    assert key_at(state, display, "mitigates H1") is None
    assert key_at(state, display, '"Loss of braking"', offset=3) is None


def test_references_list_every_written_use(demo: tuple[ModelState, str, list[str]]) -> None:
    state, display, _ = demo
    assert [t for _, t in texts(state, display, "hazard:demo.H1")] == ["H1", "H1", "H1"]
    assert [t for _, t in texts(state, display, "part:demo.Brake/sensor")] == ["sensor", "sensor", "sensor"]
    assert len(texts(state, display, "port:demo.Sensor/speed")) == 4  # decl, 2 rules, 1 connection
    without = state.index.references("hazard:demo.H1", include_declaration=False)
    assert len(without) == 2 and state.index.definition("hazard:demo.H1") not in without


def test_cursor_right_after_a_name_counts(demo: tuple[ModelState, str, list[str]]) -> None:
    state, display, _ = demo
    assert key_at(state, display, "mitigates H1", offset=12) == "hazard:demo.H1"


def test_every_occurrence_spells_its_symbol_on_the_example_models() -> None:
    for folder in sorted(p for p in (ROOT / "models").iterdir() if p.is_dir()):
        checked = check([folder])
        assert checked.model is not None
        index = build_index(checked.model, checked.sources)
        assert sum(len(v) for v in index.by_file.values()) > 100
        for file, occs in index.by_file.items():
            lines = checked.sources[file]
            for o in occs:
                text = lines[o.span.line - 1][o.span.start - 1 : o.span.end - 1]
                assert text.rsplit(".", 1)[-1] == index.symbols[o.key].name.rsplit(".", 1)[-1], (o, text)


def test_find_word_skips_longer_names_and_dotted_tails() -> None:
    lines = ["deviation value.stuck refines value"]
    assert sy.find_word(lines, 1, 1, "value", "f") == Span("f", 1, 11, 16)  # the head of a path counts
    assert sy.find_word(lines, 1, 22, "value", "f") == Span("f", 1, 31, 36)
    assert sy.find_word(lines, 1, 1, "valu", "f") is None
    assert sy.find_word(lines, 1, 1, "stuck", "f") is None
    assert sy.find_word(["part camera : Camera"], 1, 1, "Camera", "f") == Span("f", 1, 15, 21)


def test_diagnostic_range_is_the_span() -> None:
    lines = ['safety_goal SG1 "x" mitigates H11 {', "    ", 'import "a b.sops"']
    assert diagnostic_range(lines, Location("f", 1, 31, 1, 34)) == (0, 30, 0, 33)  # the name
    assert diagnostic_range(lines, Location("f", 1, 1, 3, 18)) == (0, 0, 2, 17)  # over several lines
    assert diagnostic_range(lines, Location("f", 1, 35)) == (0, 34, 0, 35)  # a point: one character
    assert diagnostic_range(lines, Location("f", 2, 9)) == (1, 4, 1, 4)  # past the end: empty, at the end
    assert diagnostic_range(lines, Location("f", 1, 0)) == (0, 0, 0, 35)  # col 0: the line
    assert diagnostic_range(lines, Location("f", 0, 0)) == (0, 0, 0, 0)  # line 0: the file


def test_checked_diagnostics_carry_the_span_of_the_name(tmp_path: Path) -> None:
    """The range an editor underlines comes from the parser's span, not from re-reading the line."""
    (tmp_path / "m.sops").write_text(
        'component C {\n    out o\n    failure F rate 1 FIT\n    o.omission <- F or Missing\n}\n', encoding="utf-8")
    checked = check([tmp_path])
    [d] = [d for d in checked.diagnostics if d.code == "SOPS011"]
    assert diagnostic_range(checked.sources[d.location.file], d.location) == (3, 23, 3, 30)


def test_model_folder_widens_inside_the_workspace_only(tmp_path: Path) -> None:
    lib = tmp_path / "m" / "lib"
    lib.mkdir(parents=True)
    (tmp_path / "m" / "a.sops").write_text("", encoding="utf-8")
    (lib / "b.sops").write_text("", encoding="utf-8")
    (tmp_path / "top.sops").write_text("", encoding="utf-8")
    assert model_folder(lib / "b.sops", [tmp_path / "m"]) == (tmp_path / "m").resolve()
    assert model_folder(lib / "b.sops", [tmp_path]) == tmp_path.resolve()
    assert model_folder(lib / "b.sops") == lib.resolve()


def test_hover_facts(demo: tuple[ModelState, str, list[str]]) -> None:
    state, _, _ = demo
    hazard = hover_markdown(state, state.index.symbols["hazard:demo.H1"])
    assert "ASIL **C**" in hazard and "S3 E4 C2" in hazard and "`SG1` (ASIL C)" in hazard
    goal = hover_markdown(state, state.index.symbols["safety_goal:demo.SG1"])
    assert "ASIL **C**" in goal and "target: 1e-07 per h" in goal and "`H1`" in goal and "`FSR1`" in goal
    req = hover_markdown(state, state.index.symbols["requirement:demo.FSR1"])
    assert "ASIL **C**" in req and "refines: `SG1` (ASIL C)" in req and "Brake.sensor" in req and "`T1`" in req
    stuck = hover_markdown(state, state.index.symbols["failure_mode:demo.Sensor/Stuck"])
    assert "residual rate: **1e-09 /h (1 FIT)**" in stuck and "hazards reached: none" in stuck
    dead = hover_markdown(state, state.index.symbols["failure_mode:demo.Sensor/Dead"])
    assert "`H1` via Brake.sensor.Dead" in dead
    comp = hover_markdown(state, state.index.symbols["component:demo.Sensor"])
    assert "ports: in -; out speed" in comp and "instances: Brake.sensor" in comp


def test_context_scan_survives_broken_text() -> None:
    text = 'component C "a { b" {\n  out x // }\n  x.omission <- '
    ctx = context_at(text, len(text))
    assert (ctx.element, ctx.name, ctx.depth) == ("component", "C", 1)
    assert context_at('hazard H { }\nrequirement R "r" refines ', 50).element == "requirement"


def _labels(state: ModelState, display: str, text: str) -> tuple[list[str], int]:
    lines = text.split("\n")
    found, replace = complete(state, display, text, len(lines) - 1, len(lines[-1]))
    return [c.label for c in found], replace


def test_completion_contexts(demo: tuple[ModelState, str, list[str]]) -> None:
    state, display, _ = demo
    assert _labels(state, display, MODEL + 'safety_goal SG2 "x" mitigates ') == (["H1"], 0)
    assert _labels(state, display, MODEL + 'safety_goal SG2 "x" mitigates H') == (["H1"], 1)
    assert sorted(_labels(state, display, MODEL + 'requirement R "r" refines ')[0]) == ["FSR1", "SG1"]
    assert sorted(_labels(state, display, MODEL + 'evidence E test "t" verifies ')[0]) == ["FSR1", "SG1"]
    assert _labels(state, display, MODEL + "deviation late.x refines ")[0] == [
        "commission", "early", "late", "omission", "value", "value.stuck"]
    alloc = _labels(state, display, MODEL + 'requirement R "r" allocated_to ')[0]
    assert {"Sensor", "Filter", "sensor"} <= set(alloc)
    in_comp = 'component X {\n    out o\n    failure F rate 1 FIT\n'
    assert _labels(state, display, MODEL + "system S {\n    part p : ")[0] == ["Brake", "Filter", "Sensor"]
    assert _labels(state, display, MODEL + "system S2 {\n    part s : Sensor\n    connect s.") == ([], 0)
    # inside the (parsed) component Sensor: covers, logic and deviations after `port.`
    sensor_body = MODEL[: MODEL.index("    speed.omission")]
    assert _labels(state, display, sensor_body + "    mechanism M covers ")[0] == ["Dead", "Stuck"]
    assert _labels(state, display, sensor_body + "    speed.omission <- ")[0] == ["Dead", "Stuck"]
    brake_body = MODEL[: MODEL.index("    connect sensor.speed")]
    assert _labels(state, display, brake_body + "    connect sensor.") == (["speed"], 0)
    assert _labels(state, display, brake_body + "    connect sen") == (["Filter", "sensor", "cmd"], 3)
    # a CCF group covers failure modes of parts: `part.failure`
    assert _labels(state, display, brake_body + "    ccf C covers ") == (["sensor.Dead", "sensor.Stuck"], 0)
    assert _labels(state, display, brake_body + "    ccf C covers sensor.Dead, sen") == (
        ["sensor.Dead", "sensor.Stuck"], 3)
    assert "x" not in _labels(state, display, MODEL + in_comp + "    ")[0]
    keywords = _labels(state, display, MODEL + in_comp + "    fa")
    assert "failure" in keywords[0] and keywords[1] == 2
    assert "hazard" in _labels(state, display, MODEL + "haz")[0]
    # a hazard condition walks the system: ports of the system, then deviations
    hazard_body = MODEL[: MODEL.index("    when Brake.cmd.omission")]
    assert _labels(state, display, hazard_body + "    when ")[0] == ["Filter", "sensor", "cmd"]
    assert "omission" in _labels(state, display, hazard_body + "    when cmd.")[0]


def test_loader_overrides_replace_disk_text_and_add_unsaved_files(tmp_path: Path) -> None:
    on_disk = tmp_path / "a.sops"
    on_disk.write_text("component {", encoding="utf-8")  # a syntax error on disk
    unsaved = tmp_path / "b.sops"
    fixed = 'component A "a" {\n    out y\n    failure F rate 1 FIT\n    y.omission <- F\n}\n'
    r = load([tmp_path, unsaved], overrides={str(on_disk): fixed, str(unsaved): "\ufeffcomponent B {\n}\n"})
    assert r.ok, r.diagnostics
    assert sorted(f.rel_path for f in r.files) == ["a.sops", "b.sops"]
    assert [c.name for f in r.files for c in f.components] == ["A", "B"]
    # without the override the disk counts again
    assert [d.code for d in load([on_disk]).diagnostics] == ["SOPS001"]
    checked = check([on_disk], overrides={on_disk: fixed})
    assert checked.ok and checked.sources[next(iter(checked.sources))][0] == 'component A "a" {'


def test_hover_and_completion_answer_everywhere_in_the_example_model() -> None:
    state = run_check(AEB.resolve(), {}, 1, None)
    assert state.synthesis is not None
    for sym in state.index.symbols.values():
        assert hover_markdown(state, sym).startswith("**")
    for display, lines in state.checked.sources.items():
        text = "\n".join(lines)
        for i, line in enumerate(lines):
            for c in range(0, len(line) + 1, 5):
                found, replace = complete(state, display, text, i, c)
                assert 0 <= replace <= c
                assert all(cand.label for cand in found)


CCF_MODEL = """package pair

component Sensor "s" {
    out o
    failure Dead rate 100 FIT "no output"
    o.omission <- Dead
}

component Voter {
    in x, y
    out o
    o.omission <- x.omission and y.omission
}

system Pair {
    out o
    part a : Sensor
    part b : Sensor
    part v : Voter
    connect a.o -> v.x
    connect b.o -> v.y
    connect v.o -> o
    ccf Shared covers a.Dead, b.Dead beta 5 % "one connector supplier"
}

hazard H "speed lost" { severity S3 exposure E4 controllability C3 when o.omission }
safety_goal SG "keep speed" mitigates H { safe_state "degraded" ftti 100 ms }
"""


def test_ccf_group_members_resolve_to_parts_and_failure_modes(tmp_path: Path) -> None:
    (tmp_path / "pair.sops").write_text(CCF_MODEL, encoding="utf-8")
    state = run_check(tmp_path, {}, 1, None)
    assert state.model is not None and state.checked.ok, state.checked.diagnostics
    display = next(iter(state.checked.sources))

    def key(needle: str, offset: int = 0) -> str | None:
        occ = state.index.at(display, *where(CCF_MODEL, needle, 0, offset))
        return occ.key if occ else None

    assert key("Shared") == "ccf_group:pair.Pair/Shared"
    assert key("a.Dead,") == "part:pair.Pair/a"
    assert key("a.Dead,", offset=2) == "failure_mode:pair.Sensor/Dead"
    assert key("b.Dead beta", offset=3) == "failure_mode:pair.Sensor/Dead"
    sym = state.index.symbols["ccf_group:pair.Pair/Shared"]
    text = hover_markdown(state, sym)
    assert "**CCF group** `pair.Pair.Shared`" in text and "beta-factor model: 5 %" in text
    assert "one connector supplier" in text
    text = hover_markdown(state, state.index.symbols["failure_mode:pair.Sensor/Dead"])
    assert "hazards reached: `H` via Pair.a.Dead (p = 1e-07); `H` via Pair.b.Dead (p = 1e-07)" in text, text
    assert ("- in a CCF group: Pair.a.Dead = `[Pair.a.Dead]` (p = 9.5e-08) or `[Pair.a.Dead Pair.b.Dead]` "
            "(p = 5e-09)") in text, text


def test_a_check_publishes_without_building_the_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from safetyops_dsl.lsp import server
    from safetyops_dsl.parse.loader import ParseMemo

    (tmp_path / "demo.sops").write_text(MODEL, encoding="utf-8")
    built: list[int] = []
    monkeypatch.setattr(server, "build_index", lambda model, sources: built.append(1) or build_index(model, sources))
    memo = ParseMemo()
    state = run_check(tmp_path, {}, 1, None, memo)
    assert state.checked.ok and built == [] and len(memo.entries) == 1
    assert "hazard:demo.H1" in state.index.symbols and built == [1]
    assert state.index is state.index and built == [1]


def test_frozen_heap_is_collected_when_idle(tmp_path: Path) -> None:
    """After a check the server freezes the heap (no GC pauses over the new model); the cyclic garbage of
    replaced models is collected once FULL_COLLECT_EVERY checks have passed, when no change has come for a
    while: a change cancels the pending collection."""
    import asyncio
    import gc
    import weakref

    from safetyops_dsl.lsp import server as srv

    class Node:
        def __init__(self) -> None:
            self.me = self

    try:
        ls = srv.SopsServer()
        ls.checks = srv.FULL_COLLECT_EVERY
        # without an event loop (a check run directly) the collection is immediate
        cycle = Node()
        gone = weakref.ref(cycle)
        gc.freeze()
        del cycle
        ls.collect_when_idle()
        assert gone() is None and ls.collected_at == srv.FULL_COLLECT_EVERY and gc.get_freeze_count() > 0

        async def session() -> tuple[bool, bool]:
            ls.collect_when_idle()
            armed = ls.idle_collect is not None
            ls.schedule(tmp_path)  # a change: not idle
            cancelled = ls.idle_collect is None
            ls.pending.pop(tmp_path).cancel()
            return armed, cancelled

        assert asyncio.run(session()) == (True, True)
    finally:
        gc.unfreeze()
