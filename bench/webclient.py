"""A small HTTP client for the load bench and the database-restart test: one keep-alive
connection to 127.0.0.1, cookies kept like a browser's, and sign-in through the real login
form (its CSRF token read from the page). Standard library only."""
from __future__ import annotations

import http.client
import re
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Reply:
    """One answer: its status (0 when the connection failed), body, location, and when the
    request started and how long it took (seconds, time.perf_counter)."""

    status: int
    body: str
    location: str
    started: float
    seconds: float


class Browser:
    """One signed-in (or anonymous) visitor on one keep-alive connection."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Reply:
        """Send one request; a refused or broken connection is a Reply with status 0."""
        headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "collective-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port,
                                                        timeout=self.timeout)
            self._conn.request(method, path, body=body, headers=headers)
            response = self._conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return Reply(0, f"{type(exc).__name__}: {exc}", "", started,
                         time.perf_counter() - started)
        seconds = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return Reply(response.status, text, response.getheader("Location", ""), started,
                     seconds)

    def get(self, path: str) -> Reply:
        """GET a page."""
        return self.request("GET", path)

    def csrf_token(self, page: str) -> str:
        """The CSRF token of the form on `page` (it stays good for this visitor's session)."""
        shown = self.get(page)
        token = CSRF_FIELD.search(shown.body)
        if token is None:
            raise RuntimeError(f"no CSRF token on {page} ({shown.status})")
        return token.group(1)

    def post_form(self, page: str, form: dict[str, str]) -> Reply:
        """Open `page` and send its form with `form`'s fields, as a browser would."""
        return self.request("POST", page, {**form, "csrf_token": self.csrf_token(page)})

    def login(self, email: str, password: str) -> None:
        """Sign in through the login form; raise unless it redirects (signed in)."""
        reply = self.post_form("/login", {"email": email, "password": password})
        if reply.status != 302:
            raise RuntimeError(f"signing in as {email} answered {reply.status}")
