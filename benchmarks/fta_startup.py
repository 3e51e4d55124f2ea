"""Benchmark: start-up of `sops fta` on a small Open-PSA file against a bare `python -c pass`, in one run.

Issue 18's target: `sops fta` on a small Open-PSA file (SCRAM's Chinese example, two files) in at most 60 ms.
Both commands run --repeat times, interleaved (a busy machine slows both alike), each as a fresh process;
wall time from `time.perf_counter`, CPU time (user + system) from `os.wait4`'s resource usage of that child
alone. Printed: min and median of each, and sops minus the bare interpreter (what our imports and the
analysis cost). `--peer PATH` adds another `sops` program (e.g. main's `.venv/bin/sops`) to the same rounds.

Bytecode: this environment may set PYTHONDONTWRITEBYTECODE=1, and then every module of an editable install
is compiled from source on every run (about 40 ms on this path), which an installed package never does.
The package is compiled once (`compileall`) before measuring, so what is measured is what a user runs.

    .venv/bin/python benchmarks/fta_startup.py [--repeat 30] [--peer /work/main/.venv/bin/sops]

This is a measurement, not a test: nothing fails when the target is missed.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHINESE = ("input/Chinese/chinese.xml", "input/Chinese/chinese-basic-events.xml")
CORPORA = (ROOT.parent / "shared" / "corpus" / "openpsa", Path("/usr/share/scram"))


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `cmd` (output discarded; a failure stops the benchmark)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr else b""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode(errors='replace')[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=30, help="runs of each command (interleaved)")
    ap.add_argument("--peer", action="append", default=[], help="another sops program to measure alongside")
    args = ap.parse_args()
    corpus = next((c for c in CORPORA if all((c / f).is_file() for f in CHINESE)), None)
    if corpus is None:
        print("needs the Open-PSA corpus (../shared/corpus/openpsa) or SCRAM's examples", file=sys.stderr)
        return 2
    files = [str(corpus / f) for f in CHINESE]
    for package in ("safetyops_dsl", "generators", "grammar"):  # the package and its two mapped sub-packages
        compileall.compile_dir(str(ROOT / package), quiet=1)
    sops = str(Path(sys.executable).with_name("sops"))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        commands = {"python -c pass": [sys.executable, "-c", "pass"]}
        commands["sops fta (this tree)"] = [sops, "fta", *files, "--format", "json", "-o", out]
        for i, peer in enumerate(args.peer):
            commands[f"peer {i + 1}: {peer}"] = [peer, "fta", *files, "--format", "json", "-o", out]
        for cmd in commands.values():  # warm the file cache
            timed(cmd)
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(max(1, args.repeat)):
            for name, cmd in commands.items():
                runs[name].append(timed(cmd))
    load = os.getloadavg()[0]
    print(f"{args.repeat} runs each, interleaved; load average {load:.1f}; milliseconds")
    print(f"{'command':<40} {'wall min':>9} {'median':>7} {'cpu min':>8} {'median':>7}")
    base = runs["python -c pass"]
    for name, r in runs.items():
        walls, cpus = [w for w, _ in r], [c for _, c in r]
        print(f"{name[:40]:<40} {1000 * min(walls):9.1f} {1000 * statistics.median(walls):7.1f} "
              f"{1000 * min(cpus):8.1f} {1000 * statistics.median(cpus):7.1f}")
    for name, r in runs.items():
        if r is base:
            continue
        extra_wall = statistics.median(w - b for (w, _), (b, _) in zip(r, base, strict=True))
        extra_cpu = statistics.median(c - b for (_, c), (_, b) in zip(r, base, strict=True))
        print(f"{name[:40]:<40} over `pass` (median of pairs): wall {1000 * extra_wall:.1f}, cpu {1000 * extra_cpu:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
