"""Registering, signing in and out, passwords, ?next=, CSRF and session settings."""
import html
import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from collective import create_app
from collective.errors import Conflict, DomainError
from collective.extensions import db
from collective.members import accounts
from collective.members.models import User
from collective.web.forms import is_safe_next
from tests.factories import PASSWORD, commit, make_user
from tests.forms import without_csrf_tokens

NEW_PASSWORD = "a brand new passphrase"
LOGIN_ERROR = "The e-mail or password is not right."
_ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)


def _errors(response) -> list[str]:
    """The form error messages shown on a page, unescaped."""
    return [html.unescape(e.strip()) for e in _ERROR.findall(response.get_data(as_text=True))]


def _path(response) -> str:
    """The path a redirect points to, whether the Location is relative or absolute."""
    assert response.status_code == 302, response.status_code
    return urlsplit(response.headers["Location"]).path


def _users_with(setup, email: str) -> list[User]:
    with setup():
        return list(db.session.scalars(sa.select(User).filter_by(email=email)))


def _user_count(setup) -> int:
    with setup():
        return db.session.scalar(sa.select(sa.func.count(User.id)))


def _signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


@pytest.fixture
def person(setup):
    """A signed-up person's e-mail; their password is factories.PASSWORD."""
    with setup():
        # example.com, not .test: the register form's Email() refuses special-use domains.
        email = make_user(name="Ana Reyes", email="ana@example.com").email
        commit()
    return email


def _register(client, email="new@example.com", password="long enough pw", confirm=None,
              name="Nina Cruz", query=""):
    return client.post(f"/register{query}", data={
        "name": name, "email": email, "password": password,
        "confirm": password if confirm is None else confirm, "timezone": "Asia/Manila",
    })


# --- Registering ------------------------------------------------------------------------


def test_register_creates_the_user_and_signs_them_in(client, setup):
    response = _register(client, email="Nina@Example.com")

    assert _path(response) == "/collectives"
    assert _signed_in(client)
    [user] = _users_with(setup, "nina@example.com")
    assert user.name == "Nina Cruz"
    assert user.timezone == "Asia/Manila"
    page = client.get("/collectives")
    assert page.status_code == 200
    assert "Nina Cruz" in page.get_data(as_text=True)


def test_register_stores_a_scrypt_hash_not_the_password(client, setup):
    _register(client, email="hash@example.com", password="long enough pw")

    [user] = _users_with(setup, "hash@example.com")
    assert user.password_hash.startswith("scrypt:")
    assert "long enough pw" not in user.password_hash
    assert user.check_password("long enough pw")
    assert not user.check_password("long enough pX")


def test_register_with_a_short_password_is_a_form_error_and_writes_nothing(client, setup):
    before = _user_count(setup)

    response = _register(client, email="short@example.com", password="short")

    assert response.status_code == 200
    assert _errors(response) == ["Field must be between 10 and 200 characters long."]
    assert _user_count(setup) == before
    assert _users_with(setup, "short@example.com") == []
    assert not _signed_in(client)


def test_register_with_a_taken_email_is_a_form_error(client, setup, person):
    before = _user_count(setup)

    response = _register(client, email=person.upper(), name="Someone Else")

    assert response.status_code == 200
    assert _errors(response) == ["an account with this e-mail already exists; sign in instead"]
    assert _user_count(setup) == before
    [user] = _users_with(setup, person)
    assert user.name == "Ana Reyes"
    assert user.check_password(PASSWORD)
    assert not _signed_in(client)


# --- Signing in and out -----------------------------------------------------------------


def test_login_with_the_right_password_redirects_and_signs_in(auth, client, person):
    response = auth.login(person)

    assert _path(response) == "/collectives"
    assert _signed_in(client)
    assert client.get("/collectives").status_code == 200


def test_login_is_case_insensitive_about_the_email(auth, client, person):
    assert _path(auth.login(person.upper())) == "/collectives"


