"""Guards on every request: input no page can use is refused before any view sees it."""
from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

from collective.web.forms import MAX_ID


class IdConverter(IntegerConverter):
    """<int:...> in URLs: a positive id in the digits 0-9 that fits the database's integer
    (else 404; werkzeug's own reads '/claims/١٢' as claim 12)."""

    regex = r"[0-9]+"

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def refuse_nul_characters() -> None:
    """400 for NUL characters in a path, query string or form (no database column takes
    them: PostgreSQL refuses even to compare one, a slug with one was a 500)."""
    if "\x00" in request.path:
        abort(400, "Text may not contain NUL characters.")
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400, "Text may not contain NUL characters.")


def init_app(app: Flask) -> None:
    """Install the id converter and the NUL guard."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_nul_characters)
