"""Benchmark: `sops fta` against SCRAM on the same Open-PSA inputs, in one run.

Per input it prints wall time, CPU time (user + system) and peak RSS of both programs (each a fresh subprocess, measured with
resource.getrusage(RUSAGE_CHILDREN) deltas), their ratio, and our in-process analysis time (load + analyse,
without interpreter start-up). Like with like: SCRAM computes products (default order limit 20), the exact
probability and the importance factors, and writes its full XML report; we count every cut set exactly,
list the 1000 most probable, compute the same probability and importance factors and write the JSON
report, with the same order limit ("P only" rows: neither computes importance). Wall times are the median of --repeat runs (the two programs
alternate, so a busy machine slows both alike); memory is the largest peak seen.

Three groups of inputs (`--set`):
  reference  the inputs the engine was first measured on (default);
  shapes     generated pathological shapes, written to a temporary folder: OR chains and AND/OR
             alternating chains (g0 = or(g1, e0), g1 = and(g2, e1), ...), nested 2-of-3 gates, one OR
             gate with 50,000 inputs, and a diamond lattice of shared sub-trees (`--size` sets the
             number of gates of the chains, default 10,000);
  aralia     every tree of the Aralia set.
Where both finish, the column `same` says whether the cut-set count and the exact probability agree
(SCRAM prints 6 significant digits); a run past `--timeout` seconds is shown as `>T`, a run that failed
(an error, or a crash) with `!` after its time.

    .venv/bin/python benchmarks/fta_vs_scram.py [--set reference,shapes,aralia] [--only baobab1,...]
                                                [--repeat N] [--size N] [--timeout S]

`--baseline /path/to/other/.venv/bin/sops` runs a second build of the engine (e.g. main's) alternately with
this one and SCRAM, in the same run: one extra group of columns (wall s, CPU s, MiB, same).

`--phases default,merge,decompose,merge+decompose` runs our engine once per listed preprocessing variant
(the optional phases of `fta/preprocess.py` switched on or off through its module defaults, in a small
wrapper around `sops`), alternating with SCRAM in the same run: one extra group of columns (wall s, CPU s,
MiB, same) per variant after the first. `off` switches both optional phases off.

This is a measurement, not a test: nothing fails when a ratio is above 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
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


TIMEOUT = -1000


def isolated(cmd: list[str], timeout: float = 3600.0) -> tuple[float, float, int, float]:
    """Measure in a fresh Python so RUSAGE_CHILDREN's maximum belongs to this command alone: wall seconds,
    peak MiB, return code, CPU seconds (user + system; on a machine shared with other jobs the wall time
    grows with the load, the CPU time much less).
    Return code TIMEOUT: stopped at `timeout` seconds (a negative code is a signal, e.g. a crash)."""
    code = (
        "import resource,subprocess,sys,time;"
        "t=time.perf_counter();"
        f"r=subprocess.run({cmd!r},stdout=subprocess.DEVNULL,stderr=subprocess.PIPE,timeout={timeout!r});"
        "w=time.perf_counter()-t;"
        "u=resource.getrusage(resource.RUSAGE_CHILDREN);m=u.ru_maxrss/1024;"
        "sys.stderr.write(r.stderr.decode(errors='replace')[-2000:]);"
        "print(w,m,r.returncode,u.ru_utime+u.ru_stime)"
    )
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout + 60)
    except subprocess.TimeoutExpired:
        return timeout, math.nan, TIMEOUT, math.nan
    if "TimeoutExpired" in out.stderr:
        return timeout, math.nan, TIMEOUT, math.nan
    if out.stderr.strip():
        sys.stderr.write(out.stderr[-500:])
    wall, peak, rc, cpu = out.stdout.split()
    return float(wall), float(peak), int(rc), float(cpu)


def variant_command(sops: str, phases: str) -> list[str]:
    """The command that runs `sops` with the optional preprocessing phases as `phases` says."""
    if phases == "default":
        return [sops]
    wanted = set(phases.split("+"))
    unknown = wanted - {"merge", "decompose", "off"}
    if unknown:
        raise SystemExit(f"unknown preprocessing phase(s): {', '.join(sorted(unknown))}")
    code = (
        "import sys;import safetyops_dsl.fta.preprocess as p;"
        f"p.MERGE_COMMON_ARGS={'merge' in wanted};p.DECOMPOSE_COMMON_NODES={'decompose' in wanted};"
        "from safetyops_dsl.cli.main import main;sys.argv[0]='sops';sys.exit(main())"
    )
    return [sys.executable, "-c", code]


def in_process(files: list[str], our_args: list[str], timeout: float = 3600.0) -> float:
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
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return math.nan
    return float(out.stdout.strip() or "nan")


def _mef(gates: list[str], events: list[str], p: float) -> str:
    lines = ['<?xml version="1.0"?>', "<opsa-mef>", '<define-fault-tree name="shape">', *gates, "</define-fault-tree>"]
    lines.append("<model-data>")
    lines += [f'<define-basic-event name="{e}"><float value="{p}"/></define-basic-event>' for e in events]
    lines += ["</model-data>", "</opsa-mef>", ""]
    return "\n".join(lines)


def _ref(name: str) -> str:
    return f'<gate name="{name}"/>' if name.startswith("g") else f'<basic-event name="{name}"/>'


def chain(n: int, kinds: tuple[str, ...]) -> str:
    """g0 = kind(g1, e0), g1 = kind'(g2, e1), ...: the shape of a synthesised long signal chain."""
    gates = []
    for i in range(n):
        k = kinds[i % len(kinds)]
        inner = f"g{i + 1}" if i + 1 < n else f"e{n}"
        gates.append(f'<define-gate name="g{i}"><{k}>{_ref(inner)}{_ref(f"e{i}")}</{k}></define-gate>')
    return _mef(gates, [f"e{i}" for i in range(n + 1)], 0.001)


