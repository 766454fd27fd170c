"""One POST of a webhook: the URL checked again (DNS may have changed since it was
subscribed), a connection to the very address that was checked, a short timeout for each
step and a deadline for the whole (a receiver that answers a byte at a time is cut off), no
response body read, and no redirect followed. The standard library's http.client does it."""
from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from collective.webhooks.addresses import UnsafeURL, check_url, resolve

#: The whole of one attempt may take this many timeouts, however the receiver trickles.
DEADLINE_TIMEOUTS = 3


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


class _Pinned:
    """Connects to a checked address (the Host header still names the URL's host), and can
    be cut off from another thread when the deadline passes."""

    _address: str
    _raw: socket.socket | None = None
    cut_off = False

    def _open(self) -> socket.socket:
        self._raw = socket.create_connection((self._address, self.port), self.timeout)
        if self.cut_off:
            self._raw.close()
            raise TimeoutError("the deadline passed")
        return self._raw

    def cut(self) -> None:
        """End the connection now: a blocked send or read returns at once."""
        self.cut_off = True
        if self._raw is not None:
            try:
                self._raw.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _PinnedHTTPConnection(_Pinned, http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = self._open()


class _PinnedHTTPSConnection(_Pinned, http.client.HTTPSConnection):
    """Verifies the certificate for the URL's host, not the address."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        self.sock = self._context.wrap_socket(self._open(), server_hostname=self.host)


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
    deadline = threading.Timer(timeout * DEADLINE_TIMEOUTS, connection.cut)
    deadline.start()
    try:
        connection.request("POST", path, body=body.encode(),
                           headers={**headers, "user-agent": "Collective-Webhooks/1"})
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if connection.cut_off:
            return answer(None, f"no answer within {timeout * DEADLINE_TIMEOUTS:g} s")
        return answer(None, f"{type(exc).__name__}: {exc}"[:500])
    finally:
        deadline.cancel()
        connection.close()
    if 200 <= status < 300:
        return answer(status, None)
    if 300 <= status < 400:
        return answer(status, f"HTTP {status}: redirects are not followed")
    return answer(status, f"HTTP {status}")
