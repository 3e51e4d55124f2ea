"""Front-end scaling: parse + build + validate time and peak memory for generated models; and the time of
`sops build` (every analysis, diagram and the report site) on a generated model.

    python benchmarks/scale.py [--sizes 1000,5000,10000,20000] [--per-file 250] [--workers N] [--repeat R]
                               [--build 1000] [--build-per-file 10]
    python benchmarks/scale.py --tiny 10000,100000      # many one-component files instead

For each size, a model folder is generated (components with ports, failure modes, mechanisms, failure
logic; one system per file that instantiates and chains them; hazards, goals and requirements), then
`sops check` runs in a fresh interpreter, four ways:
  cold      no cache, worker processes as the loader chooses (parallel for large models)
  serial    no cache, one process (the parser's own speed)
  warm      second run with a content-hash cache of built files (what CI and editors see on reruns)
  edited    one file edited, then a run with that cache (only the edited file is parsed again)
Each run is the `sops` program; it prints the in-process seconds of the check (excluding interpreter
start-up; `wall` is the whole process a user waits for: start-up, imports, the check, the report and the
exit), the CPU seconds of the serial run (what a quiet machine would take; wall-clock figures on a shared
machine measure the neighbours too) and peak RSS, each the median of --repeat runs; at the end the growth
ratio per doubling.
Targets (issue 13): 10k components in at most 3 s cold, growth at most 2.2x per doubling, at most 0.5 s after
editing one file with the cache.

--tiny N generates N files of one component each (issue 17: 100,000 tiny files took more than 150 s) and
prints the cold time and the time per file.

Build (issue 13): a model of --build components, --build-per-file to a system and a hazard (1,000 and 10:
100 hazards), is built cold with `sops build` in a fresh interpreter; then one failure rate is changed and
it is built again into the same folder (unchanged diagrams are reused). Printed: wall seconds, CPU seconds
(sops and its `dot` processes), exit status, files, diagrams drawn, the widest SVG in pt, and the ratio to
the 30 s target. `--sizes ""` skips the check figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    t0 = time.perf_counter()
    c0 = time.process_time()
    import safetyops_dsl.api as api
    from safetyops_dsl.cli.main import main
    t1 = time.perf_counter()
    model, cache, workers, figures = sys.argv[1:5]
    real_check = api.check

    def timed_check(paths, **options):
        # the CLI's own check, with the benchmark's worker count: what `sops check` does, timed inside
        options["workers"] = None if workers == "auto" else int(workers)
        t2 = time.perf_counter()
        r = real_check(paths, **options)
        t3 = time.perf_counter()
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = time.process_time() - c0 + kids.ru_utime + kids.ru_stime
        errors = sum(1 for d in r.diagnostics if d.level.value == "error")
        peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        with open(figures, "w") as fh:
            json.dump({"import": t1 - t0, "check": t3 - t2, "cpu": cpu, "errors": errors,
                       "components": len(r.model.components) if r.model else 0,
                       "peak_kib": max(peak_self, peak_children), "diags": len(r.diagnostics)}, fh)
        return r

    api.check = timed_check
    sys.argv = ["sops", "check", model] + ([] if cache == "-" else ["--cache-dir", cache])
    main()  # the program: reports, then ends as `sops` does (no teardown)
    """
)


