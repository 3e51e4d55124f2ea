"""`sops lsp` under protocol faults, driven over raw stdio: every request gets an answer (a result or a
JSON-RPC error), and a frame with a wrong Content-Length loses neither itself nor the next message.

Every wait is bounded (TIMEOUT) and the process is killed in teardown, so a hang fails fast.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

TIMEOUT = 30.0
MODEL = 'component C "x" {\n    out o\n    failure F rate 1 FIT\n    o.omission <- F\n}\n'


class RawClient:
    def __init__(self, cwd: Path):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("SOPS_CACHE_DIR", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "safetyops_dsl", "lsp"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd, env=env,
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        while True:
            headers: dict[str, str] = {}
            while True:
                line = stream.readline()
                if not line:
                    return
                if not line.strip():
                    break
                name, _, value = line.decode("ascii").partition(":")
                headers[name.strip().lower()] = value.strip()
            self.messages.put(json.loads(stream.read(int(headers["content-length"]))))

    def raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def frame(self, message: dict[str, Any], length_delta: int = 0) -> bytes:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        return f"Content-Length: {len(body) + length_delta}\r\n\r\n".encode("ascii") + body

    def send(self, message: dict[str, Any], length_delta: int = 0) -> None:
        self.raw(self.frame(message, length_delta))

    def answer(self, rid: Any) -> dict[str, Any]:
        """The response with id `rid` (result or error), from what arrived or arrives within TIMEOUT."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            for m in self.seen:
                if m.get("id") == rid and "method" not in m:
                    self.seen.remove(m)
                    return m
            try:
                m = self.messages.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                raise AssertionError(f"no answer to request {rid!r} within {TIMEOUT} s") from None
            if "method" in m and "id" in m:  # a request from the server: accept it
                self.send({"id": m["id"], "result": None})
            else:
                self.seen.append(m)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[RawClient, str]]:
    (tmp_path / "m.sops").write_text(MODEL, encoding="utf-8")
    c = RawClient(tmp_path)
    try:
        c.send({"id": 0, "method": "initialize", "params": {
            "processId": None, "rootUri": tmp_path.resolve().as_uri(), "capabilities": {}}})
        assert "result" in c.answer(0)
        c.send({"method": "initialized", "params": {}})
        uri = (tmp_path / "m.sops").resolve().as_uri()
        c.send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "sops", "version": 1, "text": MODEL}}})
        yield c, uri
    finally:
        if c.proc.poll() is None:
            c.proc.kill()
        c.proc.wait(timeout=TIMEOUT)
        for stream in (c.proc.stdin, c.proc.stdout):
            if stream is not None:
                stream.close()


def hover(uri: Any, line: int = 3, character: int = 19) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}


def assert_hover_works(c: RawClient, uri: str, rid: int) -> None:
    c.send({"id": rid, "method": "textDocument/hover", "params": hover(uri)})
    answer = c.answer(rid)
    assert "error" not in answer, answer
    assert "F" in answer["result"]["contents"]["value"]  # the failure mode under the cursor


@pytest.mark.parametrize(("method", "params", "says"), [
    ("textDocument/hover", {"textDocument": 5, "position": {"line": 0, "character": 0}}, "uri"),
    ("textDocument/hover", hover("URI", line=-1), "Position.line"),
    ("textDocument/definition", hover("URI", character=-3), "Position.character"),
    ("textDocument/completion", {"textDocument": "x"}, ""),
    ("textDocument/references", hover("URI"), "context"),  # context is required
    ("textDocument/hover", None, ""),
    ("textDocument/hover", [1, 2], ""),
])
def test_invalid_params_get_error_32602(client: tuple[RawClient, str], method: str, params: Any, says: str) -> None:
    c, uri = client
    params = json.loads(json.dumps(params).replace('"URI"', json.dumps(uri)))
    c.send({"id": 7, "method": method, "params": params})
    error = c.answer(7)["error"]
    assert error["code"] == -32602 and method in error["message"] and says in error["message"], error
    assert_hover_works(c, uri, 8)  # and the server goes on


