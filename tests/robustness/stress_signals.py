"""Stress run, not a test: `sops trace -o` interrupted by SIGINT or SIGTERM at random moments, many times.

Prints each distinct (exit code, end of stderr) once with the first delay that gave it, then the count of
runs with a traceback and the exit codes. What a correct run shows: no traceback, and exit codes 130
(SIGINT), 143 (SIGTERM) or 0 (done before the signal) only. The timing test in test_atomic.py samples three
moments; this samples hundreds.

    .venv/bin/python tests/robustness/stress_signals.py [--runs 300] [--earliest 0.15] [--latest 1.2] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--earliest", type=float, default=0.15, help="seconds after start (interpreter start-up "
                    "takes about 0.1 s, before any code of sops runs)")
    ap.add_argument("--latest", type=float, default=1.2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    codes: dict[int, int] = {}
    first: dict[tuple[int, str], float] = {}
    tracebacks = 0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "trace.md"
        for _ in range(args.runs):
            delay = rng.uniform(args.earliest, args.latest)
            proc = subprocess.Popen([sys.executable, "-m", "safetyops_dsl.cli.main", "trace",
                                     str(ROOT / "models" / "aeb"), "--no-git", "-o", str(out)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
            time.sleep(delay)
            proc.send_signal(rng.choice([signal.SIGINT, signal.SIGTERM]))
            _, err = proc.communicate(timeout=120)
            codes[proc.returncode] = codes.get(proc.returncode, 0) + 1
            tracebacks += b"Traceback" in err
            first.setdefault((proc.returncode, err.decode(errors="replace")[-200:]), round(delay, 3))
    for (code, tail), delay in sorted(first.items()):
        print(f"exit {code} at {delay} s: {tail!r}")
    print(f"runs {args.runs}, with a traceback {tracebacks}, exit codes {dict(sorted(codes.items()))}")


if __name__ == "__main__":
    main()
