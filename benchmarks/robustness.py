"""Big CI result files: time and peak memory of reading a JUnit file of N test cases (issue 17, item 6).

    python benchmarks/robustness.py [--cases 1000000] [--keep FILE]

A JUnit file of N cases (one in a thousand failing, about 45 bytes a case) is generated, then read in a
fresh interpreter each way:
  tree        the whole document parsed at once, every case turned into a result (how sops read it before)
  stream-all  the streamed reader, every case kept (read_results without the evidence's names)
  stream      the streamed reader keeping what the evidence names (what sops trace, gsn and build do)
  sops trace  the command on models/aeb with the file as --results (interpreter start-up included)
Each line prints wall seconds, CPU seconds (user + system: steadier than wall time on a shared machine),
peak RSS, and the ratios to `tree`. Measured before the change: 14 s and 743 MB for a million cases.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import json, sys, time
    from safetyops_dsl.analysis import evidence as ev
    path, how = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    if how == "tree":
        from defusedxml.ElementTree import fromstring
        root = fromstring(open(path, "rb").read(), forbid_dtd=True)
        kept = []
        for case in root.iter():
            if ev._local(case.tag) != "testcase":
                continue
            name, classname = case.get("name") or "", case.get("classname") or ""
            status = ev.FAILED if any(ev._local(c.tag) in ("failure", "error") for c in case) else ev.PASSED
            kept.append(ev.TestResult(ev.normalise_test_id(classname + "." + name), classname + "::" + name,
                                      status, "", path))
        n = len(kept)
    else:
        wanted = None if how == "stream-all" else ["tests/test_m7.py::test_7", "tests.test_m30.test_1000"]
        n = len(ev.read_results([path], wanted).tests)
    print(json.dumps({"seconds": time.perf_counter() - t0, "kept": n}))
    """
)


def generate(path: Path, cases: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="big">\n')
        for i in range(cases):
            if i % 1000 == 7:
                fh.write(f'<testcase classname="tests.test_m{i % 97}" name="test_{i}">'
                         f'<failure message="boom {i}">trace</failure></testcase>\n')
            else:
                fh.write(f'<testcase classname="tests.test_m{i % 97}" name="test_{i}"/>\n')
        fh.write("</testsuite></testsuites>\n")


def measure(argv: list[str]) -> dict[str, float]:
    """Run a child; its wall time, CPU time and peak RSS (from wait4, so only this child counts)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = {"wall": time.perf_counter() - started, "cpu": usage.ru_utime + usage.ru_stime,
              "rss_mb": usage.ru_maxrss / 1024, "exit": proc.returncode}
    with contextlib.suppress(ValueError, IndexError):  # `sops trace` prints no figures of its own
        result.update(json.loads(out.decode().strip().splitlines()[-1]))
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, help="write the generated JUnit file here (kept)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        junit = args.keep or Path(tmp) / "junit.xml"
        generate(junit, args.cases)
        print(f"JUnit file: {args.cases:,} test cases, {junit.stat().st_size / 2**20:.1f} MiB")
        sops = str(Path(sys.executable).with_name("sops"))
        runs = {
            "tree": [sys.executable, "-c", CHILD, str(junit), "tree"],
            "stream-all": [sys.executable, "-c", CHILD, str(junit), "stream-all"],
            "stream": [sys.executable, "-c", CHILD, str(junit), "stream"],
            "sops trace": [sops, "trace", str(ROOT / "models" / "aeb"), "--no-git", "--results", str(junit),
                           "--format", "json"],
        }
        base: dict[str, float] = {}
        for name, argv in runs.items():
            r = measure(argv)
            base = base or r
            kept = f"{int(r['kept']):>9,} kept" if "kept" in r else f"exit {int(r['exit'])}".rjust(15)
            print(f"{name:<11} {r['wall']:7.2f} s wall {r['cpu']:7.2f} s cpu {r['rss_mb']:8.1f} MB peak  {kept}"
                  f"   cpu x{r['cpu'] / base['cpu']:.2f}  memory x{r['rss_mb'] / base['rss_mb']:.3f}")


if __name__ == "__main__":
    main()