def test_login_error_is_the_same_for_unknown_email_and_wrong_password(auth, client, person):
    unknown = auth.login("nobody@example.com", PASSWORD)
    wrong = auth.login(person, "not the password")

    assert unknown.status_code == wrong.status_code == 200
    assert _errors(unknown) == _errors(wrong) == [LOGIN_ERROR]
    # Apart from echoing the typed e-mail back and the CSRF token (signed with the second
    # it was made in), the two pages are byte for byte the same.
    unknown_body = without_csrf_tokens(
        unknown.get_data(as_text=True).replace("nobody@example.com", "EMAIL")
    )
    wrong_body = without_csrf_tokens(wrong.get_data(as_text=True).replace(person, "EMAIL"))
    assert unknown_body == wrong_body
    assert not _signed_in(client)


def test_logout_then_a_protected_page_redirects_to_login(auth, client, person):
    auth.login(person)
    assert client.get("/collectives").status_code == 200

    response = auth.logout()

    assert _path(response) == "/"
    assert not _signed_in(client)
    protected = client.get("/collectives")
    assert _path(protected) == "/login"
    assert "next=%2Fcollectives" in protected.headers["Location"]


def test_logout_needs_a_post(auth, client, person):
    auth.login(person)

    assert client.get("/logout").status_code == 405
    assert _signed_in(client)


# --- Changing the password --------------------------------------------------------------


def test_change_password_with_a_wrong_current_password_is_a_form_error(auth, client, setup,
                                                                       person):
    auth.login(person)

    response = client.post("/account/password", data={
        "current_password": "not the password", "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    })

    assert response.status_code == 200
    assert _errors(response) == ["the current password is not right"]
    [user] = _users_with(setup, person)
    assert user.check_password(PASSWORD)
    assert not user.check_password(NEW_PASSWORD)


def test_after_changing_the_password_only_the_new_one_works(auth, client, person):
    auth.login(person)

    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
    })
    assert _path(response) == "/account/profile"
    auth.logout()

    old = auth.login(person, PASSWORD)
    assert old.status_code == 200
    assert _errors(old) == [LOGIN_ERROR]
    assert not _signed_in(client)

    assert _path(auth.login(person, NEW_PASSWORD)) == "/collectives"
    assert _signed_in(client)


def test_change_password_service_refuses_a_short_new_password(ctx):
    user = make_user()

    with pytest.raises(DomainError) as caught:
        accounts.change_password(user, PASSWORD, "too short")

    assert caught.value.field == "password"
    assert user.check_password(PASSWORD)


def test_register_service_refuses_short_passwords_and_taken_emails(ctx):
    make_user(email="taken@example.com")

    with pytest.raises(DomainError) as short:
        accounts.register_user("fresh@example.com", "Fresh", "123456789")
    with pytest.raises(Conflict) as taken:
        accounts.register_user(" Taken@Example.com ", "Again", "long enough pw")

    assert (short.value.field, taken.value.field) == ("password", "email")
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(
        User.email.in_(["fresh@example.com", "taken@example.com"]))) == 1


# --- ?next= -----------------------------------------------------------------------------

UNSAFE_NEXT = ["https://evil.example/", "//evil.example", "/\\evil.example",
               "javascript:alert(1)"]


def test_login_follows_a_local_next(client, person):
    response = client.post("/login?next=/c/x/",
                           data={"email": person, "password": PASSWORD, "next": "/c/x/"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/c/x/"


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_login_ignores_a_next_that_leaves_the_site(client, person, target):
    response = client.post("/login", query_string={"next": target},
                           data={"email": person, "password": PASSWORD, "next": target})

    assert response.status_code == 302
    assert response.headers["Location"] == "/collectives"
    assert _signed_in(client)


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_register_ignores_a_next_that_leaves_the_site(client, target):
    response = client.post("/register", query_string={"next": target}, data={
        "name": "Nina Cruz", "email": "next@example.com", "password": "long enough pw",
        "confirm": "long enough pw", "timezone": "UTC", "next": target,
    })

    assert response.headers["Location"] == "/collectives"


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/c/x/", True),
        ("/collectives?tab=2", True),
        ("/", True),
        ("https://evil.example/", False),
        ("http://collective.test/c/x/", False),
        ("//evil.example", False),
        ("/\\evil.example", False),
        ("\\\\evil.example", False),
        ("javascript:alert(1)", False),
        ("/\t/evil.example", False),
        ("c/x/", False),
        ("", False),
        (None, False),
    ],
)
def test_is_safe_next_accepts_only_local_paths(target, safe):
    assert is_safe_next(target) is safe


