"""Running Graphviz: DOT text in, sanitised SVG out. Every diagram of sops (fault trees, GSN, trace) goes
through :func:`render`, and a batch of them through :func:`render_all`, which runs `dot` processes in
parallel and turns a diagram that cannot be drawn into a note instead of an error.

`render` runs `dot -Tsvg` with a timeout, lets the generator post-process the parsed SVG (fault-tree
symbols, GSN marks), strips anything executable, and serialises with the conventional namespace prefixes.
The SVG carries no Graphviz version comment, no DOCTYPE and no timestamps: same DOT, same Graphviz, same
bytes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
# A layout Graphviz has not finished in this time will not be readable either (the 40-hazard trace graph
# took 24 s and came out 219,704 pt tall); the build shows a note instead and carries on.
TIMEOUT_S = 120.0

PostProcess = Callable[[ET.Element], None]


class GraphvizError(RuntimeError):
    """`dot` is missing, failed, timed out or wrote something that is not SVG."""


def run_dot(dot_source: str, timeout: float = TIMEOUT_S) -> str:
    """The raw SVG text of `dot -Tsvg`."""
    program = shutil.which("dot")
    if program is None:
        raise GraphvizError("Graphviz `dot` is not installed (Debian/Ubuntu: apt-get install graphviz)")
    try:
        proc = subprocess.run([program, "-Tsvg"], input=dot_source.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise GraphvizError(f"dot did not finish within {timeout:g} s") from exc
    except OSError as exc:
        raise GraphvizError(f"dot could not be started: {exc}") from exc
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip() or f"exit status {proc.returncode}"
        raise GraphvizError(f"dot failed: {message}")
    return proc.stdout.decode("utf-8")


_DANGEROUS_TAGS = {"script", "foreignObject", "iframe", "object", "embed"}


def sanitise(root: ET.Element) -> None:
    """Defence in depth: Graphviz emits no script, and labels are escaped, but the SVG may be embedded in
    HTML reports, so strip anything executable should a future Graphviz or attribute ever produce it."""
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag.rsplit("}", 1)[-1] in _DANGEROUS_TAGS:
                parent.remove(child)
    for element in root.iter():
        for key in list(element.attrib):
            local = key.rsplit("}", 1)[-1]
            value = element.attrib[key].strip().lower()
            if local.lower().startswith("on") or (
                local == "href" and value.startswith(("javascript:", "data:"))
            ):
                del element.attrib[key]


def plain_names(root: ET.Element) -> None:
    """Serialise with the conventional `xmlns` / `xlink:` spelling. ElementTree would otherwise invent
    `ns0:` prefixes, and its namespace registry is process-global, which a library should not change."""
    prefixes = {SVG_NS: "", XLINK_NS: "xlink:"}
    for element in root.iter():
        if element.tag.startswith("{"):
            uri, local = element.tag[1:].split("}", 1)
            element.tag = prefixes.get(uri, "") + local
        for key in [k for k in element.attrib if k.startswith("{")]:
            uri, local = key[1:].split("}", 1)
            element.attrib[prefixes.get(uri, "") + local] = element.attrib.pop(key)
    root.set("xmlns", SVG_NS)
    root.set("xmlns:xlink", XLINK_NS)


def _serialise(root: ET.Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render(dot_source: str, post: PostProcess | None = None, timeout: float = TIMEOUT_S) -> str:
    """DOT -> SVG. Raises GraphvizError when it cannot be drawn."""
    raw = run_dot(dot_source, timeout)
    try:
        root = SafeET.fromstring(raw)
    except ET.ParseError as exc:
        raise GraphvizError(f"dot wrote no readable SVG: {exc}") from exc
    if post is not None:
        post(root)
    sanitise(root)
    plain_names(root)
    return _serialise(root)


_RELATIVE = r"(?![#/]|[A-Za-z][A-Za-z0-9+.-]*:)"  # not a fragment, absolute path or scheme
_RELATIVE_HREF = re.compile(r'((?:xlink:)?href=")' + _RELATIVE)


def rebase_url(url: str, prefix: str) -> str:
    return prefix + url if prefix and re.match(_RELATIVE, url) else url


def rebase_links(svg: str, prefix: str) -> str:
    """The SVG with `prefix` put before every relative link: a diagram drawn with links relative to the
    page that shows it, saved as a file in another folder (`gsn/x.svg` of `gsn.html`: prefix "../")."""
    return _RELATIVE_HREF.sub(lambda m: m.group(1) + prefix, svg) if prefix else svg


def unbase_links(svg: str, prefix: str) -> str:
    """The inverse of :func:`rebase_links` (for a build reusing the SVG files of the previous one)."""
    if not prefix:
        return svg
    pattern = re.compile(r'((?:xlink:)?href=")' + re.escape(prefix) + _RELATIVE)
    return pattern.sub(lambda m: m.group(1), svg)


def note_svg(title: str, message: str) -> str:
    """What stands in a page where a diagram could not be drawn: a small SVG saying so and why, so that the
    page, its links and the rest of the build stay intact."""
    lines = [title, *[message[i:i + 100] for i in range(0, min(len(message), 600), 100)]]
    width, height = 720, 24 + 16 * len(lines)
    root = ET.Element(f"{{{SVG_NS}}}svg", {"width": f"{width}pt", "height": f"{height}pt",
                                           "viewBox": f"0 0 {width} {height}", "class": "diagram-note"})
    ET.SubElement(root, f"{{{SVG_NS}}}rect", {"x": "1", "y": "1", "width": str(width - 2), "height": str(height - 2),
                                              "fill": "#fff7d6", "stroke": "#8c6d1f"})
    for i, line in enumerate(lines):
        text = ET.SubElement(root, f"{{{SVG_NS}}}text", {
            "x": "12", "y": str(22 + 16 * i), "font-family": "Helvetica,sans-Serif",
            "font-size": "12" if i == 0 else "10", "font-weight": "bold" if i == 0 else "normal"})
        text.text = line
    plain_names(root)
    return _serialise(root)


@dataclass(frozen=True)
class Job:
    """One diagram to draw. `key` names it in notes and progress (e.g. its output path)."""

    key: str
    dot: str
    post: PostProcess | None = None


@dataclass(frozen=True)
class Drawn:
    key: str
    svg: str
    error: str = ""  # why the diagram is a note instead


def draw(job: Job, timeout: float = TIMEOUT_S) -> Drawn:
    try:
        return Drawn(job.key, render(job.dot, job.post, timeout))
    except GraphvizError as exc:
        return Drawn(job.key, note_svg(f"{job.key}: this diagram could not be drawn", str(exc)), str(exc))


_BATCH_GRAPH_ID = re.compile(r"^page\d+,\d+_graph0$")


def _finish(job: Job, raw: str) -> Drawn:
    try:
        root = SafeET.fromstring(raw)
    except ET.ParseError as exc:
        return Drawn(job.key, note_svg(f"{job.key}: this diagram could not be drawn", str(exc)), str(exc))
    for group in root.iter(f"{{{SVG_NS}}}g"):
        # `dot` numbers the later graphs of one input as pages ("page0,1_graph0"); the same diagram must
        # have the same bytes however it was batched
        if _BATCH_GRAPH_ID.match(group.get("id", "")):
            group.set("id", "graph0")
        break
    if job.post is not None:
        job.post(root)
    sanitise(root)
    plain_names(root)
    return Drawn(job.key, _serialise(root))


_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'


def draw_batch(jobs: Sequence[Job], timeout: float = TIMEOUT_S) -> list[Drawn]:
    """Several diagrams through one `dot` process (it lays out every graph of its input in turn): starting
    `dot` costs about 20 ms of CPU, most of a small diagram's time. Should the batch fail, each diagram is
    drawn on its own, so that only the one that cannot be drawn becomes a note."""
    if len(jobs) == 1:
        return [draw(jobs[0], timeout)]
    try:
        raw = run_dot("".join(job.dot for job in jobs), timeout)
    except GraphvizError:
        return [draw(job, timeout) for job in jobs]
    parts = [p for p in raw.split(_XML_DECL) if p.strip()]
    if len(parts) != len(jobs):
        return [draw(job, timeout) for job in jobs]
    return [_finish(job, part) for job, part in zip(jobs, parts, strict=True)]


def workers() -> int:
    """As many `dot` processes as CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# A DOT source longer than this is laid out alone (a large layout would hold up the small ones behind it).
