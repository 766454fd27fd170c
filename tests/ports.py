"""Free TCP ports for the servers tests start (SMTP, a private PostgreSQL cluster, gunicorn):
the operating system hands each one out, so two xdist workers, or two checkouts' suites on
one machine, never reach for the same port."""
from __future__ import annotations

import socket


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on: one the system just assigned."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
