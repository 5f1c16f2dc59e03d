"""Gallring: an organisation's own periods, its exemptions, ärenden on hold and the gallringslogg;
the audit log may now lose entries older than a year (the audit-log rule), and no younger ones.

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The audit log stays append-only except for gallring: the database refuses to delete an entry
# younger than 365 days, whoever asks (arenden/gallring.py never asks for less than a year).
_SQLITE_AUDIT = [
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
    "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
    "WHEN OLD.at > datetime('now', '-365 days') "
    "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END",
]
_SQLITE_AUDIT_DOWN = [
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
    "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END",
]
_PG_AUDIT = [
    "CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$ "
    "BEGIN "
    "IF TG_OP = 'DELETE' AND OLD.at < (now() AT TIME ZONE 'UTC') - interval '365 days' THEN RETURN OLD; END IF; "
    "RAISE EXCEPTION 'audit_entry is append-only'; "
    "END; $$ LANGUAGE plpgsql",
]
_PG_AUDIT_DOWN = [
    "CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_entry is append-only'; END; $$ LANGUAGE plpgsql",
]
# The gallringslogg is never changed nor deleted.
_SQLITE_LOGG = [
    "CREATE TRIGGER gallringslogg_no_update BEFORE UPDATE ON gallringslogg "
    "BEGIN SELECT RAISE(ABORT, 'gallringslogg is append-only'); END",
    "CREATE TRIGGER gallringslogg_no_delete BEFORE DELETE ON gallringslogg "
    "BEGIN SELECT RAISE(ABORT, 'gallringslogg is append-only'); END",
]
_PG_LOGG = [
    "CREATE FUNCTION gallringslogg_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'gallringslogg is append-only'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER gallringslogg_append_only BEFORE UPDATE OR DELETE ON gallringslogg "
    "FOR EACH ROW EXECUTE FUNCTION gallringslogg_append_only()",
]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "gallringsregel",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisation.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("period", sa.Integer, nullable=False),
        sa.Column("changed_at", sa.DateTime, nullable=False),
        sa.Column("changed_by", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ux_gallringsregel_organisation_kind", "gallringsregel", ["organisation_id", "kind"],
                    unique=True)
    op.create_table(
        "gallringsundantag",
        sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisation.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("birth_days", sa.String(100), nullable=False),
        sa.Column("keep_all", sa.Boolean, nullable=False),
        sa.Column("changed_at", sa.DateTime, nullable=False),
        sa.Column("changed_by", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_table(
        "gallringsstopp",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("arende_id", sa.Integer, sa.ForeignKey("arende.id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("reason_enc", sa.LargeBinary, nullable=False),
        sa.Column("set_at", sa.DateTime, nullable=False),
        sa.Column("set_by", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_table(
        "gallringslogg",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("organisation_id", sa.Integer, nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("kept", sa.Integer, nullable=False),
    )
    op.create_index("ix_gallringslogg_at", "gallringslogg", ["at"])
    op.create_index("ix_gallringslogg_organisation_id", "gallringslogg", ["organisation_id"])
    for sql in (_PG_AUDIT + _PG_LOGG) if _postgres() else (_SQLITE_AUDIT + _SQLITE_LOGG):
        op.execute(sql)


def downgrade() -> None:
    for sql in _PG_AUDIT_DOWN if _postgres() else _SQLITE_AUDIT_DOWN:
        op.execute(sql)
    if _postgres():
        op.execute("DROP TRIGGER IF EXISTS gallringslogg_append_only ON gallringslogg")
        op.execute("DROP FUNCTION IF EXISTS gallringslogg_append_only()")
    op.drop_index("ix_gallringslogg_organisation_id", "gallringslogg")
    op.drop_index("ix_gallringslogg_at", "gallringslogg")
    op.drop_table("gallringslogg")
    op.drop_table("gallringsstopp")
    op.drop_table("gallringsundantag")
    op.drop_index("ux_gallringsregel_organisation_kind", "gallringsregel")
    op.drop_table("gallringsregel")
