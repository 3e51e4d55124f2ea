"""`sops build --uncertainty N`: the Monte Carlo runs with the fixed seed, the fault-tree page draws the
histogram of P(top) (and of the PFDavg for a demand-mode tree) as an accessible inline SVG, the option is
recorded in the manifest so `--check` reproduces the same bytes, and without the option nothing changes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner
from safetyops_dsl.generators.site import histogram_chart

from safetyops_dsl.cli.main import cli
from safetyops_dsl.fta.uncertainty import summarise

ROOT = Path(__file__).resolve().parents[2]


def test_the_chart_geometry_follows_the_counts_and_the_quantiles() -> None:
    f = summarise([float(v) for v in range(1, 101)], 1)
    c = histogram_chart("P(top)", f)
    assert len(c["bars"]) == 20 and sum(b["count"] for b in c["bars"]) == 100
    tallest = max(c["bars"], key=lambda b: b["h"])
    assert tallest["y"] == c["top"] and all(b["y"] + b["h"] == c["base"] for b in c["bars"])
    xs = {m["label"]: m["x"] for m in c["marks"]}
    assert c["left"] < xs["p05"] < xs["p50"] < xs["p95"] < c["right"]
    # the median of 1..100 is 50.5: halfway along the axis from 1 to 100
    assert abs((xs["p50"] - c["left"]) / (c["right"] - c["left"]) - 49.5 / 99) < 0.01


def test_build_draws_the_histograms_and_check_reproduces_them(tmp_path: Path) -> None:
    out = tmp_path / "site"
    runner = CliRunner()
    r = runner.invoke(cli, ["build", str(ROOT / "models" / "sif_reliability"), "-o", str(out), "--uncertainty", "200",
                            "-q"])
    assert r.exit_code in (0, 1), r.output
    page = (out / "fta" / "Overpressure.html").read_text(encoding="utf-8")
    charts = re.findall(r'<figure class="histogram">.*?</figure>', page, re.S)
    assert len(charts) == 2  # P(top) and, the tree being proof-tested, the PFDavg
    for chart in charts:
        assert 'role="img"' in chart and "<title" in chart and "<desc" in chart
        assert chart.count('stroke-dasharray') == 1 and chart.count("<line") == 2 + 3  # axes and three quantiles
        assert ">trials</text>" in chart and "200 trials, seed 1" in chart
    assert "P(top) at the mission time" in charts[0] and "PFDavg" in charts[1]
    assert json.loads((out / "manifest.json").read_text())["inputs"]["options"]["uncertainty"] == 200
    check = runner.invoke(cli, ["build", "--check", str(out), "-q"])
    assert check.exit_code == 0, check.output


def test_without_the_option_the_page_has_no_histogram(tmp_path: Path) -> None:
    out = tmp_path / "site"
    CliRunner().invoke(cli, ["build", str(ROOT / "models" / "sif_reliability"), "-o", str(out), "-q"])
    page = (out / "fta" / "Overpressure.html").read_text(encoding="utf-8")
    assert 'class="histogram"' not in page
    assert "uncertainty" not in json.loads((out / "manifest.json").read_text())["inputs"]["options"]
