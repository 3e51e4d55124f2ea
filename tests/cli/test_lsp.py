"""`sops lsp` as an editor drives it: real JSON-RPC over the stdio of `python -m safetyops_dsl lsp`.

Every wait is bounded (TIMEOUT), and the process is killed in teardown, so a hang fails fast.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30.0  # seconds for any one answer; the first check includes importing textX and the grammar

SYSTEM = """package demo

component Sensor "Wheel-speed sensor" {
    out speed
    failure Dead rate 50 FIT "no signal"
    mechanism Plaus covers Dead coverage 90 %
    speed.omission <- Dead
}

system Brake "Brake-by-wire" {
    out cmd
    part sensor : Sensor
    connect sensor.speed -> cmd
}
"""

SAFETY = """package demo

hazard H1 "Loss of braking" {
    severity S3  exposure E4  controllability C2
    when cmd.omission
}

safety_goal SG1 "Avoid loss of braking" mitigates REF {
    target 1e-7 per h
}

requirement FSR1 "The sensor reports a dead signal" refines SG1 allocated_to sensor asil C

evidence T1 test "tests/test_sensor.py::test_dead" verifies FSR1
"""


class Client:
    """A minimal LSP client: Content-Length framing, requests matched by id, notifications queued."""

    def __init__(self, cwd: Path):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("SOPS_CACHE_DIR", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "safetyops_dsl", "lsp"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env,
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.notifications: list[dict[str, Any]] = []
        self.next_id = 0
        assert self.proc.stdout is not None
        self.reader = threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True)
        self.reader.start()

    def _read(self, stream: IO[bytes]) -> None:
        while True:
            headers: dict[str, str] = {}
            while True:
                line = stream.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode("ascii").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = stream.read(int(headers["content-length"]))
            self.messages.put(json.loads(body))

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body)
        self.proc.stdin.flush()

    def _next(self, deadline: float) -> dict[str, Any]:
        try:
            return self.messages.get(timeout=max(deadline - time.monotonic(), 0.001))
        except queue.Empty:
            logs = [m["params"]["message"] for m in self.notifications if m.get("method") == "window/logMessage"]
            raise AssertionError(f"timed out waiting for the language server; its log: {logs}") from None

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        rid = self.next_id
        self.send({"id": rid, "method": method, "params": params})
        deadline = time.monotonic() + TIMEOUT
        while True:
            msg = self._next(deadline)
            if msg.get("id") == rid and "method" not in msg:
                assert "error" not in msg, msg["error"]
                return msg.get("result")
            if "method" in msg and "id" in msg:  # a request from the server (e.g. registration): accept it
                self.send({"id": msg["id"], "result": None})
            else:
                self.notifications.append(msg)

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def diagnostics(self, uri: str, accept: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
        """The first publishDiagnostics for `uri` that `accept`s, from what has arrived or arrives next."""
        deadline = time.monotonic() + TIMEOUT
        pending = list(self.notifications)
        self.notifications.clear()
        while True:
            msg = pending.pop(0) if pending else self._next(deadline)
            if msg.get("method") == "textDocument/publishDiagnostics" and msg["params"]["uri"] == uri:
                diags: list[dict[str, Any]] = msg["params"]["diagnostics"]
                if accept(diags):
                    return diags
            elif "method" in msg and "id" in msg:
                self.send({"id": msg["id"], "result": None})
            else:
                self.notifications.append(msg)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    c = Client(tmp_path)
    try:
        yield c
    finally:
        if c.proc.poll() is None:
            c.proc.kill()
        c.proc.wait(timeout=TIMEOUT)
        for stream in (c.proc.stdin, c.proc.stdout, c.proc.stderr):
            if stream is not None:
                stream.close()


def position_of(text: str, needle: str, occurrence: int = 0, offset: int = 0) -> dict[str, int]:
    at = -1
    for _ in range(occurrence + 1):
        at = text.index(needle, at + 1)
    at += offset
    line = text.count("\n", 0, at)
    return {"line": line, "character": at - (text.rfind("\n", 0, at) + 1)}


def test_lsp_session(client: Client, tmp_path: Path) -> None:
    model = tmp_path / "brake"
    model.mkdir()
    (model / "system.sops").write_text(SYSTEM, encoding="utf-8")
    safety = model / "safety.sops"
    broken = SAFETY.replace("REF", "H11")
    safety.write_text(broken, encoding="utf-8")
    uri = safety.resolve().as_uri()
    system_uri = (model / "system.sops").resolve().as_uri()

    init = client.request("initialize", {
        "processId": os.getpid(), "rootUri": tmp_path.resolve().as_uri(), "capabilities": {},
        "workspaceFolders": [{"uri": tmp_path.resolve().as_uri(), "name": "t"}],
    })
    caps = init["capabilities"]
    assert caps["textDocumentSync"]["change"] == 1  # full sync
    for cap in ("definitionProvider", "referencesProvider", "hoverProvider", "completionProvider"):
        assert caps.get(cap), cap
    client.notify("initialized", {})

    # didOpen a file with an unknown hazard: SOPS011 covering exactly `H11` (and H1 now lacks a goal)
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "sops", "version": 1, "text": broken}})
    diags = client.diagnostics(uri, lambda ds: bool(ds))
    assert sorted(d["code"] for d in diags) == ["SOPS011", "SOPS061"]
    diags = [d for d in diags if d["code"] == "SOPS011"]
    start = position_of(broken, "mitigates H11", offset=len("mitigates "))
    assert diags[0]["range"] == {"start": start, "end": {**start, "character": start["character"] + 3}}
    assert diags[0]["severity"] == 1 and diags[0]["source"] == "sops"
    assert "unknown hazard 'H11'" in diags[0]["message"] and "did you mean 'H1'?" in diags[0]["message"]

    # didChange fixing it: the file's diagnostics become empty
    fixed = SAFETY.replace("REF", "H1")
    client.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]})
    assert client.diagnostics(uri, lambda ds: not ds) == []

    # definition of the hazard named after `mitigates` -> its declaration
    use = position_of(fixed, "mitigates H1", offset=len("mitigates ") + 1)
    loc = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": use})
    decl = position_of(fixed, "H1")
    assert loc["uri"] == uri
    assert loc["range"] == {"start": decl, "end": {**decl, "character": decl["character"] + 2}}

    # definition across files: the part named in `allocated_to` -> `part sensor` in system.sops
    alloc = position_of(fixed, "allocated_to sensor", offset=len("allocated_to "))
    loc = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": alloc})
    assert loc["uri"] == system_uri
    assert loc["range"]["start"] == position_of(SYSTEM, "part sensor", offset=len("part "))

    # references of the port `cmd`: its declaration, the connection, the hazard condition
    refs = client.request("textDocument/references", {
        "textDocument": {"uri": uri}, "position": position_of(fixed, "cmd.omission"),
        "context": {"includeDeclaration": True}})
    found = sorted((r["uri"], r["range"]["start"]["line"], r["range"]["start"]["character"]) for r in refs)
    assert found == sorted([
        (system_uri, *position_of(SYSTEM, "out cmd", offset=4).values()),
        (system_uri, *position_of(SYSTEM, "-> cmd", offset=3).values()),
        (uri, *position_of(fixed, "cmd.omission").values()),
    ])

    # hover on the hazard: its derived ASIL and its goal
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": decl})
    assert hover["contents"]["kind"] == "markdown"
    text = hover["contents"]["value"]
    assert "ASIL **C**" in text and "S3 E4 C2" in text and "`SG1`" in text

    # hover on a failure mode used in another file's rule: residual rate and the hazard it reaches
    dead = position_of(SYSTEM, "<- Dead", offset=3)
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": system_uri, "languageId": "sops", "version": 1, "text": SYSTEM}})
    hover = client.request("textDocument/hover", {"textDocument": {"uri": system_uri}, "position": dead})
    text = hover["contents"]["value"]
    assert "residual rate" in text and "5e-09 /h" in text and "`H1` via Brake.sensor.Dead" in text

    # completion after `mitigates ` (the file does not parse meanwhile) offers the hazards
    typing = fixed + 'safety_goal SG2 "Never lose braking" mitigates '
    client.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": typing}]})
    end = position_of(typing, "mitigates ", occurrence=1, offset=len("mitigates "))
    result = client.request("textDocument/completion", {"textDocument": {"uri": uri}, "position": end})
    assert [i["label"] for i in result["items"]] == ["H1"]

    # completion of a part's ports after `part.` in a connection
    wiring = SYSTEM.replace("    connect sensor.speed -> cmd\n", "    connect sensor.")
    client.notify("textDocument/didChange", {
        "textDocument": {"uri": system_uri, "version": 2}, "contentChanges": [{"text": wiring}]})
    at = position_of(wiring, "connect sensor.", offset=len("connect sensor."))
    result = client.request("textDocument/completion", {"textDocument": {"uri": system_uri}, "position": at})
    assert [i["label"] for i in result["items"]] == ["speed"]

    assert client.request("shutdown", None) is None
    client.notify("exit", None)
    assert client.proc.wait(timeout=TIMEOUT) == 0


def test_unsaved_file_and_other_files_get_diagnostics(client: Client, tmp_path: Path) -> None:
    """A buffer not yet on disk is checked with its folder; a break it causes in another file is published
    for that file."""
    (tmp_path / "system.sops").write_text(SYSTEM, encoding="utf-8")
    system_uri = (tmp_path / "system.sops").resolve().as_uri()
    uri = (tmp_path / "safety.sops").resolve().as_uri()  # never written to disk
    client.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    client.notify("initialized", {})
    # a second component Sensor in package demo: safety.sops sorts first, so system.sops has the duplicate
    text = SAFETY.replace("REF", "H1") + "\ncomponent Sensor {\n}\n"
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "sops", "version": 1, "text": text}})
    diags = client.diagnostics(system_uri, lambda ds: bool(ds))
    dup = [d for d in diags if d["code"] == "SOPS010"]
    assert len(dup) == 1 and "already defined" in dup[0]["message"]
    assert dup[0]["range"]["start"] == position_of(SYSTEM, "component Sensor")
    # removing the duplicate clears system.sops again
    client.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": SAFETY.replace("REF", "H1")}]})
    assert client.diagnostics(system_uri, lambda ds: not ds) == []
    assert client.request("shutdown", None) is None
    client.notify("exit", None)
    assert client.proc.wait(timeout=TIMEOUT) == 0
