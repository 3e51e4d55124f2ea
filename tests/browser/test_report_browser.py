"""The report site in a real headless browser (Debian `chromium`): every page loads without console
messages, its script runs, every local link resolves, and screenshots are saved in the pytest tmp folder.

Skipped when chromium (or Graphviz) is not installed; `.ci/setup` installs chromium.
"""

from __future__ import annotations

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
         "gsn.html")


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
    b.build(b.BuildOptions(paths=(str(base / "model"),)), base / "site")
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
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for k, v in attrs:
            if v is None:
                continue
            if k in ("href", "src") and tag in ("a", "link", "script", "img"):
                self.links.append(v)
            if k == "id":
                self.ids.add(v)


def test_every_local_link_resolves(site: Path) -> None:
    pages = sorted(p for p in site.rglob("*.html") if "exports" not in p.parts)
    assert len(pages) >= len(PAGES)
    ids: dict[Path, set[str]] = {}
    parsed: dict[Path, _Links] = {}
    for p in pages:
        parser = _Links()
        parser.feed(p.read_text(encoding="utf-8"))
        parsed[p] = parser
        ids[p.resolve()] = parser.ids
    checked = 0
    for p, parser in parsed.items():
        for link in parser.links:
            parts = urlsplit(link)
            assert not parts.scheme and not parts.netloc, f"{p.name}: external link {link}"
            target = (p.parent / unquote(parts.path)).resolve() if parts.path else p.resolve()
            assert target.exists(), f"{p.relative_to(site)}: broken link {link}"
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in ids.get(target, set()), f"{p.relative_to(site)}: no anchor {link}"
            if target.suffix == ".sops":
                line = int(parts.fragment.removeprefix("L"))
                assert 1 <= line <= len(target.read_text(encoding="utf-8").splitlines())
            checked += 1
    assert checked > 100


def test_screenshots(site: Path, tmp_path: Path) -> None:
    for page in ("index.html", "fta/H1.html", "fmea.html"):
        shot = tmp_path / (page.replace("/", "_").removesuffix(".html") + ".png")
        done = run_chromium(tmp_path, (site / page).as_uri(), f"--screenshot={shot}")
        assert done.returncode == 0, done.stderr[-2000:]
        assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
        print(f"screenshot of {page}: {shot}")
