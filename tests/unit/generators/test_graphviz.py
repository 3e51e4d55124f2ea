"""generators/graphviz.py: one way to run `dot` for every diagram; batches in parallel, a failure is a note."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest
from safetyops_dsl.generators import graphviz

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")


def dot(name: str, nodes: int = 3) -> str:
    body = "".join(f'  n{i} [label="{name} {i}", URL="p{i}.html"];\n' for i in range(nodes))
    return f'digraph "{name}" {{\n{body}}}\n'


def titles(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_render_all_keeps_job_order_across_batches_and_workers() -> None:
    jobs = [graphviz.Job(f"g{i}", dot(f"graph{i}", 1 + i % 4)) for i in range(45)]
    drawn = list(graphviz.render_all(jobs, max_workers=2))
    assert [d.key for d in drawn] == [j.key for j in jobs]
    for i, d in enumerate(drawn):
        assert not d.error
        assert f"graph{i} 0" in titles(d.svg)
    # the same with one worker and batches of one: the same bytes
    single = [graphviz.draw(j) for j in jobs]
    assert [d.svg for d in single] == [d.svg for d in drawn]


def test_a_diagram_that_cannot_be_drawn_is_a_note_and_the_others_are_drawn() -> None:
    jobs = [graphviz.Job("good1", dot("a")), graphviz.Job("bad", "digraph { a -> }\n"), graphviz.Job("good2", dot("b"))]
    drawn = list(graphviz.render_all(jobs, max_workers=1))
    assert [bool(d.error) for d in drawn] == [False, True, False]
    note = drawn[1]
    assert "syntax error" in note.error
    assert any("bad: this diagram could not be drawn" in t for t in titles(note.svg))
    assert "a 0" in titles(drawn[0].svg) and "b 0" in titles(drawn[2].svg)


def test_timeout_becomes_a_note() -> None:
    big = "digraph g {\n" + "".join(f"  n{i} -> n{(i * 7919) % 3000};\n" for i in range(3000)) + "}\n"
    drawn = graphviz.draw(graphviz.Job("slow", big), timeout=0.01)
    assert "did not finish within" in drawn.error
    ET.fromstring(drawn.svg)  # still a valid SVG for its page


def test_render_sanitises_and_drops_the_version_comment() -> None:
    svg = graphviz.render('digraph { a [URL="javascript:alert(1)"]; b [URL="ok.html"]; }\n')
    assert "<!--" not in svg and "javascript:" not in svg
    assert 'xlink:href="ok.html"' in svg


def test_rebase_and_unbase_links() -> None:
    svg = ('<a xlink:href="trace/x.html"/><a xlink:href="../../m/a.sops#L4"/><a xlink:href="#page-x"/>'
           '<a xlink:href="https://e.org/"/><a href="/abs"/>')
    moved = graphviz.rebase_links(svg, "../")
    assert moved == ('<a xlink:href="../trace/x.html"/><a xlink:href="../../../m/a.sops#L4"/>'
                     '<a xlink:href="#page-x"/><a xlink:href="https://e.org/"/><a href="/abs"/>')
    assert graphviz.unbase_links(moved, "../") == svg
    assert graphviz.rebase_url("gsn.html#d-x", "../") == "../gsn.html#d-x"
    assert graphviz.rebase_url("#top", "../") == "#top"
