"""/health: the load balancer's (and the load bench's) question "is this worker serving?".

It answers 200 "ok" once the database answers `SELECT 1`, and 503 (web/errors.py) while it
does not. It is exempt from the rate limits, signs nobody in and writes no session, so a
probe every second costs one pooled round trip and sets no cookie."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response

from collective.extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/health")
@limiter.exempt
def health() -> Response:
    """200 "ok" when the database answers a ping."""
    db.session.execute(sa.text("SELECT 1"))
    return Response("ok", status=200, mimetype="text/plain",
                    headers={"Cache-Control": "no-store"})


def init_app(app) -> None:
    """Register /health."""
    app.register_blueprint(bp)
