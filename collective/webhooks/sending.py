"""One POST of a webhook: the URL checked again (DNS may have changed since it was
subscribed), a connection to the very address that was checked, a short timeout, and no
redirect followed. The standard library's http.client does it."""
from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from collective.webhooks.addresses import UnsafeURL, check_url, resolve

#: The most of a response body read (and then dropped): the status is what counts.
READ_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt came to: the response code (None when no response came), the error
    (None on a 2xx), and how long it took."""

    status: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.error is None


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a checked address, naming the URL's host in the Host header."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to a checked address, and verifies the certificate for the URL's host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: str, headers: dict[str, str], *, timeout: float,
         allow_http: bool = False, allow_private: bool = False) -> Answer:
    """POST `body` to `url` once; never raises for what the network or the receiver does."""
    started = time.monotonic()

    def answer(status: int | None, error: str | None) -> Answer:
        return Answer(status, error, int((time.monotonic() - started) * 1000))

    try:
        parts = check_url(url, allow_http=allow_http)
        address = str(resolve(parts, allow_private=allow_private)[0])
    except UnsafeURL as exc:
        return answer(None, f"refused: {exc.message}")
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    kind = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    connection = kind(parts.hostname or "", port, address, timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body.encode(),
                           headers={**headers, "user-agent": "Collective-Webhooks/1"})
        response = connection.getresponse()
        response.read(READ_LIMIT)
        status = response.status
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return answer(None, f"{type(exc).__name__}: {exc}"[:500])
    finally:
        connection.close()
    if 200 <= status < 300:
        return answer(status, None)
    if 300 <= status < 400:
        return answer(status, f"HTTP {status}: redirects are not followed")
    return answer(status, f"HTTP {status}")
