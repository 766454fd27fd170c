"""Extension objects, created unbound and bound to the app in create_app."""
import enum
from datetime import UTC

import sqlalchemy as sa
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
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


class Base(so.DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
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
