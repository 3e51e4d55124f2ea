"""Benchmark: what the hidden-character scan (SOPS007) adds to loading a model.

For the example models' text, repeated to about --megabytes MB, it prints the time of the scan of clean
text (the common case: one str.isprintable pass), of the plain regular-expression search it replaces,
and of parsing the same text with textX, and the scan's share of the parse. Times are the median of
--repeat runs.

    .venv/bin/python benchmarks/hidden_text.py [--megabytes 1] [--repeat 5]

This is a measurement, not a test: nothing fails at any ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from safetyops_dsl.diagnostics import HIDDEN
from safetyops_dsl.parse.hidden_text import hidden_text
from safetyops_dsl.parse.textx_parser import parse_text

ROOT = Path(__file__).resolve().parent.parent


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    # one file's worth of each model, without package lines, so the repeated text still parses
    keep = ("package", "import")
    unit = "\n".join(
        "\n".join(line for line in p.read_text(encoding="utf-8").splitlines() if not line.startswith(keep))
        for p in sorted((ROOT / "models" / "insulin_pump").glob("*.sops"))
    )
    copies = max(1, int(args.megabytes * 1e6 / len(unit)))
    text = "\n".join(unit for _ in range(copies))
    scan = median_seconds(lambda: hidden_text(text, "bench.sops"), args.repeat)
    regex = median_seconds(lambda: HIDDEN.search(text), args.repeat)
    parse = median_seconds(lambda: parse_text(text, "bench.sops"), max(1, args.repeat // 2))
    print(f"text: {len(text) / 1e6:.2f} MB ({copies} copies of models/insulin_pump)")
    print(f"hidden-character scan (clean text): {scan * 1e3:8.1f} ms")
    print(f"regular-expression search alone:    {regex * 1e3:8.1f} ms  (scan / regex = {scan / regex:.2f})")
    print(f"textX parse of the same text:       {parse * 1e3:8.1f} ms  (scan / parse = {scan / parse:.4f})")


if __name__ == "__main__":
    main()
