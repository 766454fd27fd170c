"""Extension objects, created unbound and bound to the app in create_app."""
import enum
from datetime import UTC

import click
import sqlalchemy as sa
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import orm as so

from collective.clock import now_utc

#: One naming convention for every constraint, set before the first migration.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class LazyMigrate:
    """Flask-Migrate, imported the first time a migration needs it: flask_migrate imports
    alembic as it loads (about 150 ms), which no request, job or other command needs.

    `init_app` takes Flask-Migrate's arguments and registers the `flask db` commands; the
    real `Migrate` binds itself to the app when a command runs or `flask_migrate.upgrade()`
    is called (either reads `app.extensions["migrate"]`)."""

    def init_app(self, app, db, **options) -> None:
        """Register the `db` commands and a stand-in for Flask-Migrate's app state."""
        app.extensions["migrate"] = _MigrateOnFirstUse(app, db, options)
        app.cli.add_command(_MigrateCommands("db", help="Perform database migrations."))


class _MigrateOnFirstUse:
    """Stands in `app.extensions["migrate"]` until read: then binds the real Migrate, which
    replaces it there, and answers from it."""

    def __init__(self, app, db, options: dict) -> None:
        self._app, self._db, self._options = app, db, options

    def __getattr__(self, name: str):
        from flask_migrate import Migrate

        Migrate(self._app, self._db, **self._options)
        return getattr(self._app.extensions["migrate"], name)


class _MigrateCommands(click.Group):
    """The `flask db` group, listed under its own help; Flask-Migrate's group (and alembic)
    loads only when the command runs."""

    def make_context(self, info_name, args, parent=None, **extra):
        """Parse and run `flask db ...` with Flask-Migrate's own group."""
        from flask_migrate.cli import db as migrate_commands

        return migrate_commands.make_context(info_name, args, parent=parent, **extra)


class Base(so.DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = LazyMigrate()
login_manager = LoginManager()
csrf = CSRFProtect()
#: Rate limits per client address unless a limit names its own key (collective/web/limits.py);
#: the storage and strategy come from the RATELIMIT_* settings.
limiter = Limiter(get_remote_address)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite drops the offset otherwise)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given where a UTC-aware one is needed")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def _enum_values(enum_class: type[enum.StrEnum]) -> list[str]:
    return [member.value for member in enum_class]


def str_enum(enum_class: type[enum.StrEnum], *, name: str, length: int) -> sa.Enum:
    """The column type of a StrEnum: a VARCHAR(length) of the members' values, and a CHECK
    constraint ck_<table>_<name>, generated from the enum, that refuses any other value.

    Rows read back hold enum members (a StrEnum member equals its value string). An unknown
    string is not refused in Python but sent on, so the database's constraint is the one
    guard. Adding a member to the enum needs a migration that replaces the constraint.
    """
    return sa.Enum(enum_class, name=name, length=length, native_enum=False,
                   create_constraint=True, values_callable=_enum_values)


#: Column default for record timestamps: the current instant in UTC (the clock's own).
utcnow = now_utc
