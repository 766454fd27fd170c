"""The webhook tests' receiver: a real HTTP server on 127.0.0.1 on a free port, in a thread,
that keeps what it was sent and answers with the status a test sets."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest


@dataclass
class Received:
    """One request as the receiver got it."""

    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    """The running server: its URL, what it got, and the status it answers with."""

    url: str
    port: int
    requests: list[Received] = field(default_factory=list)
    status: int = 200


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode()
            receiver.requests.append(Received(self.path, {k.lower(): v for k, v
                                                          in self.headers.items()}, body))
            self.send_response(receiver.status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def _server() -> Iterator[Receiver]:
    receiver = Receiver(url="", port=0)
    server = HTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.port = server.server_address[1]
    receiver.url = f"http://127.0.0.1:{receiver.port}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver(_server, app, monkeypatch) -> Receiver:
    """The receiver, emptied, answering 200; with the test setting that lets webhooks reach
    http:// on 127.0.0.1 (off by default)."""
    _server.requests.clear()
    _server.status = 200
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_HTTP", True)
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE_URLS", True)
    return _server