def generate(folder: Path, n: int, per_file: int) -> int:
    """Write a model of n components; returns the number of lines written."""
    folder.mkdir(parents=True, exist_ok=True)
    lines_total = 0
    files = (n + per_file - 1) // per_file
    for f in range(files):
        lo, hi = f * per_file, min(n, (f + 1) * per_file)
        out = [f"// generated chunk {f}", "package big", ""]
        for i in range(lo, hi):
            out += [
                f'component C{i} "Generated component {i}" {{',
                "    in  a, b",
                "    out y",
                f'    failure F{i}a rate {i % 97 + 1} FIT "internal fault a of {i}"',
                f"    failure F{i}b rate {i % 13 + 2} FIT",
                f"    mechanism M{i} covers F{i}b coverage 90 %",
                f"    y.omission <- (a.omission and b.omission) or F{i}a",
                f"    y.value    <- a.value or F{i}b",
                "}",
            ]
        out += [f'system S{f} "Chain {f}" {{', "    in  source", "    out sink"]
        for i in range(lo, hi):
            out.append(f"    part p{i} : C{i}")
        first = lo
        out.append(f"    connect source -> p{first}.a")
        out.append(f"    connect source -> p{first}.b")
        for i in range(lo + 1, hi):
            out.append(f"    connect p{i - 1}.y -> p{i}.a")
            out.append(f"    connect p{max(lo, i - 2)}.y -> p{i}.b" if i - 2 >= lo else f"    connect source -> p{i}.b")
        out.append(f"    connect p{hi - 1}.y -> sink")
        out.append("}")
        out += [
            f'hazard H{f} "Loss of output of chain {f}" {{',
            "    severity S2 exposure E3 controllability C2",
            f"    system S{f}",
            "    when sink.omission",
            "}",
            f'safety_goal G{f} "Keep chain {f} alive" mitigates H{f}',
            f'requirement R{f} "Chain {f} tolerates single faults" refines G{f} allocated_to p{lo} asil A',
            "",
        ]
        text = "\n".join(out) + "\n"
        (folder / f"chunk_{f:04d}.sops").write_text(text, encoding="utf-8")
        lines_total += text.count("\n")
    return lines_total


def generate_tiny(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"t{i:06d}.sops").write_text(
            f"component T{i} {{\n    out y\n    failure F rate 1 FIT\n    y.omission <- F\n}}\n", encoding="utf-8"
        )


def run_child(model: Path, cache: str, workers: str, python: str = sys.executable) -> dict[str, float]:
    """`sops check MODEL` in a fresh interpreter (the program, as a user runs it). `check` is the seconds of
    the check inside it; `wall` the whole process: start-up, imports, check, report and exit."""
    with tempfile.TemporaryDirectory(prefix="sops-figures-") as tmp:
        figures = Path(tmp) / "figures.json"
        t0 = time.perf_counter()
        proc = subprocess.run(
            # -P: `-c` would put the working directory first on sys.path, and from a checkout the baseline's
            # python would import this checkout's package instead of its own
            [python, "-P", "-c", CHILD, str(model), cache, workers, str(figures)],
            capture_output=True, text=True, check=False, env={k: v for k, v in os.environ.items() if k != "SOPS_CACHE_DIR"},
        )
        wall = time.perf_counter() - t0
        if proc.returncode not in (0, 1) or not figures.exists():
            raise SystemExit(f"benchmark child failed:\n{proc.stderr}")
        result: dict[str, float] = json.loads(figures.read_text(encoding="utf-8"))
    result["wall"] = wall
    return result


