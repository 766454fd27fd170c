"""A real SMTP server (aiosmtpd) in the test process, and the `smtp` fixture that points the
app at it (imported by tests/conftest.py)."""
from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller

from tests.ports import free_port

#: Mail to this address is refused for good (550) by the test server.
REFUSED = "refused@example.test"


class Inbox:
    """What the server received: (envelope recipients, parsed message) in arrival order."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REFUSED:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        return [message for _, message in self.received]


class SMTPServer:
    """An aiosmtpd server on a free port that a test can stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(app, monkeypatch):
    """A running SMTP server, and the app set to deliver to it."""
    server = SMTPServer()
    server.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5.0)
    monkeypatch.setitem(app.config, "MAIL_DEFAULT_SENDER", "Collective <noreply@collective.test>")
    try:
        yield server
    finally:
        server.stop()


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML parts of a received message."""
    return (message.get_body(preferencelist=("plain",)).get_content(),
            message.get_body(preferencelist=("html",)).get_content())