# --- CSRF, secrets and cookies ----------------------------------------------------------


@pytest.fixture
def csrf_app(database_url, app):
    """A second app on the same database, with CSRF protection switched on."""
    csrf_app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": True,
                           "SECRET_KEY": "x"})
    yield csrf_app
    with csrf_app.app_context():
        db.engine.dispose()


def test_login_without_a_csrf_token_is_refused_and_writes_no_session(csrf_app, setup, person):
    client = csrf_app.test_client()

    response = client.post("/login", data={"email": person, "password": PASSWORD})

    assert response.status_code == 400
    assert "session=" not in response.headers.get("Set-Cookie", "")
    with client.session_transaction() as session:
        assert "_user_id" not in session

    # The same sign-in with the token from the form goes through, so the 400 was the CSRF check.
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    response = client.post("/login",
                           data={"email": person, "password": PASSWORD, "csrf_token": token})
    assert _path(response) == "/collectives"
    with client.session_transaction() as session:
        assert "_user_id" in session


def _production(monkeypatch, **settings: str | None) -> None:
    """The environment of a production process: each setting given is set, or unset when
    None."""
    monkeypatch.setenv("COLLECTIVE_ENV", "production")
    for name, value in settings.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def _production_app(database_url: str | None = None):
    """A production app built in this process; not frozen, since the collector's settings
    would last for the rest of the test process."""
    config = {"FREEZE_START_HEAP": False}
    if database_url:
        config["SQLALCHEMY_DATABASE_URI"] = database_url
    return create_app(config)


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, database_url):
    _production(monkeypatch, SECRET_KEY=None)

    with pytest.raises(RuntimeError, match="SECRET_KEY must be set in production"):
        _production_app(database_url)


def test_production_refuses_to_start_without_a_rate_limit_store(monkeypatch, database_url):
    """Several workers counting alone would each allow the full limit: production names
    its store (memory:// too, when one worker counting alone is meant)."""
    _production(monkeypatch, SECRET_KEY="from-the-environment", RATELIMIT_STORAGE_URI=None)

    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI must be set in production"):
        _production_app(database_url)


def test_production_without_rate_limits_needs_no_store(monkeypatch, database_url):
    _production(monkeypatch, SECRET_KEY="from-the-environment", RATELIMIT_ENABLED="0",
                RATELIMIT_STORAGE_URI=None)

    prod = _production_app(database_url)

    assert prod.config["RATELIMIT_ENABLED"] is False
    with prod.app_context():
        db.engine.dispose()


def test_production_uses_the_secret_key_from_the_environment(monkeypatch, database_url):
    _production(monkeypatch, SECRET_KEY="from-the-environment",
                RATELIMIT_STORAGE_URI="memory://", COLLECTIVE_INSECURE_COOKIES=None)

    prod = _production_app(database_url)

    assert prod.config["SECRET_KEY"] == "from-the-environment"
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    with prod.app_context():
        db.engine.dispose()


def test_session_cookies_are_http_only_and_same_site_lax(app, auth, client, person):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"

    cookie = auth.login(person).headers["Set-Cookie"]

    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_production_hashes_with_full_strength_scrypt(monkeypatch, tmp_path):
    _production(monkeypatch, SECRET_KEY="s" * 32, RATELIMIT_STORAGE_URI="memory://",
                DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    prod = _production_app()
    assert prod.config["PASSWORD_HASH_METHOD"] == "scrypt"
    with prod.app_context():
        user = User(email="x@example.com", name="X")
        user.set_password("correct horse battery", accounts.password_method())
    # werkzeug writes the parameters into the hash: the default work factor.
    assert user.password_hash.startswith("scrypt:32768:8:1$")
