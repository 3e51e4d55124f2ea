"""Benchmark: minimal cut sets up to order K without the BDD (what `sops fta --limit-order K` runs where the BDD is
refused: fta/truncated.py, a ZDD built from the formula, on coherent trees; fta/enumeration.py on the others) against
SCRAM's ZBDD (`scram --zbdd -l K`), same run, same inputs.

Each side runs in a fresh subprocess under GNU time, so CPU time (user + system) and peak RSS are its own. Columns: the
count by order, whether the two families are the same sets, CPU seconds and MiB of each, the ratio of CPU
times (ours / SCRAM's). A side that does not finish within --timeout shows "-". A measurement, not a test.

    .venv/bin/python benchmarks/fta_cut_sets_without_bdd.py [--cases nus9601:3,das9701:3] [--timeout S]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ARALIA = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "openpsa" / "input" / "Aralia"

CHILD = r"""
import json, sys
from safetyops_dsl.fta.enumeration import minimal_cut_sets
from safetyops_dsl.fta.openpsa import load_openpsa
from safetyops_dsl.fta.preprocess import preprocess
from safetyops_dsl.fta.truncated import coherent, truncated_cut_sets
tree = preprocess(load_openpsa([sys.argv[1]], None)[0])
k = int(sys.argv[2])
found = truncated_cut_sets(tree, k) if coherent(tree) else minimal_cut_sets(tree, k)
print(json.dumps({"sets": [list(s) for s in found.cut_sets], "method": "enumeration" if found.zdd_nodes is None
                  else "zdd"}))
"""


def _timed(cmd: list[str], timeout: float) -> tuple[subprocess.CompletedProcess[str] | None, float, float]:
    """Run cmd under GNU time (Debian package `time`): its own CPU seconds and peak MiB."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as figures:
        # A session of its own, so that a timeout ends the measured program too, not only GNU time.
        proc = subprocess.Popen(["/usr/bin/time", "-f", "%U %S %M", "-o", figures.name, *cmd],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return None, 0.0, 0.0
        user, system, kib = figures.read().split()[-3:]
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done, float(user) + float(system), int(kib) / 1024


def ours(path: Path, k: int, timeout: float) -> tuple[set[frozenset[str]] | None, str, float, float]:
    done, cpu, mib = _timed([sys.executable, "-c", CHILD, str(path), str(k)], timeout)
    if done is None or done.returncode != 0:
        return None, "-", cpu, mib
    doc = json.loads(done.stdout)
    return {frozenset(s) for s in doc["sets"]}, doc["method"], cpu, mib


def scram(path: Path, k: int, timeout: float) -> tuple[set[frozenset[str]] | None, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        done, cpu, mib = _timed(["scram", "--zbdd", "-l", str(k), str(path), "-o", str(report)], timeout)
        if done is None or done.returncode != 0 or not report.exists():
            return None, cpu, mib
        root = ET.parse(report).getroot()
        return {frozenset(b.get("name", "") for b in p.iter("basic-event")) for p in root.iter("product")}, cpu, mib


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default="nus9601:2,nus9601:3,das9701:1,das9701:2,das9701:3")
    ap.add_argument("--timeout", type=float, default=300.0)
    args = ap.parse_args()
    print("| tree | K | ours: sets (by order) | method | CPU s / MiB | SCRAM --zbdd: sets | CPU s / MiB | same | ratio |")
    print("|---|---:|---|---|---|---|---|---|---:|")
    for case in args.cases.split(","):
        name, k = case.split(":")
        path = ARALIA / f"{name}.xml"
        mine, method, my_cpu, my_mib = ours(path, int(k), args.timeout)
        theirs, their_cpu, their_mib = scram(path, int(k), args.timeout)
        by_order: dict[int, int] = {}
        for s in mine or ():
            by_order[len(s)] = by_order.get(len(s), 0) + 1
        orders = ", ".join(f"{o}: {c}" for o, c in sorted(by_order.items()))
        mine_cell = "-" if mine is None else f"{len(mine)} ({orders or 'none'})"
        same = "-" if mine is None or theirs is None else ("yes" if mine == theirs else "NO")
        ratio = f"{my_cpu / their_cpu:.2f}" if mine is not None and theirs is not None and their_cpu else "-"
        print(f"| {name} | {k} | {mine_cell} | {method} | {my_cpu:.1f} / {my_mib:.0f} | "
              f"{'-' if theirs is None else len(theirs)} | "
              f"{'-' if theirs is None else f'{their_cpu:.1f} / {their_mib:.0f}'} | {same} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
