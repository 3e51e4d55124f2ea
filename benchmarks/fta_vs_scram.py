"""Benchmark: `sops fta` against SCRAM on the same Open-PSA inputs, in one run.

Per input it prints wall time and peak RSS of both programs (each a fresh subprocess, measured with
resource.getrusage(RUSAGE_CHILDREN) deltas), their ratio, and our in-process analysis time (load + analyse,
without interpreter start-up). Like with like: SCRAM computes products (default order limit 20), the exact
probability and the importance factors, and writes its full XML report; we count every cut set exactly,
list the 1000 most probable, compute the same probability and importance factors and write the JSON
report, with the same order limit ("P only" rows: neither computes importance). Wall times are the median of --repeat runs (the two programs
alternate, so a busy machine slows both alike); memory is the largest peak seen.

    .venv/bin/python benchmarks/fta_vs_scram.py [--corpus ../shared/corpus/openpsa] [--only baobab1,...]
                                                [--repeat N]

This is a measurement, not a test: nothing fails when a ratio is above 1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "openpsa"

IMP = ["--probability", "true", "--importance", "true"]
# (name, files, scram args, our args)
CASES: list[tuple[str, tuple[str, ...], list[str], list[str]]] = [
    ("baobab1", ("input/Aralia/baobab1.xml",), IMP, ["--limit-order", "20"]),
    ("das9207", ("input/Aralia/das9207.xml",), IMP, ["--limit-order", "20"]),
    ("edfpa15b", ("input/Aralia/edfpa15b.xml",), IMP, ["--limit-order", "20"]),
    ("isp9602", ("input/Aralia/isp9602.xml",), IMP, ["--limit-order", "20"]),
    ("edf9202", ("input/Aralia/edf9202.xml",), IMP, ["--limit-order", "20"]),
    (
        "cea9601 -l 1 (P)",
        ("input/Aralia/cea9601.xml",),
        [*IMP, "-l", "1"],
        ["--limit-order", "1"],
    ),
    (
        "cea9601 -l 1 P only",
        ("input/Aralia/cea9601.xml",),
        ["--probability", "true", "-l", "1"],
        ["--limit-order", "1", "--no-importance"],
    ),
    (
        "CEA9601 -l 4",
        ("input/CEA9601/CEA9601.xml", "input/CEA9601/CEA9601-basic-events.xml"),
        [*IMP, "-l", "4"],
        ["--limit-order", "4"],
    ),
]


def isolated(cmd: list[str]) -> tuple[float, float, int]:
    """Measure in a fresh Python so RUSAGE_CHILDREN's maximum belongs to this command alone."""
    code = (
        "import resource,subprocess,sys,time;"
        "t=time.perf_counter();"
        f"r=subprocess.run({cmd!r},stdout=subprocess.DEVNULL,stderr=subprocess.PIPE);"
        "w=time.perf_counter()-t;"
        "m=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024;"
        "sys.stderr.write(r.stderr.decode(errors='replace')[-2000:]);"
        "print(w,m,r.returncode)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=3600)
    if out.stderr.strip():
        sys.stderr.write(out.stderr)
    wall, peak, rc = out.stdout.split()
    return float(wall), float(peak), int(rc)


def in_process(files: list[str], our_args: list[str]) -> float:
    """Our load + analysis time without interpreter start-up, in a fresh interpreter."""
    limit = our_args[our_args.index("--limit-order") + 1] if "--limit-order" in our_args else "None"
    importance = "--no-importance" not in our_args
    code = (
        "import time;t=time.perf_counter();"
        "from safetyops_dsl.fta.openpsa import load_openpsa;"
        "from safetyops_dsl.fta.engine import analyse;"
        "from safetyops_dsl.fta.result import AnalysisOptions;"
        f"ts=load_openpsa({files!r});"
        f"[analyse(x, AnalysisOptions(limit_order={limit}, importance={importance})) for x in ts];"
        "print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=3600)
    return float(out.stdout.strip() or "nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--only", default="", help="comma-separated case names")
    ap.add_argument("--repeat", type=int, default=3, help="runs per program and input (median wall time)")
    args = ap.parse_args()
    scram = shutil.which("scram")
    if scram is None or not args.corpus.is_dir():
        print("needs SCRAM on PATH and the Open-PSA corpus", file=sys.stderr)
        return 2
    sops = str(Path(sys.executable).with_name("sops"))
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    header = f"{'input':<18} {'SCRAM s':>8} {'MiB':>6} {'sops s':>8} {'MiB':>6} {'ratio':>6} {'analysis s':>10}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for name, rel, scram_args, our_args in CASES:
            if only and name.split()[0] not in only:
                continue
            files = [str(args.corpus / r) for r in rel]
            s_cmd = [scram, *scram_args, "-o", os.path.join(tmp, "scram.xml"), *files]
            o_cmd = [sops, "fta", *files, *our_args, "--format", "json", "-o", os.path.join(tmp, "sops.json")]
            runs = [(isolated(s_cmd), isolated(o_cmd)) for _ in range(max(1, args.repeat))]
            s_wall = statistics.median(s[0] for s, _ in runs)
            o_wall = statistics.median(o[0] for _, o in runs)
            s_mem = max(s[1] for s, _ in runs)
            o_mem = max(o[1] for _, o in runs)
            s_rc = max(s[2] for s, _ in runs)
            o_rc = max(o[2] for _, o in runs)
            analysis = in_process(files, our_args)
            flag = "" if s_rc == 0 and o_rc == 0 else "  (failed)"
            print(
                f"{name:<18} {s_wall:8.2f} {s_mem:6.0f} {o_wall:8.2f} {o_mem:6.0f} "
                f"{o_wall / s_wall:6.2f} {analysis:10.2f}{flag}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
