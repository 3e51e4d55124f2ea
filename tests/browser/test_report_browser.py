"""The report site in a real headless browser (Debian `chromium`): every page loads without console
messages, its script runs, every link stays inside the output folder and lands on an existing anchor (source
links on a line of the rendered model file), every table row has an anchor, search finds elements by id
and by a word of their title, the single-file report works alone, and screenshots are saved in the pytest
tmp folder.

Skipped when chromium (or Graphviz) is not installed; `.ci/setup` installs chromium.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from safetyops_dsl import build as b

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("index.html", "hazards.html", "fta/H1.html", "fmea.html", "fmeda.html", "hara.html", "trace.html",
         "gsn.html", "src/safety.sops.html", "report.html")


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    base = tmp_path_factory.mktemp("browser")
    shutil.copytree(ROOT / "models" / "aeb", base / "model")
    b.build(b.BuildOptions(paths=(str(base / "model"),), single_file=True), base / "site")
    return base / "site"


def run_chromium(tmp: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", f"--user-data-dir={tmp / 'profile'}",
        "--enable-logging=stderr", "--v=0", "--window-size=1400,1000", *args, url,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


CONSOLE = re.compile(r":CONSOLE[^\]]*\]\s*(.*)")


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_without_console_messages(site: Path, page: str, tmp_path: Path) -> None:
    done = run_chromium(tmp_path, (site / page).as_uri(), "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    console = CONSOLE.findall(done.stderr)
    assert not console, console
    dom = done.stdout
    assert "</html>" in dom
    # the script ran: sortable headers became focusable, zoom boxes got a transform
    if 'class="data sortable"' in dom:
        assert 'tabindex="0"' in dom
    if 'class="zoom-stage"' in dom:
        assert re.search(r'class="zoom-stage" style="transform: translate\(', dom)


class _Links(HTMLParser):
    """Links (href, src, xlink:href of any element: SVG nodes link too), ids, and table rows without an id."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.body_rows = 0
        self.rows_without_id: list[str] = []
        self.in_body = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for k, v in attrs:
            if v is None:
                continue
            if k in ("href", "src", "xlink:href"):
                self.links.append(v)
            if k == "id":
                self.ids.add(v)
        if tag == "tbody":
            self.in_body += 1
        elif tag == "tr" and self.in_body:
            self.body_rows += 1
            if not found.get("id"):
                self.rows_without_id.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self.in_body -= 1


def test_every_local_link_resolves(site: Path) -> None:
    pages = sorted(p for p in site.rglob("*.html") if "exports" not in p.parts and p.name != "report.html")
    assert len(pages) >= len(PAGES) - 1
    ids: dict[Path, set[str]] = {}
    parsed: dict[Path, _Links] = {}
    for p in pages:
        parser = _Links()
        parser.feed(p.read_text(encoding="utf-8"))
        parsed[p] = parser
        ids[p.resolve()] = parser.ids
    checked = lines = 0
    for p, parser in parsed.items():
        for link in parser.links:
            parts = urlsplit(link)
            assert not parts.scheme and not parts.netloc, f"{p.name}: external link {link}"
            target = (p.parent / unquote(parts.path)).resolve() if parts.path else p.resolve()
            assert target.is_relative_to(site.resolve()), f"{p.relative_to(site)}: link leaves the site: {link}"
            assert target.exists(), f"{p.relative_to(site)}: broken link {link}"
            assert target.suffix != ".sops", f"{p.relative_to(site)}: links the raw model file: {link}"
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in ids.get(target, set()), f"{p.relative_to(site)}: no anchor {link}"
            if target.parent.name == "src" or "src" in target.relative_to(site.resolve()).parts[:1]:
                lines += parts.fragment.startswith("L")
            checked += 1
    assert checked > 300
    assert lines > 50  # file:line links land on a line anchor of the rendered model file


def test_every_table_row_has_an_anchor(site: Path) -> None:
    rows = 0
    for p in sorted(site.rglob("*.html")):
        if p.name == "report.html" or ("exports" in p.parts and p.stem not in ("fmea", "fmeda", "hara")):
            continue  # exports/trace.html is sops trace's report
        parser = _Links()
        parser.feed(p.read_text(encoding="utf-8"))
        assert not parser.rows_without_id, (p.relative_to(site), parser.rows_without_id[:3])
        rows += parser.body_rows
    assert rows > 200


def _hits(dom: str) -> list[str]:
    """The links of the search box's result list in a dumped DOM."""
    m = re.search(r'<ol class="hits"[^>]*>(.*?)</ol>', dom, re.S)
    assert m, "no result list in the page"
    return re.findall(r'<a href="([^"]*)">', m.group(1))


@pytest.mark.parametrize(("page", "query", "expected"), [
    ("index.html", "TSR1", "trace.html#req-TSR1"),  # by id
    ("index.html", "lockstep", "trace.html#req-TSR1"),  # by a word of its title
    ("fta/H1.html", "crossing pedestrian", "../hazards.html#hz-H1"),  # two words, from a page in a folder
    ("index.html", "MissedDetection", "fmea.html#fm-AEB.perception.MissedDetection"),  # a failure mode
    ("trace.html", "sg1", "hazards.html#sg-SG1"),  # any case
])
def test_search_finds_elements(site: Path, tmp_path: Path, page: str, query: str, expected: str) -> None:
    done = run_chromium(tmp_path, (site / page).as_uri() + "?q=" + query.replace(" ", "+"), "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    hits = _hits(done.stdout)
    assert expected in hits, hits
    if query.upper() == expected.rsplit("-", 1)[-1].upper():
        assert hits[0] == expected  # an exact id comes first


def test_search_index_covers_every_element(site: Path) -> None:
    text = (site / "assets" / "search-index.js").read_text(encoding="utf-8")
    entries = json.loads(text.removeprefix("window.sopsSearchIndex = ").rstrip(";\n"))
    ids = {e["id"] for e in entries}
    for name in ("H1", "SG1", "FSR1", "TSR1", "TST_WD", "MET_REC", "Perception", "AEB.ecu.CPUFault", "G0"):
        assert name in ids, name
    assert all(not urlsplit(e["href"]).scheme for e in entries)


def test_single_file_works_alone(site: Path, tmp_path: Path) -> None:
    alone = tmp_path / "alone" / "report.html"
    alone.parent.mkdir()
    shutil.copy(site / "report.html", alone)  # without the folder
    text = alone.read_text(encoding="utf-8")
    parser = _Links()
    parser.feed(text)
    assert parser.links and all(link.startswith("#") for link in parser.links), \
        [link for link in parser.links if not link.startswith("#")][:5]
    missing = sorted({link[1:] for link in parser.links} - parser.ids)
    assert not missing, missing[:5]
    assert text.count("<svg") >= 4 + 1  # every fault tree and the GSN diagrams, inline
    assert "#p-src-safety-sops--L44" in text  # a file:line lands on its line here too
    done = run_chromium(tmp_path, alone.as_uri() + "?q=SG1", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert not CONSOLE.findall(done.stderr)
    assert _hits(done.stdout)[0] == "#p-hazards--sg-SG1"


def test_screenshots(site: Path, tmp_path: Path) -> None:
    for page in ("index.html", "fta/H1.html", "fmea.html"):
        shot = tmp_path / (page.replace("/", "_").removesuffix(".html") + ".png")
        done = run_chromium(tmp_path, (site / page).as_uri(), f"--screenshot={shot}")
        assert done.returncode == 0, done.stderr[-2000:]
        assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
        print(f"screenshot of {page}: {shot}")
