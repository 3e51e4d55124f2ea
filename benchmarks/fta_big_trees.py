"""Benchmark: exact P(top) by weighted model counting (fta/count.py, what `sops fta --model-count` runs) and
by modules + Shannon decomposition (fta/shannon.py), against the seeded Monte Carlo estimate (fta/simulate.py),
for the trees whose single BDD does not fit (das9701, nus9601: SCRAM does not finish them either), or any
other Open-PSA input.

Each input runs in a fresh subprocess per method, so that wall time, CPU time (user + system) and peak RSS
are the method's own. Both are deterministic: the decomposition depends on nothing but the tree and the
node budget, the estimate on the seed.

    .venv/bin/python benchmarks/fta_big_trees.py [--only das9701,nus9601] [--samples N] [--seed S]
                                    [--max-nodes N] [--timeout S] [--skip count|exact|cudd|simulate ...]

A third method, CUDD with dynamic reordering (benchmarks/fta_cudd_sifting.py, the `dd` dev dependency),
gives a reference from another BDD package. The column `inside` says whether the exact value (the count's,
else Shannon's, else CUDD's) lies in the estimate's 95 % Clopper-Pearson interval. This is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ARALIA = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "openpsa" / "input" / "Aralia"

CHILD = r"""
import json, resource, sys, time
from safetyops_dsl.fta.openpsa import load_openpsa
method, path, a, b = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
tree = load_openpsa([path], None)[0]
t0 = time.perf_counter()
if method == "count":
    from safetyops_dsl.fta.count import exact_probability
    c = exact_probability(tree)
    out = {"p": c.probability, "variables": c.variables, "clauses": c.clauses}
elif method == "exact":
    from safetyops_dsl.fta.shannon import exact_probability
    p, s = exact_probability(tree, max_nodes=a, max_leaves=b)
    out = {"p": p, "bdds": s.bdds, "splits": s.conditioned, "reused": s.reused, "depth": s.max_depth,
           "largest_bdd": s.largest_bdd}
else:
    from safetyops_dsl.fta.simulate import simulate
    f = simulate(tree, a, b)
    out = {"p": f.estimate, "hits": f.hits, "lower": f.lower, "upper": f.upper, "samples": f.samples}
out["seconds"] = time.perf_counter() - t0
print(json.dumps(out))
"""


def run(method: str, path: Path, a: int, b: int, timeout: float) -> dict[str, object] | None:
    if method == "cudd":
        cmd = [sys.executable, str(Path(__file__).with_name("fta_cudd_sifting.py")), str(path)]
    else:
        cmd = [sys.executable, "-c", CHILD, method, str(path), str(a), str(b)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return None
    out: dict[str, object] = json.loads(done.stdout)
    out["wall"] = wall
    out["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out["rss_mib"] = after.ru_maxrss / 1024  # the largest child so far: run the inputs in separate calls
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="das9701,nus9601")
    ap.add_argument("--samples", type=int, default=1 << 22)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-nodes", type=int, default=1 << 20)
    ap.add_argument("--max-leaves", type=int, default=1 << 20)
    ap.add_argument("--timeout", type=float, default=3600.0)
    ap.add_argument("--skip", action="append", choices=["count", "exact", "simulate", "cudd"], default=[])
    args = ap.parse_args()
    print("| tree | exact P(top), model count | variables / clauses | wall s / CPU s / MiB | exact P(top), Shannon | BDDs / splits / reused / depth | wall s / CPU s / MiB "
          "| exact P(top), CUDD sifting | wall s / CPU s / MiB | MC estimate [95 % CI] "
          "| samples (hits) | wall s / CPU s / MiB | inside |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.only.split(","):
        path = Path(name) if name.endswith(".xml") else ARALIA / f"{name}.xml"
        co = None if "count" in args.skip else run("count", path, 0, 0, args.timeout)
        ex = None if "exact" in args.skip else run("exact", path, args.max_nodes, args.max_leaves, args.timeout)
        cu = None if "cudd" in args.skip else run("cudd", path, 0, 0, args.timeout)
        mc = None if "simulate" in args.skip else run("simulate", path, args.samples, args.seed, args.timeout)
        cells = [path.stem]
        if co is not None:
            cells += [f"{co['p']!r}", f"{co['variables']} / {co['clauses']}",
                      f"{co['wall']:.1f} / {co['cpu']:.1f} / {co['rss_mib']:.0f}"]
        else:
            cells += ["-" if "count" in args.skip else f">{args.timeout:.0f} s", "-", "-"]
        if ex is not None:
            cells += [f"{ex['p']!r}", f"{ex['bdds']} / {ex['splits']} / {ex['reused']} / {ex['depth']}",
                      f"{ex['wall']:.1f} / {ex['cpu']:.1f} / {ex['rss_mib']:.0f}"]
        else:
            cells += ["-" if "exact" in args.skip else f">{args.timeout:.0f} s", "-", "-"]
        if cu is not None:
            cells += [f"{cu['p']!r}", f"{cu['wall']:.1f} / {cu['cpu']:.1f} / {cu['rss_mib']:.0f}"]
        else:
            cells += ["-" if "cudd" in args.skip else f">{args.timeout:.0f} s", "-"]
        if mc is not None:
            cells += [f"{mc['p']:.6g} [{mc['lower']:.6g}, {mc['upper']:.6g}]", f"{mc['samples']} ({mc['hits']})",
                      f"{mc['wall']:.1f} / {mc['cpu']:.1f} / {mc['rss_mib']:.0f}"]
        else:
            cells += ["-", "-", "-"]
        inside = "-"
        exact = co if co is not None else ex if ex is not None else cu
        if exact is not None and mc is not None:
            inside = "yes" if float(str(mc["lower"])) <= float(str(exact["p"])) <= float(str(mc["upper"])) else "NO"
        print("| " + " | ".join(cells + [inside]) + " |", flush=True)


if __name__ == "__main__":
    main()
