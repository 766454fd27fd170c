"""Collective: freelancer collectives run as cooperatives."""
from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from flask import Flask

from collective import database
from collective.config import settings_from_environment
from collective.extensions import csrf, db, login_manager, migrate

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
#: Container allocations (less deallocations) that start a young collection in a deployed
#: app (Python's default is 700).
YOUNG_COLLECTION_THRESHOLD = 20_000


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app: settings, extensions, blueprints, error pages and CLI."""
    # Building the app allocates tens of thousands of objects that live as long as it does
    # (mappers, tables, url rules). The cyclic collector's passes over them while they are
    # made free nothing and took a fifth of start-up (bench/startup.py): it is off meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        app = _build_app(config)
    finally:
        if collecting:
            gc.enable()
    if app.config["FREEZE_START_HEAP"]:
        # The same objects, frozen: the collector's full passes no longer walk them, and a
        # request that makes many objects (ten thousand members' rows) stops paying for
        # it: the suggestion list at 10,000 members took half as long (bench/ranking.py).
        gc.freeze()
        # And fewer young collections: a page that reads 5,000 rows makes tens of thousands
        # of tuples, and with the default threshold (700) each few hundred set a collection
        # off. The suggestion list at 5,000 members on SQLite: median 80 ms and up to 270
        # ms with the default, 64 ms and at most 68 ms with this (bench/ranking.py). Most
        # garbage is freed by reference counting anyway; cycles wait a little longer.
        gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])
    return app


def _build_app(config: dict[str, Any] | None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(settings_from_environment(Path(app.instance_path)))
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    register_extensions(app)
    register_web(app)
    register_domain_kinds()
    register_blueprints(app)
    register_mail(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the extension objects to the app."""
    db.init_app(app)
    with app.app_context():
        database.init_engine(db.engine)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "members.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    from collective.api import models as _api_models  # noqa: F401
    from collective.audit import models as _audit_models  # noqa: F401
    from collective.benefits import models as _benefit_models  # noqa: F401
    from collective.books.bank import models as _bank_models  # noqa: F401
    from collective.books.expenses import models as _expense_models  # noqa: F401
    from collective.books.invoices import models as _invoice_models  # noqa: F401
    from collective.exchange import models as _exchange_models  # noqa: F401
    from collective.federation import models as _federation_models  # noqa: F401
    from collective.learning import models as _learning_models  # noqa: F401
    from collective.mail import models as _mail_models  # noqa: F401
    from collective.members.models import User
    from collective.notifications import models as _notification_models  # noqa: F401
    from collective.pool import models as _pool_models  # noqa: F401  (complete metadata)
    from collective.pool.evidence import models as _evidence_models  # noqa: F401
    from collective.standards import models as _standards_models  # noqa: F401
    from collective.webhooks import models as _webhook_models  # noqa: F401

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        user_id, _, _digest = session_id.partition(":")
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        if user is None or user.get_id() != session_id:
            return None  # unknown, or the password changed since this session began
        return user


def register_domain_kinds() -> None:
    """Each domain tells the layers below what it owns: entry kinds, proposal kinds."""
    from collective import benefits, federation, pool
    from collective.books import bank, expenses, invoices

    benefits.register_kinds()
    pool.register_kinds()
    federation.register_kinds()
    expenses.register_kinds()
    invoices.register_kinds()
    bank.register_checks()
    invoices.register_matcher()


def register_blueprints(app: Flask) -> None:
    """Register each domain's blueprint."""
    from collective.benefits.views import bp as fund_bp
    from collective.books.bank.views import bp as bank_bp
    from collective.books.invoices.views import bp as invoices_bp
    from collective.federation.views import bp as federation_bp
    from collective.home.views import bp as home_bp
    from collective.ledger.views import bp as ledger_bp
    from collective.members.audit_views import bp as audit_bp
    from collective.members.email_views import bp as email_bp
    from collective.members.reset_views import bp as password_bp
    from collective.members.views import bp as members_bp
    from collective.pool.evidence.views import bp as evidence_bp
    from collective.pool.views import bp as pool_bp
    from collective.reports.views import bp as reports_bp
    from collective.reports.views import dashboard_bp

    app.register_blueprint(members_bp)
    app.register_blueprint(password_bp)
    app.register_blueprint(email_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(ledger_bp)
    app.register_blueprint(pool_bp)
    app.register_blueprint(evidence_bp)
    app.register_blueprint(fund_bp)
    app.register_blueprint(federation_bp)
    app.register_blueprint(bank_bp)
    app.register_blueprint(invoices_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(home_bp)
    from collective.books import expenses

    expenses.init_app(app)
    from collective import learning, standards

    learning.init_app(app)
    standards.init_app(app)
    from collective import api

    api.init_app(app)


def register_mail(app: Flask) -> None:
    """The outbox's pages and the treasurers' banner (docs/mail.md), the notifications'
    pages, and the webhooks' (docs/webhooks.md)."""
    from collective import mail

    mail.init_app(app)
    from collective import notifications

    notifications.init_app(app)
    from collective import webhooks

    webhooks.init_app(app)


def register_web(app: Flask) -> None:
    """The shared web plumbing, and what the domains lend it: the membership lookup behind
    collective_view, and the role names templates use."""
    from collective import web
    from collective.members.models import Role
    from collective.members.services import membership_in
    from collective.web.scoping import register_membership_lookup

    web.init_app(app)
    register_membership_lookup(membership_in)
    app.jinja_env.globals["Role"] = Role


def register_commands(app: Flask) -> None:
    """Add the CLI commands: demo, ledger, benefits, mail, webhooks, scheduler, rates."""
    from collective.benefits.cli import benefits_cli
    from collective.demo import demo_command
    from collective.exchange.cli import rates_cli
    from collective.ledger.cli import ledger_cli
    from collective.mail.cli import mail_cli
    from collective.reports.cli import reports_cli
    from collective.scheduling import scheduler_command
    from collective.webhooks.cli import webhooks_cli

    app.cli.add_command(ledger_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(benefits_cli)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(reports_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(webhooks_cli)
    app.cli.add_command(rates_cli)
