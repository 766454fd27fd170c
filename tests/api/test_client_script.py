"""docs/api_client.py, the client script docs/api.md shows, records a payment and reads its
split: run through the app itself (a urllib handler hands its requests to the WSGI app)."""
from __future__ import annotations

import importlib.util
import io
import urllib.parse
import urllib.request
import urllib.response
from email.message import Message
from pathlib import Path

import sqlalchemy as sa

from collective.clock import today_in
from collective.extensions import db
from collective.pool.models import ClientPayment

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "api_client.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("api_client", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ThroughTheApp(urllib.request.BaseHandler):
    """Answer urllib's http:// requests from the Flask app (before the network handler)."""

    handler_order = 100

    def __init__(self, client) -> None:
        self.client = client

    def http_open(self, request: urllib.request.Request):
        url = urllib.parse.urlsplit(request.full_url)
        answer = self.client.open(url.path, method=request.get_method(),
                                  query_string=url.query, data=request.data,
                                  headers=dict(request.header_items()))
        headers = Message()
        for name, value in answer.headers.items():
            headers[name] = value
        response = urllib.response.addinfourl(io.BytesIO(answer.get_data()), headers,
                                              request.full_url, answer.status_code)
        response.msg = answer.status
        return response


def test_the_documented_client_records_a_payment_and_prints_its_split(api, world, setup,
                                                                      capsys):
    script = _load_script()
    opener = urllib.request.build_opener(ThroughTheApp(api.client))
    code = script.main(["--url", "http://collective.test", "--token", world.full,
                        "--collective", "ours", "--pitch", str(world.pitch_id),
                        "--amount", "25000", "--currency", "USD", "--reference", "INV-9",
                        "--received-on", today_in("UTC").isoformat()], opener=opener)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "25000 USD = 25000 USD, split by hours" in out
    assert "common fund: 2500" in out and ": 22500" in out
    with setup():
        assert db.session.scalar(sa.select(ClientPayment.reference)) == "INV-9"
    # A refusal is printed with the field it names, and the exit code says so.
    refused = script.main(["--url", "http://collective.test", "--token", world.read_only,
                           "--collective", "ours", "--pitch", str(world.pitch_id),
                           "--amount", "100", "--currency", "USD"], opener=opener)
    assert refused == 1 and "403 forbidden" in capsys.readouterr().err
