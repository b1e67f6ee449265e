"""The shared server's first schema: tenants, users, memberships, sessions, API tokens, login
attempts, restricted program files, evaluations, the evidence index and the append-only audit
log (a trigger refuses UPDATE, DELETE and TRUNCATE on it).

Revision ID: 0001_server
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_server"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.CheckConstraint("role in ('viewer', 'analyst', 'admin')", name="role_known"),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
    )
    op.create_index("login_attempts_by_name", "login_attempts", ["username", "at"])
    op.create_index("login_attempts_by_ip", "login_attempts", ["ip", "at"])
    op.create_table(
        "datasets",
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
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("status in ('pending', 'loaded')", name="status_known"),
        sa.CheckConstraint("octet_length(content) = size", name="content_complete"),
    )
    op.create_index("datasets_by_tenant", "datasets", ["tenant_id"])
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("design", sa.String(40), nullable=False),
        sa.Column("headline", sa.Text, nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("published", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("evaluations_by_tenant", "evaluations", ["tenant_id"])
    op.create_table(
        "evidence_index",
        sa.Column("evaluation_id", sa.Integer, sa.ForeignKey("evaluations.id"),
                  primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("design", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(200), nullable=False),
        sa.Column("estimate", sa.Float),
        sa.Column("se", sa.Float),
        sa.Column("n", sa.Integer),
        sa.Column("published_at", TS, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("user_id", sa.Integer),
        sa.Column("username", sa.String(64)),
        sa.Column("tenant_id", sa.Integer),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("object_kind", sa.String(32), nullable=False),
        sa.Column("object_id", sa.String(64)),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("audit_by_tenant", "audit", ["tenant_id", "at"])
    # Append-only: the database itself refuses to change or remove an audit row.
    op.execute("""
        create function upward_audit_append_only() returns trigger language plpgsql as $$
        begin
            raise exception 'the audit log is append-only: % is refused', tg_op
                using errcode = 'insufficient_privilege';
        end $$
    """)
    op.execute("""
        create trigger audit_append_only before update or delete on audit
        for each row execute function upward_audit_append_only()
    """)
    op.execute("""
        create trigger audit_no_truncate before truncate on audit
        for each statement execute function upward_audit_append_only()
    """)


def downgrade() -> None:
    for table in ("audit", "evidence_index", "evaluations", "datasets", "login_attempts",
                  "api_tokens", "sessions", "memberships", "users", "tenants"):
        op.drop_table(table)
    op.execute("drop function if exists upward_audit_append_only()")
