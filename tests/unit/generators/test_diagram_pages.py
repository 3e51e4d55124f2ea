"""Trace neighbourhood pages, GSN label wrapping and overview rows, links on diagram nodes (issue 13)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from safetyops_dsl.generators import gsn_dot, gsn_yaml, trace_report

from safetyops_dsl.analysis import evidence as ev
from safetyops_dsl.analysis import gsn
from safetyops_dsl.analysis.trace import build_trace
from safetyops_dsl.api import check

ROOT = Path(__file__).resolve().parents[3]
AEB = ROOT / "models" / "aeb"


@pytest.fixture(scope="module")
def aeb_trace():  # type: ignore[no-untyped-def]
    checked = check([AEB])
    assert checked.model is not None
    return build_trace(checked.model, ev.read_results([ROOT / "tests" / "fixtures" / "trace" / "results_aeb"]),
                       use_git=False)


def test_hazard_neighbourhood_runs_from_goals_to_evidence_and_cut_set_members(aeb_trace) -> None:  # type: ignore[no-untyped-def]
    nodes, edges, left_out = trace_report.neighbourhood(aeb_trace, "hazard:aeb.H1")
    assert {"safety_goal:aeb.SG1", "requirement:aeb.FSR2", "requirement:aeb.TSR1", "part:AEB.radars",
            "evidence:aeb.TST_WD", "evidence:aeb.REV_HARA", "failure_mode:AEB.radars.main.NoEcho"} <= set(nodes)
    assert "failure_mode:AEB.perception.GhostObject" not in nodes  # in H2's cut sets only
    assert not any(n.startswith("hazard:") and n != "hazard:aeb.H1" for n in nodes)
    assert ("part:AEB.radars", "failure_mode:AEB.radars.main.NoEcho", "has_failure") in edges
    assert left_out == []
    for u, v, _ in edges:
        assert u in nodes and v in nodes


def test_requirement_neighbourhood_goes_up_to_its_hazard_and_down_to_its_allocation(aeb_trace) -> None:  # type: ignore[no-untyped-def]
    nodes, _, _ = trace_report.neighbourhood(aeb_trace, "requirement:aeb.TSR1")
    assert {"hazard:aeb.H1", "safety_goal:aeb.SG1", "requirement:aeb.FSR3", "part:AEB.ecu",
            "evidence:aeb.TST_LS", "failure_mode:AEB.ecu.CPUFault"} <= set(nodes)
    assert "requirement:aeb.FSR2" not in nodes  # a sibling, not on its chain
    assert "evidence:aeb.TST_WD" not in nodes  # the parent's evidence, not its own


def test_failure_modes_beyond_the_cap_are_listed_not_drawn(aeb_trace, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(trace_report, "FAILURE_MODES_SHOWN", 2)
    nodes, _, left_out = trace_report.neighbourhood(aeb_trace, "hazard:aeb.H1")
    assert len([n for n in nodes if n.startswith("failure_mode:")]) == 2 and left_out
    assert "more_failure_modes" in trace_report.neighbourhood_dot(aeb_trace, "hazard:aeb.H1")


def test_neighbourhood_dot_links_every_node(aeb_trace) -> None:  # type: ignore[no-untyped-def]
    urls = {n: f"x/{trace_report.page_name(n)}.html" for n in aeb_trace.graph.nodes}
    dot = trace_report.neighbourhood_dot(aeb_trace, "safety_goal:aeb.SG1", urls)
    nodes, _, _ = trace_report.neighbourhood(aeb_trace, "safety_goal:aeb.SG1")
    for n in nodes:
        assert re.search(rf'^  "{re.escape(n)}" \[[^\n]*URL="{re.escape(urls[n])}"', dot, re.M), n


def test_page_names_are_safe_and_distinct() -> None:
    assert trace_report.page_name("hazard:aeb.H1") == "hazard-aeb.H1"
    odd = [trace_report.page_name(f"requirement:p.{x}") for x in ("a b", "a_b", "a/b", "a?b")]
    assert len(set(odd)) == 4 and all(re.fullmatch(r"[A-Za-z0-9_.-]+", p) for p in odd)


def test_the_global_graph_is_drawn_only_while_small(aeb_trace) -> None:  # type: ignore[no-untyped-def]
    assert trace_report.global_graph_size(aeb_trace) > trace_report.GLOBAL_GRAPH_MAX_NODES
    assert not trace_report.draws_global_graph(aeb_trace)


# -- GSN ----------------------------------------------------------------------------------------------------------


def test_gsn_labels_wrap_at_word_boundaries() -> None:
    lines = gsn_dot._wrap("Evidence from the design inspection of the pedestrian detector", 18)
    assert all(len(x) <= 18 for x in lines)
    words = ["Evidence", "from", "the", "design", "inspection", "of", "the", "pedestrian", "detector"]
    assert " ".join(lines).split() == words  # no word cut ("inspectio / n")
    path = gsn_dot._wrap("test tests/test_brake.py::test_watchdog_reset", 18)
    assert path[0] == "test" and "".join(path[1:]) == "tests/test_brake.py::test_watchdog_reset"
    assert all(len(x) <= 18 for x in path)


def _chains(n: int) -> str:
    parts = []
    for i in range(n):
        parts.append(f'component C{i} "c" {{ out o\n  failure F rate 10 FIT "f"\n  o.omission <- F }}\n'
                     f'system S{i} "Chain {i}" {{ out o\n  part p : C{i}\n  connect p.o -> o }}\n'
                     f'hazard H{i} "Loss {i}" {{ severity S2 exposure E3 controllability C2 system S{i} '
                     f'when o.omission }}\n')
    return "\n".join(parts)


def test_overview_of_many_systems_stacks_them_in_rows(tmp_path: Path) -> None:
    f = tmp_path / "m.sops"
    f.write_text(_chains(20), encoding="utf-8")
    checked = check([f])
    assert checked.model is not None
    case = gsn.build_case(checked.model)
    dot = gsn_dot.overview_dot(case)
    assert "20 top goals: 20 undeveloped" in dot
    assert dot.count('[style="invis"]') == 20 - gsn_dot.COMPONENTS_PER_ROW


def test_gsn_nodes_and_yaml_carry_urls(tmp_path: Path) -> None:
    f = tmp_path / "m.sops"
    f.write_text(_chains(2), encoding="utf-8")
    checked = check([f])
    assert checked.model is not None
    case = gsn.build_case(checked.model)
    urls = {nid: f"e/{nid}.html" for nid in case.nodes} | {f"module:{m}": f"m/{m}.html" for m in case.modules}
    for stem, dot in gsn_dot.diagrams(case, urls=urls):
        ids = [i for i in re.findall(r'^  "([^"]+)" \[id="gsn-', dot, re.M) if i != "gsn_legend"]
        assert ids, stem
        for nid in ids:
            want = urls[nid]
            assert re.search(rf'^  "{re.escape(nid)}" \[[^\n]*URL="{re.escape(want)}"', dot, re.M), nid
        if stem == "overview":
            assert 'URL="m/S0.html"' in dot
    files = gsn_yaml.render_modules(case, urls)
    assert len(files) == len(case.modules)
    for _, text in files:
        for nid in re.findall(r"^(\w+):$", text, re.M):
            if nid != "module":
                assert f'  url: "e/{nid}.html"' in text.split(f"\n{nid}:\n", 1)[1].split("\n\n", 1)[0]

