"""The `histogram` distribution of the language: parsed, checked (SOPS167-169, at the bin), exported as the
Open-PSA `histogram` deviate, sampled by the Monte Carlo (closed-form mean; SCRAM on the export), printed by
the formatter and shown by `sops diff`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from safetyops_dsl.generators.openpsa import write_openpsa

from safetyops_dsl.analysis.synthesis import synthesise_all
from safetyops_dsl.api import check
from safetyops_dsl.fta.uncertainty import propagate
from tests.unit.reliability.test_uncertainty import agrees_with_scram

RATE = "uncertainty histogram from 1e-7 per h to 1e-6 per h weight 3, to 3e-6 per h weight 5, to 1e-5 per h weight 2"
PROB = "uncertainty histogram from 0 to 0.01 weight 1, to 0.05 weight 2"
MODEL = f"""mission_time 1000 h
parameter lam = 2e-6 per h {RATE}
system S {{
    out o
    failure a rate lam
    failure b probability 0.02 {PROB}
    o.omission <- a or b
}}
hazard H "h" {{
    severity S3 exposure E4 controllability C3
    system S
    when o.omission
}}
safety_goal G "g" mitigates H
"""


def _tree(tmp_path: Path, text: str = MODEL):  # type: ignore[no-untyped-def]
    (tmp_path / "m.sops").write_text(text)
    c = check([tmp_path])
    assert c.model is not None and not [d for d in c.diagnostics if d.level.value == "error"], c.diagnostics
    (syn,) = synthesise_all(c.model)
    return syn.tree


def test_the_histogram_is_exported_as_the_open_psa_deviate(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    (body, unit), = (v for k, v in tree.parameters.items() if k.endswith("lam"))
    assert body.tag == "histogram" and unit == "hours-1"
    assert [a.tag for a in body.args] == ["float", "bin", "bin", "bin"]
    assert [(b.args[0].value, b.args[1].value) for b in body.args[1:]] == [(1e-6, 3.0), (3e-6, 5.0), (1e-5, 2.0)]
    xml = write_openpsa([tree])
    assert "<histogram>" in xml and xml.count("<bin>") == 5


def test_the_monte_carlo_mean_is_the_histogram_closed_form(tmp_path: Path) -> None:
    """A bin is chosen by weight and sampled uniformly: E[lambda] = sum w_i (e_{i-1} + e_i) / 2 / sum w; the
    probability b likewise. P(top) = 1 - e^(-lambda T) (1 - b), mean over independent lambda and b, computed
    exactly bin by bin (the average of e^(-lambda T) over a uniform bin is closed form)."""
    f = propagate(_tree(tmp_path), 40_000, 7)
    assert f is not None
    T = 1000.0

    def avg_exp(lo: float, hi: float) -> float:
        return (math.exp(-lo * T) - math.exp(-hi * T)) / ((hi - lo) * T)

    lam_bins = [(1e-7, 1e-6, 3.0), (1e-6, 3e-6, 5.0), (3e-6, 1e-5, 2.0)]
    survive = sum(w * avg_exp(lo, hi) for lo, hi, w in lam_bins) / 10.0
    b_mean = (1 * 0.005 + 2 * 0.03) / 3
    exact = 1 - survive * (1 - b_mean)
    assert abs(f.mean - exact) < 4 * f.std / math.sqrt(f.trials)
    assert f.p05 >= 0.0 and f.histogram[-1].upper <= 1 - math.exp(-1e-5 * T) * (1 - 0.05) + 1e-12


def test_histogram_agrees_with_scram_on_the_exported_model(tmp_path: Path, scram: str) -> None:
    tree = _tree(tmp_path)
    agrees_with_scram(tree, tmp_path, scram)


LINE2 = MODEL.splitlines()[1]
BIN2 = LINE2.index("to 3e-6") + 1  # columns are 1-based
SPREAD = LINE2.index("uncertainty") + 1


@pytest.mark.parametrize(("old", "new", "code", "words", "col"), [
    ("to 3e-6 per h weight 5", "to 5e-7 per h weight 5", "SOPS167", "bin 2 ends at 5e-07", BIN2),
    ("to 3e-6 per h weight 5", "to 3e-6 per h weight -5", "SOPS168", "negative weight -5", BIN2),
    ("weight 3, to 3e-6 per h weight 5, to 1e-5 per h weight 2", "weight 0, to 3e-6 per h weight 0, to 1e-5 per h "
     "weight 0", "SOPS168", "sum to zero", SPREAD),
    ("to 0.05 weight 2", "to 1.5 weight 2", "SOPS169", "outside [0, 1]", 0),
    ("to 1e-5 per h weight 2", "to 1e-5 weight 2", "SOPS169", "must be a rate", SPREAD),
    ("lam = 2e-6 per h", "lam = 2e-5 per h", "SOPS169", "does not hold the written value 2e-05", SPREAD),
])
def test_bad_histograms_are_positioned_errors(tmp_path: Path, old: str, new: str, code: str, words: str,
                                              col: int) -> None:
    assert old in MODEL
    (tmp_path / "m.sops").write_text(MODEL.replace(old, new, 1))
    found = [d for d in check([tmp_path]).diagnostics if d.code == code]
    assert len(found) == 1 and words in found[0].message, found
    if col:
        assert (found[0].location.line, found[0].location.col) == (2, col)


def test_the_formatter_keeps_a_histogram_and_the_diff_shows_its_change(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from safetyops_dsl.cli.main import cli

    old, new = tmp_path / "a" / "m", tmp_path / "b" / "m"
    old.mkdir(parents=True)
    new.mkdir(parents=True)
    (old / "m.sops").write_text(MODEL)
    (new / "m.sops").write_text(MODEL.replace("to 0.05 weight 2", "to 0.05 weight 4"))
    runner = CliRunner()
    fmt = runner.invoke(cli, ["fmt", "--check", str(old)])
    assert fmt.exit_code == 0, fmt.output
    diff = runner.invoke(cli, ["diff", str(old), str(new)])
    assert ("uncertainty `histogram from 0 to 0.01 weight 1, to 0.05 weight 2` → "
            "`histogram from 0 to 0.01 weight 1, to 0.05 weight 4`") in diff.output, diff.output
