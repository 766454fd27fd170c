"""The OpenAPI document (/api/v1/openapi.json) and the browsable docs (/api/v1/docs): Swagger
UI from collective/static/vendor/swagger-ui, started by static/api-docs.js (the CSP allows
no inline script). Both are public: they describe the API, not anyone's data. A signed-in
person can try the API from the page: it sends their session cookie and the page's CSRF
token."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

#: The docs page's policy: the site's own, with the data: images Swagger UI's stylesheet
#: draws its icons with.
DOCS_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
               "style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
               "connect-src 'self'; object-src 'none'; base-uri 'self'; "
               "form-action 'self'; frame-ancestors 'none'")


def openapi_document() -> dict:
    """The API's OpenAPI 3.1 document, made from its views' schemas."""
    return current_app.extensions["collective_api"].document()


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 document."""
    return jsonify(openapi_document())


@bp.get("/docs")
def docs_page():
    """The API's browsable docs."""
    return render_template("api/docs.html"), 200, {"Content-Security-Policy": DOCS_POLICY}
