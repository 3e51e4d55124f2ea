"""Cost of the report site itself on a generated model: pages, rendered model files, search index, single file.

    python benchmarks/site.py [--components 1000] [--per-file 10]

The model comes from benchmarks/scale.py's generator (one system, hazard, goal and requirement per file, so
--per-file 10 gives 100 hazards for 1,000 components). The analyses run once (`analyse`); the site is then
rendered from them without fault-tree diagrams (drawing is Graphviz's time, measured by `sops build`), so
the figures are what generators/site.py adds. Prints seconds, sizes, and the site's time as a ratio of the
analyses' time, which is steadier than seconds on a shared machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from safetyops_dsl.generators import site, tables  # noqa: E402
from scale import generate  # noqa: E402

from safetyops_dsl import build as b  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--components", type=int, default=1000)
    ap.add_argument("--per-file", type=int, default=10)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sops-site-")) / "model"
    lines = generate(folder, args.components, args.per_file)
    t0 = time.perf_counter()
    a = b.analyse(b.BuildOptions(paths=(str(folder),)), with_gsn=False)
    t1 = time.perf_counter()
    data = site.SiteData(
        model=a.model, out_dir=folder.parent / "out", version="bench", title="model",
        checked_files=a.checked.file_count, check_diagnostics=[], diagnostics=[], trees=[],
        goal_checks=list(a.goal_checks), fmea=tables.fmea_document(a.fmea), fmeda=tables.fmeda_document(a.fmeda),
        fmeda_report=a.fmeda, hara=tables.hara_document(a.hara), hara_table=a.hara, trace=a.trace,
        coverage=a.coverage, gate=[], gate_passed=True, sources=dict(a.checked.sources))
    t2 = time.perf_counter()
    pages = site.render_site(data)
    t3 = time.perf_counter()
    one = site.render_single_file(pages, data)
    t4 = time.perf_counter()
    src_bytes = sum(len(text.encode("utf-8")) for path, text in pages.items() if path.startswith("src/"))
    index = pages[site.SEARCH_INDEX]
    entries = index.count('"id":')
    print(f"model: {args.components} components, {len(a.model.hazards)} hazards, {lines} lines in "
          f"{a.checked.file_count} files, {len(a.fmea.rows)} failure modes")
    print(f"analyses            {t1 - t0:7.2f} s")
    print(f"site pages          {t3 - t2:7.2f} s   {len(pages)} files, model files {src_bytes / 1e6:.1f} MB")
    print(f"search index        {len(index.encode('utf-8')) / 1e3:7.0f} kB  {entries} entries")
    print(f"single file         {t4 - t3:7.2f} s   {len(one.encode('utf-8')) / 1e6:.1f} MB")
    print(f"site / analyses     {(t3 - t2) / (t1 - t0):7.2f}")


if __name__ == "__main__":
    main()
