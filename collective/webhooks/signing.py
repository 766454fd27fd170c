"""Signing a delivery the Standard Webhooks way (https://www.standardwebhooks.com):

    webhook-id:        the delivery's message id, the same on every retry and resend
    webhook-timestamp: seconds since the epoch when this attempt was made
    webhook-signature: "v1," + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))

where the key is the base64-decoded part of the endpoint's secret after "whsec_". The
standard library's hmac does it; docs/webhooks.md shows a receiver verifying it."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"
#: Random bytes in a new secret (Standard Webhooks asks for 24 to 64).
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret: 'whsec_' and base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_message_id() -> str:
    """A fresh webhook-id: 'msg_' and 24 random URL-safe characters."""
    return "msg_" + secrets.token_urlsafe(18)


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The webhook-signature header's value for one attempt."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.{body}".encode()
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(signing_secrets: str | Sequence[str], message_id: str, timestamp: int,
                   body: str) -> dict[str, str]:
    """The headers of one attempt: the id, the timestamp, the signature and the type. With
    several secrets (a rotation's overlap), one signature each, space-separated, as
    Standard Webhooks allows: a receiver that knows either secret accepts it."""
    if isinstance(signing_secrets, str):
        signing_secrets = [signing_secrets]
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(signature(secret, message_id, timestamp, body)
                                          for secret in signing_secrets),
            "content-type": "application/json"}
