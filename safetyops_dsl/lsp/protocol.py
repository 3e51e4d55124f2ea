"""JSON-RPC over stdio that answers every request and survives a broken frame.

pygls drops two kinds of faulty input silently, and an editor then waits forever:

- a request whose params do not fit the method (`"textDocument": 5`, a negative position) fails while it is
  being deserialised, before pygls knows it is a request, so nothing answers it. `SopsProtocol` answers it
  with the JSON-RPC error -32602 (invalid params), -32600 for a request whose id itself is unusable.
- a wrong `Content-Length` makes pygls read into the next message (too long) or read the tail of this one
  as headers (too short), and both messages are lost. `serve` frames the stream itself: a body with a
  complete JSON value followed by more bytes hands the rest back to the stream, a body that ends mid-value
  is completed with the bytes up to the next `Content-Length` header. A body that cannot be repaired gets
  the error -32700 (parse error, id null), and the next message is read normally.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sys
import threading
from typing import Any, BinaryIO

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest, JsonRpcParseError
from pygls.io_ import StdinAsyncReader, StdoutWriter
from pygls.protocol import LanguageServerProtocol

logger = logging.getLogger(__name__)

_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*(\d+)", re.IGNORECASE)
# A frame larger than this is not an LSP message (the biggest real ones, didOpen of a 64 MiB model file
# written as JSON, stay below it); reading it would only hold the server's memory.
MAX_BODY = 256 * 1024 * 1024


class _Rejected:
    """A request that could not be deserialised: answered with `error` instead of being dispatched."""

    jsonrpc = "2.0"

    def __init__(self, msg_id: int | str | None, error: JsonRpcException):
        self.id = msg_id
        self.error = error


class SopsProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "jsonrpc" not in data or "method" not in data or "id" not in data:
                raise  # a notification or a response: JSON-RPC gives nothing to answer
            msg_id = data["id"]
            if not isinstance(msg_id, int | str) or isinstance(msg_id, bool):
                return _Rejected(None, JsonRpcInvalidRequest(message="Invalid Request: id must be a number or a string"))
            detail = _reason(exc)
            if isinstance(exc, JsonRpcInvalidParams) or self.get_message_type(str(data["method"])) is not None:
                error: JsonRpcException = JsonRpcInvalidParams(
                    message=f"Invalid params for {data['method']}" + (f": {detail}" if detail else ""))
            else:
                error = exc
            return _Rejected(msg_id, error)

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Rejected):
            logger.warning("rejected request %r: %s", message.id, message.error.message)
            self._send_response(message.id, error=message.error.to_response_error())  # type: ignore[arg-type]
            return
        super().handle_message(message)


def _reason(exc: BaseException) -> str:
    """The first leaf of a cattrs validation error, e.g. `'int' object is not subscriptable @ textDocument`."""
    cause = exc.__cause__
    while cause is not None and hasattr(cause, "exceptions") and cause.exceptions:
        cause = cause.exceptions[0]
    if cause is None:
        return ""
    notes = [n for n in getattr(cause, "__notes__", []) if isinstance(n, str)]
    where = notes[0].rpartition(" @ ")[2] if notes else ""
    text = f"missing {cause}" if isinstance(cause, KeyError) else (str(cause) or type(cause).__name__)
    return f"{text[:200]} ({where})" if where else text[:200]


class _Stream:
    """stdin with bytes pushed back (the start of the next message when a frame was too long)."""

    def __init__(self, reader: StdinAsyncReader):
        self.reader = reader
        self.pending = b""

    def unread(self, data: bytes) -> None:
        self.pending = data + self.pending

    async def readline(self) -> bytes:
        if b"\n" in self.pending:
            line, _, self.pending = self.pending.partition(b"\n")
            return line + b"\n"
        head, self.pending = self.pending, b""
        return head + await self.reader.readline()

    async def readexactly(self, n: int) -> bytes:
        head, self.pending = self.pending[:n], self.pending[n:]
        if len(head) < n:
            head += await self.reader.readexactly(n - len(head))
        return head


class _Framer:
    def __init__(self, protocol: SopsProtocol, stream: _Stream):
        self.protocol = protocol
        self.stream = stream
        self.carry = b""  # a body that ended mid-value: its tail comes before the next header

    def dispatch(self, body: bytes) -> None:
        try:
            message = json.loads(body, object_hook=self.protocol.structure_message)
        except json.JSONDecodeError:
            self.parse_error()
            return
        except JsonRpcException as exc:  # a notification or response that does not deserialise
            logger.warning("dropped a message that does not deserialise: %s", exc.message)
            return
        if not hasattr(message, "jsonrpc"):  # not a JSON-RPC 2.0 object (a batch, a bare value, no "jsonrpc")
            self.invalid_request(message)
            return
        try:
            self.protocol.handle_message(message)
        except Exception:  # pygls answers requests whose handler raises; nothing else may stop the loop
            logger.exception("unable to handle a message")

    def invalid_request(self, message: Any) -> None:
        msg_id = message.get("id") if isinstance(message, dict) else None
        if not isinstance(msg_id, int | str) or isinstance(msg_id, bool):
            msg_id = None
        error = JsonRpcInvalidRequest(message="Invalid Request: not a JSON-RPC 2.0 request object")
        self.protocol._send_response(msg_id, error=error.to_response_error())  # type: ignore[arg-type]

    def parse_error(self) -> None:
        error = JsonRpcParseError(message="Parse error: the message is not valid JSON (wrong Content-Length?)")
        self.protocol._send_response(None, error=error.to_response_error())  # type: ignore[arg-type]

    def body(self, body: bytes) -> None:
        try:
            text = body.decode("utf-8")
            json.loads(text)
        except UnicodeDecodeError as exc:
            if exc.end >= len(body):  # cut inside a character: Content-Length too short
                self.carry = body
            else:
                self.parse_error()
            return
        except json.JSONDecodeError as exc:
            start = len(text) - len(text.lstrip())
            if exc.msg == "Extra data":  # Content-Length too long: the rest belongs to the next message
                _, end = json.JSONDecoder().raw_decode(text, start)
                cut = len(text[:end].encode("utf-8"))
                self.stream.unread(body[cut:].lstrip())
                self.dispatch(body[:cut])
            elif not text.rstrip().endswith(("}", "]")):  # a message is an object: this one was cut short
                self.carry = body
            else:
                self.parse_error()
            return
        self.dispatch(body)

    def complete_carry(self, tail: bytes) -> None:
        body, self.carry = self.carry + tail, b""
        self.dispatch(body)  # still not JSON: answered with a parse error

    async def run(self, stop_event: threading.Event) -> None:
        length: int | None = None
        while not stop_event.is_set():
            line = await self.stream.readline()
            if not line:
                break
            m = _LENGTH.search(line)
            if m:
                if self.carry:
                    self.complete_carry(line[: m.start()])
                length = int(m.group(1))
                continue
            if self.carry:
                self.carry += line
                if len(self.carry) > MAX_BODY:
                    self.complete_carry(b"")
                continue
            if line.strip() or length is None:
                continue  # another header (Content-Type), or noise between messages
            if length > MAX_BODY:
                logger.error("a message of %d bytes: not read", length)
                return
            body = await self.stream.readexactly(length)
            if len(body) < length:
                break
            length = None
            self.body(body)


def serve(server: Any, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
    """Like pygls' `start_io`, with the framing above."""
    from threading import Event

    server._stop_event = stop_event = Event()
    reader = StdinAsyncReader(stdin or sys.stdin.buffer, server.thread_pool)
    server.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
    framer = _Framer(server.protocol, _Stream(reader))
    try:
        asyncio.run(framer.run(stop_event))
    except BrokenPipeError:
        logger.error("the connection to the client is lost")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        with contextlib.suppress(Exception):
            server.shutdown()