def test_unknown_method_and_bad_id(client: tuple[RawClient, str]) -> None:
    c, uri = client
    c.send({"id": "a", "method": "no/such", "params": {}})
    assert c.answer("a")["error"]["code"] == -32601
    c.send({"id": {"x": 1}, "method": "textDocument/hover", "params": {"textDocument": 5}})
    assert c.answer(None)["error"]["code"] == -32600  # the id itself is unusable: answered with id null
    c.raw(b'Content-Length: 2\r\n\r\n[]')  # a batch (LSP has none) or any non-object
    assert c.answer(None)["error"]["code"] == -32600
    assert_hover_works(c, uri, 9)


def test_content_length_too_long_loses_no_message(client: tuple[RawClient, str]) -> None:
    c, uri = client
    c.send({"id": 10, "method": "textDocument/hover", "params": hover(uri)}, length_delta=+12)
    assert_hover_works(c, uri, 11)  # its first 12 bytes were read as part of request 10
    assert c.answer(10)["result"] is not None


def test_content_length_too_short_loses_no_message(client: tuple[RawClient, str]) -> None:
    c, uri = client
    c.send({"id": 20, "method": "textDocument/hover", "params": hover(uri)}, length_delta=-7)
    assert_hover_works(c, uri, 21)  # its header follows the 7 bytes left over from request 20
    assert c.answer(20)["result"] is not None
    # cut inside a multi-byte character, with a pretty-printed body spanning lines
    body = json.dumps({"jsonrpc": "2.0", "id": 22, "method": "textDocument/hover",
                       "params": {**hover(uri), "note": "\u00e9\u00e9\u00e9"}}, indent=1, ensure_ascii=False).encode()
    cut = body.index("\u00e9".encode()) + 1
    c.raw(f"Content-Length: {cut}\r\n\r\n".encode() + body)
    assert_hover_works(c, uri, 23)
    assert c.answer(22)["result"] is not None


def test_garbage_gets_a_parse_error_and_the_next_message_an_answer(client: tuple[RawClient, str]) -> None:
    c, uri = client
    c.raw(b"Content-Length: 5\r\n\r\n{bad}")
    assert c.answer(None)["error"]["code"] == -32700
    c.raw(b"this is no header\r\n\r\n")
    assert_hover_works(c, uri, 30)


def test_shutdown_and_exit_after_faults(client: tuple[RawClient, str]) -> None:
    c, uri = client
    c.send({"id": 40, "method": "textDocument/hover", "params": {"textDocument": 5}})
    assert c.answer(40)["error"]["code"] == -32602
    c.send({"id": 41, "method": "shutdown"})
    assert c.answer(41)["result"] is None
    c.send({"method": "exit"})
    assert c.proc.stdin is not None
    c.proc.stdin.close()
    assert c.proc.wait(timeout=TIMEOUT) == 0


def test_hidden_text_reaches_the_editor_written_out(tmp_path: Path) -> None:
    """SOPS014 in the editor, underlining the character itself; hover and messages show no raw character."""
    text = 'component C "ab\u202ecd" {\n    out o\n    failure F rate 1 FIT "x\u200by"\n    o.omission <- F\n}\n'
    (tmp_path / "m.sops").write_text(text, encoding="utf-8")
    c = RawClient(tmp_path)
    try:
        c.send({"id": 0, "method": "initialize", "params": {
            "processId": None, "rootUri": tmp_path.resolve().as_uri(), "capabilities": {}}})
        c.answer(0)
        c.send({"method": "initialized", "params": {}})
        uri = (tmp_path / "m.sops").resolve().as_uri()
        c.send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "sops", "version": 1, "text": text}}})
        c.send({"id": 1, "method": "textDocument/hover", "params": hover(uri, line=0, character=10)})
        value = c.answer(1)["result"]["contents"]["value"]
        assert "ab&lt;U+202E&gt;cd" in value and "\u202e" not in value
        published = [m for m in c.seen if m.get("method") == "textDocument/publishDiagnostics"]
        diags = [d for m in published for d in m["params"]["diagnostics"] if d["code"] == "SOPS014"]
        assert [d["range"] for d in diags] == [
            {"start": {"line": 0, "character": 15}, "end": {"line": 0, "character": 16}},
            {"start": {"line": 2, "character": 27}, "end": {"line": 2, "character": 28}},
        ]
        assert not any("\u202e" in d["message"] or "\u200b" in d["message"] for d in diags)
    finally:
        c.proc.kill()
        c.proc.wait(timeout=TIMEOUT)
        for stream in (c.proc.stdin, c.proc.stdout):
            if stream is not None:
                stream.close()
