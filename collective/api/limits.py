"""Rate limits on /api/v1: per token (or per signed-in person) and per client address, with
the IETF draft's RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset headers
(draft-ietf-httpapi-ratelimit-headers: the reset in seconds from now) and RateLimit-Policy.

Flask-Limiter counts (in the RATELIMIT_STORAGE_URI store, shared by every worker) and
answers a request over a limit with 429 before its view runs; its own X-RateLimit-* headers
stay too. The limits themselves are settings: RATE_LIMITS["api_per_token"] and
["api_per_ip"] (config.py)."""
from __future__ import annotations

import hashlib
import math
import time

from flask import Blueprint, Response, request
from flask_login import current_user

from collective.extensions import limiter
from collective.web.limits import rate


def token_key() -> str:
    """The bucket of the request's token (by its hash: the secret is never a key), else of
    the signed-in person, else of the client address."""
    header = request.headers.get("Authorization", "")
    if header:
        return "api-token:" + hashlib.sha256(header.strip().encode()).hexdigest()[:32]
    if current_user.is_authenticated:
        return f"api-user:{current_user.id}"
    return "api-ip:" + (request.remote_addr or "unknown")


def limit_blueprint(blueprint: Blueprint) -> None:
    """Count every request to the blueprint per token and per address."""
    limiter.limit(rate("api_per_token"), key_func=token_key, scope="api-token")(blueprint)
    limiter.limit(rate("api_per_ip"), scope="api-ip")(blueprint)


def add_ratelimit_headers(response: Response) -> Response:
    """RateLimit-* headers of the limit nearest to running out."""
    current = limiter.current_limit
    if current is None:
        return response
    try:
        reset_in = max(0, math.ceil(current.window[0] - time.time()))
        remaining = max(0, current.remaining)
    except Exception:  # the store is out of reach: the limiter itself says so in its log
        return response
    amount = current.limit.amount
    response.headers["RateLimit-Limit"] = str(amount)
    response.headers["RateLimit-Remaining"] = str(remaining)
    response.headers["RateLimit-Reset"] = str(reset_in)
    response.headers["RateLimit-Policy"] = f"{amount};w={current.limit.get_expiry()}"
    return response