def nested_vote(n: int) -> str:
    """g_i = 2-of-3(g_(i+1), a_i, b_i): deep k-of-n nesting (every gate a module)."""
    gates = []
    for i in range(n):
        inner = f"g{i + 1}" if i + 1 < n else f"a{n}"
        gates.append(
            f'<define-gate name="g{i}"><atleast min="2">{_ref(inner)}{_ref(f"a{i}")}{_ref(f"b{i}")}</atleast>'
            "</define-gate>"
        )
    return _mef(gates, [f"{c}{i}" for i in range(n + 1) for c in "ab" if (c, i) != ("b", n)], 0.1)


def wide(n: int) -> str:
    """One OR gate with n event inputs."""
    body = "".join(_ref(f"e{i}") for i in range(n))
    return _mef([f'<define-gate name="g0"><or>{body}</or></define-gate>'], [f"e{i}" for i in range(n)], 1e-5)


def lattice(rows: int, width: int) -> str:
    """A diamond lattice: g_r_c = or(and(g_(r+1)_c, g_(r+1)_(c+1)), e_r_c); every inner gate is shared by two
    parents, so nothing below the top is a module. The bottom row is events."""
    gates = ['<define-gate name="g0"><and>' + "".join(_ref(f"g1_{c}") for c in range(width)) + "</and></define-gate>"]
    events = []
    for r in range(1, rows + 1):
        for c in range(width):
            below = [f"x{c}", f"x{(c + 1) % width}"] if r == rows else [f"g{r + 1}_{c}", f"g{r + 1}_{(c + 1) % width}"]
            gates.append(
                f'<define-gate name="g{r}_{c}"><or><and>{_ref(below[0])}{_ref(below[1])}</and>'
                f'{_ref(f"e{r}_{c}")}</or></define-gate>'
            )
            events.append(f"e{r}_{c}")
    events += [f"x{c}" for c in range(width)]
    return _mef(gates, events, 0.01)


