"""Inputs from outside the model: `assume port.deviation probability P | outside` on a system input."""

from __future__ import annotations

from pathlib import Path

from safetyops_dsl.analysis.synthesis import synthesise_all
from safetyops_dsl.api import check
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.result import AnalysisOptions

MODEL = """
parameter p_glare = 2e-4
system Camera {{
    in  scene
    out image
    failure Stuck rate 1e-6 per h
    image.value <- Stuck or scene.value
    image.omission <- Stuck or scene.omission
    {assumptions}
}}
hazard H "wrong image" {{
    severity S3 exposure E4 controllability C3
    system Camera
    when image.value or image.omission
}}
safety_goal G "g" mitigates H
"""


def tree(tmp_path: Path, assumptions: str):  # type: ignore[no-untyped-def]
    (tmp_path / "m.sops").write_text(MODEL.format(assumptions=assumptions), encoding="utf-8")
    c = check([tmp_path])
    assert c.ok and c.model is not None, c.diagnostics
    (syn,) = synthesise_all(c.model)
    return syn.tree


def test_without_an_assumption_an_input_is_a_probability_0_undeveloped_event(tmp_path: Path) -> None:
    t = tree(tmp_path, "")
    assert t.basic_events["Camera.scene.value"].probability == 0.0
    assert ("Camera.scene.value",) in analyse(t, AnalysisOptions()).cut_sets


def test_an_assumed_probability_quantifies_the_input(tmp_path: Path) -> None:
    t = tree(tmp_path, 'assume scene.value probability 2 * p_glare "glare"')
    event = t.basic_events["Camera.scene.value"]
    assert event.probability == 4e-4 and event.undeveloped and event.label == "glare"
    r = analyse(t, AnalysisOptions())
    stuck = t.basic_events["Camera.Stuck"].probability
    assert r.exact_probability is not None
    assert abs(r.exact_probability - (1 - (1 - stuck) * (1 - 4e-4))) < 1e-15


def test_an_input_outside_the_analysis_leaves_the_tree_with_a_note(tmp_path: Path) -> None:
    t = tree(tmp_path, 'assume scene outside "the camera supplier\'s safety case"')
    assert not any(n.startswith("Camera.scene") for n in t.basic_events)
    assert any("outside the analysis: the camera supplier's safety case" in n for n in t.notes)
    assert analyse(t, AnalysisOptions()).cut_sets == (("Camera.Stuck",),)
