"""A request whose flush fails still gets the friendly error page: the error handlers roll the
session back before rendering, so the page never meets a failed transaction."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from collective import create_app
from collective.extensions import db
from collective.members.models import User
from collective.web.scoping import collective_view
from tests.factories import PASSWORD, commit, make_collective


@pytest.fixture
def failing_app(database_url, app):
    """A second app on the test database whose one extra page breaks a unique constraint in a
    flush, as a bug in a view or service would; errors are handled as in production."""
    failing = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False,
                          "SECRET_KEY": "test-secret", "TESTING": False,
                          "PROPAGATE_EXCEPTIONS": False,
                          "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"})

    @collective_view()
    def duplicate_email():
        """Add a second person with an e-mail that is taken, and flush."""
        taken = db.session.scalar(sa.select(User.email).order_by(User.id))
        db.session.add(User(email=taken, name="Again", password_hash="x"))
        db.session.flush()
        return "not reached"

    failing.add_url_rule("/c/<slug>/duplicate", view_func=duplicate_email)
    yield failing
    with failing.app_context():
        db.engine.dispose()


def test_a_failed_flush_shows_the_500_page_not_a_pending_rollback_error(failing_app, setup):
    with setup():
        founder = make_collective()
        slug, email, name = founder.collective.slug, founder.user.email, founder.user.name
        commit()
    client = failing_app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302

    response = client.get(f"/c/{slug}/duplicate")

    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page
    assert "Nothing was half-saved: try again, or tell your coordinator." in page
    assert f">{name}</a>" in page  # the signed-in nav, read again after the rollback
    # And the next request works.
    assert client.get(f"/c/{slug}/members").status_code == 200



def test_a_connection_the_database_cut_is_dropped_at_the_end_of_the_request(
        database_url, app):
    """The teardown closes the session; when the server ended the connection meanwhile (a
    restart), closing fails, and the connection is dropped from the pool instead of the
    request ending in an error; the next request gets a working connection."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a server that ends a connection is PostgreSQL's (pg_terminate_backend)")
    from collective.web.errors import release_session

    admin = sa.create_engine(database_url)
    try:
        with app.app_context():
            pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
            with admin.begin() as conn:
                assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            release_session()  # raised AttributeError: a scoped_session has no invalidate
            assert db.session.scalar(sa.text("SELECT pg_backend_pid()")) != pid
            release_session()
    finally:
        admin.dispose()
