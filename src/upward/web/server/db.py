"""The server's database: its tables (SQLAlchemy Core), the engine, and migrations (Alembic).

PostgreSQL holds accounts, sessions, API tokens, login attempts, the restricted program files
of each tenant, evaluations, the evidence index of published results and the audit log. The
schema is created and upgraded only by the Alembic migrations in ``migrations/``; the tables
below describe it for queries.

Examples
--------
>>> sorted(metadata.tables)[:3]
['api_tokens', 'audit', 'datasets']
>>> ROLES
('viewer', 'analyst', 'admin')
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from upward.core.errors import ConfigError

#: Roles in a tenant, weakest first: each can do what the ones before it can.
ROLES = ("viewer", "analyst", "admin")

metadata = sa.MetaData()

tenants = sa.Table(
    "tenants", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("slug", sa.String(40), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

memberships = sa.Table(
    "memberships", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("label", sa.String(100), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

login_attempts = sa.Table(
    "login_attempts", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("ip", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
)

datasets = sa.Table(
    "datasets", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("suffix", sa.String(10), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("n_rows", sa.Integer, nullable=False),
    sa.Column("columns", sa.JSON, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("uploaded_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

evaluations = sa.Table(
    "evaluations", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("design", sa.String(40), nullable=False),
    sa.Column("headline", sa.Text, nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("published", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

evidence_index = sa.Table(
    "evidence_index", metadata,
    sa.Column("evaluation_id", sa.Integer, sa.ForeignKey("evaluations.id"), primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("design", sa.String(40), nullable=False),
    sa.Column("outcome", sa.String(200), nullable=False),
    sa.Column("estimate", sa.Float),
    sa.Column("se", sa.Float),
    sa.Column("n", sa.Integer),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
)

audit = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("user_id", sa.Integer),
    sa.Column("username", sa.String(64)),
    sa.Column("tenant_id", sa.Integer),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("object_kind", sa.String(32), nullable=False),
    sa.Column("object_id", sa.String(64)),
    sa.Column("detail", sa.Text, nullable=False),
)

MIGRATIONS = Path(__file__).parent / "migrations"


def check_dsn(dsn: str) -> str:
    """``dsn`` as SQLAlchemy reads it (psycopg 3), or a ConfigError naming the problem.

    >>> check_dsn("postgresql://upward@127.0.0.1:5432/upward")
    'postgresql+psycopg://upward@127.0.0.1:5432/upward'
    >>> check_dsn("sqlite:///x.db")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    upward.core.errors.ConfigError: --database 'sqlite:///x.db' is not a PostgreSQL address...
    """
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if dsn.startswith(prefix):
            return "postgresql+psycopg://" + dsn[len(prefix):]
    raise ConfigError(f"--database {dsn!r} is not a PostgreSQL address",
                      fix="give postgresql://USER@HOST:PORT/DBNAME (the shared server keeps "
                      "its accounts and restricted data in PostgreSQL)")


def connect(dsn: str, *, pool_size: int = 5) -> Engine:
    """An engine on ``dsn`` (not yet connected).

    >>> connect("postgresql://u@127.0.0.1:1/db").dialect.name
    'postgresql'
    """
    return sa.create_engine(check_dsn(dsn), pool_size=pool_size, max_overflow=10,
                            pool_pre_ping=True, future=True)


def _alembic_config(engine: Engine):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> str:
    """Bring the database's schema up to date (Alembic ``upgrade head``); the revision.

    A database that cannot be reached is a ConfigError that names it.
    """
    from alembic import command

    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError(f"cannot reach the database {engine.url.render_as_string()} ({first})",
                          fix="start PostgreSQL, or correct --database / [server] database"
                          ) from None
    command.upgrade(_alembic_config(engine), "head")
    with engine.connect() as conn:
        return conn.execute(sa.text("select version_num from alembic_version")).scalar_one()


__all__ = ["ROLES", "api_tokens", "audit", "check_dsn", "connect", "datasets", "evaluations",
           "evidence_index", "login_attempts", "memberships", "metadata", "migrate", "sessions",
           "tenants", "users"]
