"""Building a message from an outbox row, and the two ways it leaves: an SMTP server
(the standard library's smtplib) or, in development, an .eml file in instance/mail/."""
from __future__ import annotations

import os
import re
import smtplib
import ssl
from collections.abc import Mapping
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

from collective.mail.models import OutboxMessage


class PermanentFailure(Exception):
    """The server refused the message for good (a 5xx for its recipient): no retry helps."""


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...
    def close(self) -> None: ...


#: Lines up to RFC 5322's limit of 998 characters: a long header with no space in it (a
#: List-Unsubscribe URL) stays as it is instead of being cut into RFC 2047 encoded words,
#: which mail clients do not decode in a URL header.
MESSAGE_POLICY = policy.default.clone(max_line_length=998)


def build_message(row: OutboxMessage, sender: str) -> EmailMessage:
    """The row as a multipart/alternative message: a plain-text part and an HTML part,
    under the row's own Message-ID (the same on every try)."""
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = sender
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = row.message_id
    for name, value in (row.headers or {}).items():
        message[name] = value
    message.set_content(row.text_body)
    message.add_alternative(row.html_body, subtype="html")
    return message


class SMTPTransport:
    """One connection, opened at the first message and kept for the rest of the batch."""

    def __init__(self, config: Mapping[str, object]) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        host, port, timeout = str(c["MAIL_SERVER"]), int(c["MAIL_PORT"]), float(c["MAIL_TIMEOUT"])
        if c.get("MAIL_USE_SSL"):
            connection = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                          context=ssl.create_default_context())
        else:
            connection = smtplib.SMTP(host, port, timeout=timeout)
            if c.get("MAIL_USE_TLS"):
                connection.starttls(context=ssl.create_default_context())
        if c.get("MAIL_USERNAME"):
            connection.login(str(c["MAIL_USERNAME"]), str(c.get("MAIL_PASSWORD") or ""))
        return connection

    def send(self, message: EmailMessage) -> None:
        """Hand the message to the server; a refusal for good raises PermanentFailure, any
        other fault an OSError or SMTPException (and the next message reconnects)."""
        try:
            if self.connection is None:
                self.connection = self._connect()
            self.connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure(f"the server refused the recipient: {exc.recipients}"
                                       ) from exc
            self.close()
            raise
        except smtplib.SMTPResponseException as exc:
            self.close()
            if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
                raise PermanentFailure(f"the server refused the message: {exc.smtp_code} "
                                       f"{exc.smtp_error!r}") from exc
            raise
        except (OSError, smtplib.SMTPException):
            self.close()
            raise

    def close(self) -> None:
        """End the connection, politely if it still answers."""
        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                self.connection.close()
            self.connection = None


#: What a file name in the mail folder may be made of (also what /dev/mail accepts).
EML_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.eml")


def eml_name(message: EmailMessage) -> str:
    """A file name made from the Message-ID, so a retry overwrites its own file."""
    local = str(message["Message-ID"]).strip("<>").partition("@")[0]
    return re.sub(r"[^A-Za-z0-9._-]", "_", local)[:200] + ".eml"


class FileTransport:
    """Development: each message becomes an .eml file in a folder, written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        """Write the message to <folder>/<Message-ID>.eml."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / eml_name(message)
        scratch = path.with_suffix(".tmp")
        scratch.write_bytes(message.as_bytes())
        os.replace(scratch, path)

    def close(self) -> None:
        """Nothing to close."""


def mail_folder(config: Mapping[str, object], instance_path: str) -> Path:
    """Where development writes mail: MAIL_FILE_DIR, or instance/mail."""
    return Path(str(config.get("MAIL_FILE_DIR") or "") or Path(instance_path) / "mail")


def transport_for(config: Mapping[str, object], instance_path: str) -> Transport | None:
    """SMTP when MAIL_SERVER is set; the .eml folder in development without one; otherwise
    None (production with no server: messages wait in the outbox)."""
    if config.get("MAIL_SERVER"):
        return SMTPTransport(config)
    if config.get("COLLECTIVE_ENV") == "development":
        return FileTransport(mail_folder(config, instance_path))
    return None