def median_run(repeat: int, model: Path, cache: str, workers: str, before: object = None,
               python: str = sys.executable) -> dict[str, float]:
    """Median (by check time) of `repeat` runs; `before` runs ahead of each (e.g. an edit)."""
    runs = []
    for _ in range(repeat):
        if callable(before):
            before()
        runs.append(run_child(model, cache, workers, python))
    runs.sort(key=lambda r: r["check"])
    return runs[len(runs) // 2]


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    runs = sorted(runs, key=lambda r: r["check"])
    return runs[len(runs) // 2]


def tiny(sizes: list[int], workers: str, repeat: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="sops-tiny-"))
    try:
        print(f"{'files':>7} | {'cold s':>7} {'wall s':>7} {'cpu s':>6} {'ms/file':>7} | {'MiB':>5} | diags")
        for n in sizes:
            folder = tmp / f"t{n}"
            generate_tiny(folder, n)
            r = median_run(repeat, folder, "-", workers)
            print(f"{n:>7} | {r['check']:>7.2f} {r['wall']:>7.2f} {r['cpu']:>6.2f} {r['check'] / n * 1000:>7.3f} | "
                  f"{r['peak_kib'] / 1024:>5.0f} | {int(r['diags'])}")
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def svg_widths(out: Path) -> dict[str, float]:
    widths = {}
    for svg in out.rglob("*.svg"):
        head = svg.read_text(encoding="utf-8", errors="replace")[:2000]
        found = re.search(r'<svg[^>]*\swidth="([0-9.]+)pt"', head)
        if found:
            widths[svg.relative_to(out).as_posix()] = float(found.group(1))
    return widths


def run_build(model: Path, out: Path) -> dict[str, object]:
    """`sops build MODEL -o OUT` in a fresh interpreter, progress lines on (CI=1)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "safetyops_dsl", "build", str(model), "-o", str(out)],
                          capture_output=True, text=True, check=False, env={**os.environ, "CI": "1"})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    drawn = re.findall(r"diagrams: (\d+) to draw, (\d+) unchanged done", proc.stderr)
    files = re.search(r"(\d+) files written", proc.stderr)
    return {
        "exit": proc.returncode, "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "files": int(files.group(1)) if files else 0,
        "drawn": (int(drawn[-1][0]), int(drawn[-1][0]) + int(drawn[-1][1])) if drawn else (0, 0),
        "stderr": proc.stderr,
    }


def build_figures(tmp: Path, n: int, per_file: int) -> None:
    folder = tmp / f"b{n}"
    generate(folder, n, per_file)
    out = tmp / f"b{n}-out"
    print(f"sops build: {n} components, {(n + per_file - 1) // per_file} hazards "
          f"({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})")
    cold = run_build(folder, out)
    if cold["exit"] != 0:
        print(str(cold["stderr"])[-3000:])
    widths = svg_widths(out)
    widest = max(widths.items(), key=lambda kv: kv[1]) if widths else ("-", 0.0)
    # one rate change in one file: only the diagrams that show it are drawn again
    first = folder / "chunk_0000.sops"
    first.write_text(first.read_text(encoding="utf-8").replace("failure F0a rate 1 FIT", "failure F0a rate 2 FIT"),
                     encoding="utf-8")
    warm = run_build(folder, out)
    for label, r in (("cold", cold), ("after one rate change", warm)):
        drawn, total = r["drawn"]  # type: ignore[misc]
        print(f"  {label:<22} exit {r['exit']}  {r['wall']:6.1f} s wall  {r['cpu']:6.1f} s CPU  "
              f"{r['files']} files  {drawn} of {total} diagrams drawn  "
              f"({float(r['wall']) / 30:.2f} of the 30 s target)")  # type: ignore[arg-type]
    print(f"  widest SVG: {widest[0]} {widest[1]:.0f} pt ({widest[1] * 4 / 3 / 1920:.2f} screens of 1920 px "
          f"at 100 %); {len(widths)} SVGs")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,5000,10000,20000")
    ap.add_argument("--per-file", type=int, default=250)
    ap.add_argument("--workers", default="auto", help="worker processes for the cold run (default: auto)")
    ap.add_argument("--keep", action="store_true", help="keep the generated models (prints the folder)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per figure; the median is printed")
    ap.add_argument("--tiny", default="", help="file counts of one-component files, e.g. 10000,100000")
    ap.add_argument("--build", default="1000", help="components of the sops build figure ('' to skip)")
    ap.add_argument("--build-per-file", type=int, default=10, help="components per system and hazard")
    ap.add_argument("--baseline", default="", help="another installation's python (e.g. main's .venv/bin/python): "
                    "its check figures are measured in the same run, alternating with this one")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, python {sys.version.split()[0]}")
    if args.tiny:
        tiny([int(s) for s in args.tiny.split(",")], args.workers, args.repeat)
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    # --baseline PYTHON: the same figures from another installation (e.g. main's venv), run alternately with
    # this one (baseline, this, baseline, this, ...) so that both see the same machine load
    pythons = {"this": sys.executable}
    if args.baseline:
        pythons = {"baseline": args.baseline, "this": sys.executable}
    tmp = Path(tempfile.mkdtemp(prefix="sops-scale-"))
    print("seconds in-process (excluding interpreter start-up); cpu = user+sys of the process and its workers")
    print(f"{'components':>10} {'lines':>8} {'files':>5} {'run':>8} | {'cold s':>7} {'cpu':>5} {'wall s':>7} "
          f"{'serial s':>8} {'cpu':>5} {'warm s':>7} {'cpu':>5} {'edited s':>8} {'cpu':>5} | "
          f"{'cold MiB':>8} {'serial MiB':>10} | diags")
    cold_by_size: dict[tuple[str, int], float] = {}
    serial_by_size: dict[tuple[str, int], float] = {}
    edited_by_size: dict[tuple[str, int], float] = {}
    cpu_by_size: dict[tuple[str, int], float] = {}
    try:
        for n in sizes:
            folder = tmp / f"m{n}"
            lines = generate(folder, n, args.per_file)
            files = len(list(folder.glob("*.sops")))
            first = sorted(folder.glob("*.sops"))[0]

            def edit(first: Path = first) -> None:
                # a new comment each time: new bytes, so the file misses the cache; the rest hits it
                with first.open("a", encoding="utf-8") as fh:
                    fh.write(f"// edit {time.perf_counter_ns()}\n")

            runs: dict[str, dict[str, list[dict[str, float]]]] = {
                name: {"cold": [], "serial": [], "warm": [], "edited": []} for name in pythons
            }
            for _ in range(args.repeat):
                for name, python in pythons.items():
                    cache = str(tmp / f"cache{n}-{name}")
                    runs[name]["cold"].append(run_child(folder, "-", args.workers, python))
                    runs[name]["serial"].append(run_child(folder, "-", "1", python))
                    run_child(folder, cache, args.workers, python)  # fill the cache with the text as it is now
                    runs[name]["warm"].append(run_child(folder, cache, args.workers, python))
                    edit()
                    runs[name]["edited"].append(run_child(folder, cache, args.workers, python))
            for name in pythons:
                cold, serial, warm, edited = (median(runs[name][k]) for k in ("cold", "serial", "warm", "edited"))
                if cold["errors"]:
                    print(f"  note: generated model has {cold['errors']} errors")
                cold_by_size[name, n] = cold["check"]
                serial_by_size[name, n] = serial["check"]
                cpu_by_size[name, n] = serial["cpu"]
                edited_by_size[name, n] = edited["check"]
                print(
                    f"{n:>10} {lines:>8} {files:>5} {name:>8} | {cold['check']:>7.2f} {cold['cpu']:>5.2f} "
                    f"{cold['wall']:>7.2f} {serial['check']:>8.2f} {serial['cpu']:>5.2f} {warm['check']:>7.2f} "
                    f"{warm['cpu']:>5.2f} {edited['check']:>8.2f} {edited['cpu']:>5.2f} | "
                    f"{cold['peak_kib'] / 1024:>8.0f} {serial['peak_kib'] / 1024:>10.0f} | {int(cold['diags'])}"
                )
        for name in pythons:
            for n in sizes:
                if (name, 2 * n) in cold_by_size:
                    print(f"{name}: growth {2 * n}/{n}: cold {cold_by_size[name, 2 * n] / cold_by_size[name, n]:.2f}x, "
                          f"serial {serial_by_size[name, 2 * n] / serial_by_size[name, n]:.2f}x, "
                          f"serial cpu {cpu_by_size[name, 2 * n] / cpu_by_size[name, n]:.2f}x (target <= 2.2x)")
            if (name, 10000) in cold_by_size:
                verdict = "meets" if cold_by_size[name, 10000] <= 3.0 else "misses"
                print(f"{name}: 10k components cold: {cold_by_size[name, 10000]:.2f} s ({verdict} the 3 s target); "
                      f"serial CPU time {cpu_by_size[name, 10000]:.2f} s")
                verdict = "meets" if edited_by_size[name, 10000] <= 0.5 else "misses"
                print(f"{name}: 10k components, one file edited, with the cache: {edited_by_size[name, 10000]:.2f} s "
                      f"({verdict} the 0.5 s target)")
        for n in [int(x) for x in args.build.split(",") if x]:
            build_figures(tmp, n, args.build_per_file)
    finally:
        if args.keep:
            print(f"models kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
