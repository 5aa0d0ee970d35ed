"""A minimal Language Server Protocol client, to drive a real editor back end.

It speaks JSON-RPC over the server's standard input and output, framed with
``Content-Length`` headers as the protocol's base layer says, answers the
requests a server sends to its editor, and keeps every notification so that a
test can wait for the one it expects (``textDocument/publishDiagnostics``).
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = ["LanguageServer", "ServerError"]

# Seconds to wait for one answer or notification; the server answers in ms,
# but the first schema load reads and compiles the schema.
TIMEOUT = 30.0


class ServerError(Exception):
    """The server answered a request with an error, died, or stayed silent."""


def _read_message(stream: IO[bytes]) -> dict[str, Any] | None:
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("ascii").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length is None:
        raise ServerError("a message without Content-Length")
    message: dict[str, Any] = json.loads(stream.read(length))
    return message


class LanguageServer:
    """A language server child process; use as a context manager."""

    def __init__(
        self, command: Sequence[str], settings: dict[str, Any], cwd: Path
    ) -> None:
        self.settings = settings
        self.process = subprocess.Popen(
            list(command),
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.notifications: list[dict[str, Any]] = []
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._next_id = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def __enter__(self) -> LanguageServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while (message := _read_message(self.process.stdout)) is not None:
            self._inbox.put(message)
        self._inbox.put(None)

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: Any) -> Any:
        """Send a request and return its result, serving the server meanwhile."""
        self._next_id += 1
        ident = self._next_id
        self._send({"id": ident, "method": method, "params": params})
        answer = self._wait(lambda m: m.get("id") == ident and "method" not in m)
        if "error" in answer:
            raise ServerError(f"{method}: {answer['error']}")
        return answer.get("result")

    def wait_for(
        self, method: str, accept: Callable[[Any], bool], timeout: float = TIMEOUT
    ) -> Any:
        """The params of the first notification ``method`` that ``accept`` takes."""
        for seen in self.notifications:
            if seen["method"] == method and accept(seen.get("params")):
                return seen.get("params")
        message = self._wait(
            lambda m: m.get("method") == method and accept(m.get("params")), timeout
        )
        return message.get("params")

    def _wait(
        self, wanted: Callable[[dict[str, Any]], bool], timeout: float = TIMEOUT
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                message = self._inbox.get(timeout=max(remaining, 0.0))
            except queue.Empty:
                raise ServerError(f"no answer within {timeout} s") from None
            if message is None:
                raise ServerError(f"the server exited: {self._stderr()}")
            if "id" in message and "method" in message:
                self._serve(message)
            elif "method" in message:
                self.notifications.append(message)
            if wanted(message):
                return message

    def _serve(self, request: dict[str, Any]) -> None:
        """Answer what a server asks of its editor."""
        result: Any = None
        if request["method"] == "workspace/configuration":
            result = [
                self.settings.get(item.get("section", ""), None)
                for item in request["params"]["items"]
            ]
        self._send({"id": request["id"], "result": result})

    def _stderr(self) -> str:
        if self.process.poll() is None or self.process.stderr is None:
            return ""
        return self.process.stderr.read().decode("utf-8", "replace")[-2000:]

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.request("shutdown", None)
                self.notify("exit", None)
                self.process.wait(timeout=5)
            except (ServerError, OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