def shape_cases(folder: Path, size: int) -> list[tuple[str, tuple[str, ...], list[str], list[str]]]:
    shapes = {
        f"or-chain-{size}": chain(size, ("or",)),
        f"and-or-chain-{size}": chain(size, ("or", "and")),
        f"vote-nest-{size // 4}": nested_vote(size // 4),
        "wide-or-50000": wide(50_000),
        "lattice-10x6": lattice(10, 6),
    }
    cases = []
    for name, text in shapes.items():
        path = folder / f"{name}.xml"
        path.write_text(text, encoding="utf-8")
        cases.append((name, (str(path),), IMP, ["--limit-order", "20"]))
    return cases


def aralia_cases(corpus: Path) -> list[tuple[str, tuple[str, ...], list[str], list[str]]]:
    folder = corpus / "input" / "Aralia"
    return [
        (p.stem, (str(p.relative_to(corpus)),), IMP, ["--limit-order", "20"]) for p in sorted(folder.glob("*.xml"))
    ]


def scram_results(path: str) -> dict[str, tuple[int, str]]:
    """Top event -> (products, printed probability) from SCRAM's report (read as text: it can be huge)."""
    out: dict[str, tuple[int, str]] = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return out
    for tag in re.findall(r"<sum-of-products [^>]*>", text):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', tag))
        out[attrs.get("name", "")] = (int(attrs.get("products", "0")), attrs.get("probability", ""))
    return out


def our_results(path: str) -> dict[str, tuple[int, float]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {t["name"]: (t["cut_set_count"], t["exact_probability"]) for t in data["top_events"]}


def same(scram_out: str, ours_out: str) -> str:
    theirs, ours = scram_results(scram_out), our_results(ours_out)
    if not theirs or sorted(theirs) != sorted(ours):
        return "?"
    for name, (products, printed) in theirs.items():
        count, p = ours[name]
        if count != products or not printed:
            return "no"
        want = float(printed)
        # SCRAM prints 6 significant digits
        if not math.isclose(p, want, rel_tol=6e-6, abs_tol=1e-15):
            return "no"
    return "yes"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--set", default="reference", help="comma-separated: reference, shapes, aralia")
    ap.add_argument("--only", default="", help="comma-separated case names")
    ap.add_argument("--repeat", type=int, default=3, help="runs per program and input (median wall time)")
    ap.add_argument("--size", type=int, default=10_000, help="gates of the generated chains")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per run before it is stopped")
    ap.add_argument("--phases", default="default", help="comma-separated preprocessing variants of our engine")
    ap.add_argument("--baseline", default="", help="another `sops` program (e.g. main's venv) run alternately as one more column group")
    args = ap.parse_args()
    scram = shutil.which("scram")
    if scram is None or not args.corpus.is_dir():
        print("needs SCRAM on PATH and the Open-PSA corpus", file=sys.stderr)
        return 2
    sops = str(Path(sys.executable).with_name("sops"))
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    sets = {s.strip() for s in args.set.split(",") if s.strip()}
    header = (
        f"{'input':<22} {'SCRAM s':>8} {'cpu s':>7} {'MiB':>6} {'sops s':>8} {'cpu s':>7} {'MiB':>6} {'ratio':>6} "
        f"{'cpu':>5} {'mem':>5} {'analysis s':>10} {'same':>4}"
    )
    variants = [v.strip() for v in args.phases.split(",") if v.strip()] or ["default"]
    commands = [variant_command(sops, v) for v in variants]
    if args.baseline:
        variants.append("baseline")
        commands.append([args.baseline])
    for v in variants[1:]:
        header += f" | {v[:20]:>20} {'s':>6} {'cpu s':>7} {'MiB':>6} {'same':>4}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        cases = list(CASES) if "reference" in sets else []
        if "shapes" in sets:
            cases += shape_cases(Path(tmp), args.size)
        if "aralia" in sets:
            cases += aralia_cases(args.corpus)
        for name, rel, scram_args, our_args in cases:
            if only and name.split()[0] not in only:
                continue
            files = [str(args.corpus / r) for r in rel]
            s_out, o_out = os.path.join(tmp, "scram.xml"), os.path.join(tmp, "sops.json")
            for stale in (s_out, o_out):
                if os.path.exists(stale):
                    os.remove(stale)
            s_cmd = [scram, *scram_args, "-o", s_out, *files]
            o_cmd = [*commands[0], "fta", *files, *our_args, "--format", "json", "-o", o_out]
            extra_cmds = [[*c, "fta", *files, *our_args, "--format", "json", "-o", o_out + f".{i}"] for i, c in enumerate(commands[1:])]
            runs = []
            extra_runs: list[list[tuple[float, float, int, float]]] = [[] for _ in extra_cmds]
            for _ in range(max(1, args.repeat)):
                runs.append((isolated(s_cmd, args.timeout), isolated(o_cmd, args.timeout)))
                for into, cmd in zip(extra_runs, extra_cmds, strict=True):
                    into.append(isolated(cmd, args.timeout))
            s_wall = statistics.median(s[0] for s, _ in runs)
            o_wall = statistics.median(o[0] for _, o in runs)
            s_cpu = statistics.median(s[3] for s, _ in runs)
            o_cpu = statistics.median(o[3] for _, o in runs)
            s_mem = max(s[1] for s, _ in runs)
            o_mem = max(o[1] for _, o in runs)
            s_rc = next((s[2] for s, _ in runs if s[2]), 0)  # a failed or stopped run marks the input
            o_rc = next((o[2] for _, o in runs if o[2]), 0)
            analysis = in_process(files, our_args, args.timeout) if o_rc == 0 else math.nan
            agree = same(s_out, o_out) if s_rc == 0 and o_rc == 0 else "-"

            def cell(wall: float, rc: int) -> str:
                # >T: stopped at the timeout; !: failed (an error, or a crash such as a stack overflow)
                if rc == TIMEOUT:
                    return f"{'>' + format(wall, '.0f'):>8}"
                return f"{wall:8.2f}" + ("!" if rc else "")

            print(
                f"{name:<22} {cell(s_wall, s_rc)} {s_cpu:7.2f} {s_mem:6.0f} {cell(o_wall, o_rc)} {o_cpu:7.2f} "
                f"{o_mem:6.0f} {o_wall / s_wall:6.2f} {o_cpu / s_cpu:5.2f} {o_mem / s_mem:5.2f} {analysis:10.2f} "
                f"{agree:>4}"
                + "".join(
                    f" | {'':>20} {cell(statistics.median(r[0] for r in rs), next((r[2] for r in rs if r[2]), 0))[2:]} "
                    f"{statistics.median(r[3] for r in rs):7.2f} {max(r[1] for r in rs):6.0f} "
                    f"{same(s_out, o_out + f'.{i}') if s_rc == 0 and not any(r[2] for r in rs) else '-':>4}"
                    for i, rs in enumerate(extra_runs)
                ),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
