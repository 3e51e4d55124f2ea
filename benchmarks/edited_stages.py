"""Where the CPU of an edited re-check goes, stage by stage, for two installations run alternately.

    python benchmarks/edited_stages.py [--types 10000] [--rounds 8] [--baseline OTHER/.venv/bin/python]

A model of `--types` component types (benchmarks/scale.py's generator, 250 a file) is written once and
copied for each installation, whose own cache folder is filled by a first check. Then, each round and
each installation in turn: a comment is appended to the model's first file (as scale.py's `edited` run
does) and `api.check` runs in a fresh interpreter with timers around the loader's reads of cache entries
(`_read_entry`, built files and stored validation results), the parse and build of the edited file, the
assembly, `incremental.validate` and, within these, the components unpickled as they are used
(parse/lazy_components.py, where the installation has it). Printed: the median (min-max) CPU seconds of each stage and of the
whole check, imports of `api` excluded. On a loaded machine the stages separate what the totals cannot:
the reads of the unchanged files move by a quarter of a second from run to run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import generate  # noqa: E402

CHILD = textwrap.dedent(
    """
    import json, sys, time
    from safetyops_dsl.api import check
    import safetyops_dsl.api as api
    from safetyops_dsl.parse import loader
    from safetyops_dsl.validation import incremental
    spent = {}
    def timed(module, name, stage):
        inner = getattr(module, name)
        def run(*args, **kwargs):
            t = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[stage] = spent.get(stage, 0.0) + time.process_time() - t
        setattr(module, name, run)
    timed(loader, "_read_entry", "cache reads")
    timed(loader, "_parse_and_build", "parse edited")
    timed(api, "assemble", "assemble")
    timed(incremental, "validate", "validate")
    try:  # components of the cache folder unpickled as they are used (not in every installation)
        from safetyops_dsl.parse import lazy_components
        timed(lazy_components, "_load", "lazy loads")
    except ImportError:
        pass
    t = time.process_time()
    r = check([sys.argv[1]], cache_dir=sys.argv[2])
    spent["check"] = time.process_time() - t
    spent["diagnostics"] = len(r.diagnostics)
    print(json.dumps(spent))
    """
)
STAGES = ("cache reads", "parse edited", "assemble", "validate", "lazy loads", "check")


def run(python: str, model: Path, cache: Path) -> dict[str, float]:
    # -P: `-c` would put the working directory first on sys.path (from a checkout, the baseline's python would
    # import this checkout's package)
    proc = subprocess.run([python, "-P", "-c", CHILD, str(model), str(cache)], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child failed:\n{proc.stderr}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--types", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--baseline", default="", help="another installation's python, run alternately with this one")
    args = ap.parse_args()
    pythons = {"baseline": args.baseline, "this": sys.executable} if args.baseline else {"this": sys.executable}
    tmp = Path(tempfile.mkdtemp(prefix="sops-edited-"))
    try:
        generate(tmp / "model", args.types, 250)
        for name, python in pythons.items():
            shutil.copytree(tmp / "model", tmp / f"model-{name}")
            run(python, tmp / f"model-{name}", tmp / f"cache-{name}")  # fill the cache
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in pythons}
        for _ in range(args.rounds):
            for name, python in pythons.items():
                with open(tmp / f"model-{name}" / "chunk_0000.sops", "a", encoding="utf-8") as fh:
                    fh.write(f"// edit {time.perf_counter_ns()}\n")
                runs[name].append(run(python, tmp / f"model-{name}", tmp / f"cache-{name}"))
        print(f"{args.types} types, one file edited, CPU seconds in api.check: median (min-max) of {args.rounds}")
        print(f"{'stage':<14}" + "".join(f"{name:>22}" for name in pythons))
        for stage in STAGES:
            cells = []
            for name in pythons:
                values = [r.get(stage, 0.0) for r in runs[name]]
                cells.append(f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})")
            print(f"{stage:<14}" + "".join(f"{c:>22}" for c in cells))
        diags = {name: {r["diagnostics"] for r in rs} for name, rs in runs.items()}
        print("diagnostics:", diags)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
