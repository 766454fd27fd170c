"""Collective: freelancer collectives run as cooperatives."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, abort, render_template, request

from collective.config import settings_from_environment
from collective.extensions import csrf, db, login_manager, migrate

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app: settings, extensions, blueprints, error pages and CLI."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(settings_from_environment(Path(app.instance_path)))
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    register_extensions(app)
    register_request_guards(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def _configure_sqlite(engine: sa.Engine) -> None:
    """Foreign keys on, and real transactions (pysqlite's own handling breaks savepoints)."""

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection):
        # IMMEDIATE takes the write lock up front, so concurrent writers queue instead of
        # failing half-way with "database is locked".
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def register_extensions(app: Flask) -> None:
    """Bind the extension objects to the app."""
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "members.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    from collective.benefits import models as _benefit_models  # noqa: F401
    from collective.benefits import services as _benefit_services  # noqa: F401
    from collective.members.models import User
    from collective.pool import models as _pool_models  # noqa: F401  (complete metadata)
    from collective.pool import services as _pool_services  # noqa: F401  (registers adopters)

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        user_id, _, _digest = session_id.partition(":")
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        if user is None or user.get_id() != session_id:
            return None  # unknown, or the password changed since this session began
        return user


def register_request_guards(app: Flask) -> None:
    """Refuse input no page can use, before any view sees it: ids beyond what a database
    integer holds (404, like any unknown id) and NUL characters in text (400)."""
    from werkzeug.routing import IntegerConverter

    from collective.web import MAX_ID

    class IdConverter(IntegerConverter):
        """<int:...> in URLs: a positive id that fits the database's integer."""

        def __init__(self, url_map, *args, **kwargs):
            kwargs.setdefault("max", MAX_ID)
            super().__init__(url_map, *args, **kwargs)

    app.url_map.converters["int"] = IdConverter

    @app.before_request
    def refuse_nul_characters():
        for values in (request.args, request.form):
            for key, value in values.items(multi=True):
                if "\x00" in key or "\x00" in value:
                    abort(400, "Text may not contain NUL characters.")


def register_blueprints(app: Flask) -> None:
    """Register each domain's blueprint."""
    from collective.benefits.views import bp as fund_bp
    from collective.ledger.views import bp as ledger_bp
    from collective.members.views import bp as members_bp
    from collective.pool.views import bp as pool_bp
    from collective.reports.dashboard import bp as dashboard_bp
    from collective.reports.views import bp as reports_bp

    app.register_blueprint(members_bp)
    app.register_blueprint(ledger_bp)
    app.register_blueprint(pool_bp)
    app.register_blueprint(fund_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(reports_bp)


def register_errorhandlers(app: Flask) -> None:
    """Friendly pages for the errors a person can meet."""

    def render_error(error):
        code = getattr(error, "code", 500)
        return render_template("error.html", error=error, code=code), code

    for code in (400, 403, 404, 405, 409, 422, 500):
        app.errorhandler(code)(render_error)


def register_template_helpers(app: Flask) -> None:
    """Filters and globals the templates use."""
    from collective.charts import bar_chart
    from collective.members.models import Role
    from collective.money import format_money, format_plain

    app.jinja_env.globals["Role"] = Role
    app.jinja_env.globals["bar_chart"] = bar_chart

    app.jinja_env.filters["money"] = lambda amount, currency: format_money(amount, currency)
    app.jinja_env.filters["plain_money"] = format_plain


def register_commands(app: Flask) -> None:
    """Add the CLI commands: demo, ledger, benefits, scheduler."""
    from collective.benefits.cli import benefits_cli, scheduler_command
    from collective.demo import demo_command
    from collective.ledger.cli import ledger_cli
    from collective.reports.cli import reports_cli

    app.cli.add_command(ledger_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(benefits_cli)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(reports_cli)
