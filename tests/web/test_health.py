"""/health answers "ok" after a database ping and sets no cookie; with the database out of
reach it, and every page, is the clean 503 page."""
from __future__ import annotations

import pytest

from collective import create_app
from collective.extensions import db


def test_health_pings_the_database_and_sets_no_cookie(client):
    for _ in range(3):
        response = client.get("/health")
        assert response.status_code == 200
        assert response.get_data(as_text=True) == "ok"
        assert response.mimetype == "text/plain"
        assert "Set-Cookie" not in response.headers


@pytest.fixture
def cut_off(tmp_path):
    """An app whose database cannot be opened: a SQLite file in a folder that does not
    exist (the same OperationalError a PostgreSQL server that is down gives)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/db.sqlite3",
                      "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                      "TESTING": False, "PROPAGATE_EXCEPTIONS": False})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_pages_are_a_clean_503_while_the_database_is_out_of_reach(cut_off):
    client = cut_off.test_client()
    for response in (client.get("/health"),
                     client.post("/login", data={"email": "a@example.test",
                                                 "password": "correct horse battery"})):
        assert response.status_code == 503
        page = response.get_data(as_text=True)
        assert "<h1>Briefly unavailable</h1>" in page
        assert "nothing was read or saved" in page
        assert "Traceback" not in page and "OperationalError" not in page
    assert client.get("/health").headers["Retry-After"] == "5"