BATCH_ALONE_CHARS = 40_000
BATCH_MAX = 32


def _batches(jobs: Sequence[Job], count: int) -> list[list[Job]]:
    size = max(1, min(BATCH_MAX, -(-len(jobs) // (4 * count))))  # a few batches per worker, for balance
    out: list[list[Job]] = []
    current: list[Job] = []
    for job in jobs:
        if len(job.dot) > BATCH_ALONE_CHARS:
            out.append([job])
            continue
        current.append(job)
        if len(current) == size:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def render_all(jobs: Sequence[Job], max_workers: int | None = None, timeout: float = TIMEOUT_S) -> Iterator[Drawn]:
    """Draw every job, in batches through `max_workers` `dot` processes at a time (default: one per CPU);
    results come in job order. Threads suffice: the layout runs in the `dot` child processes, truly in
    parallel."""
    count = max_workers or workers()
    batches = _batches(jobs, count)
    position = {id(job): i for i, job in enumerate(jobs)}
    drawn: dict[int, Drawn] = {}
    next_index = 0
    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(draw_batch, b, timeout) for b in batches]
        for batch, future in zip(batches, futures, strict=True):
            for job, d in zip(batch, future.result(), strict=True):
                drawn[position[id(job)]] = d
            while next_index in drawn:  # in job order, as soon as each is there
                yield drawn.pop(next_index)
                next_index += 1
