"""Ärenden, history, drafts, documents (personal data encrypted) and the append-only audit log.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The audit log is append-only in the database itself, not only in the code.
_SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END",
    "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END",
]
_PG_TRIGGER = [
    "CREATE FUNCTION audit_entry_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_entry is append-only'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "arende",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(32), nullable=False, unique=True),
        sa.Column("enhet_id", sa.Integer, sa.ForeignKey("enhet.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("handlaggare_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("lane", sa.String(20), nullable=False),
        sa.Column("ruta", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("individ_enc", sa.LargeBinary, nullable=False),
        sa.Column("svar_enc", sa.LargeBinary, nullable=True),
        sa.Column("pnr_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_arende_enhet_id", "arende", ["enhet_id"])
    op.create_index("ix_arende_pnr_hash", "arende", ["pnr_hash"])
    op.create_index("ix_arende_updated_at", "arende", ["updated_at"])
    op.create_table(
        "arende_sokord",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("arende_id", sa.Integer, sa.ForeignKey("arende.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_arende_sokord_arende_id", "arende_sokord", ["arende_id"])
    op.create_index("ix_arende_sokord_token_hash", "arende_sokord", ["token_hash"])
    op.create_table(
        "handelse",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("arende_id", sa.Integer, sa.ForeignKey("arende.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("from_ruta", sa.String(20), nullable=True),
        sa.Column("to_ruta", sa.String(20), nullable=True),
        sa.Column("beslut", sa.String(200), nullable=True),
        sa.Column("note_enc", sa.LargeBinary, nullable=True),
    )
    op.create_index("ix_handelse_arende_id", "handelse", ["arende_id"])
    op.create_table(
        "utkast",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("arende_id", sa.Integer, sa.ForeignKey("arende.id", ondelete="CASCADE"), nullable=False),
        sa.Column("blankett_id", sa.String(60), nullable=False),
        sa.Column("values_enc", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_utkast_arende_id", "utkast", ["arende_id"])
    op.create_index("ux_utkast_arende_blankett", "utkast", ["arende_id", "blankett_id"], unique=True)
    op.create_table(
        "dokument",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(32), nullable=False, unique=True),
        sa.Column("arende_id", sa.Integer, sa.ForeignKey("arende.id", ondelete="CASCADE"), nullable=False),
        sa.Column("blankett_id", sa.String(60), nullable=False),
        sa.Column("blankett_version", sa.String(40), nullable=False),
        sa.Column("document_number", sa.String(40), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_at", sa.DateTime, nullable=False),
        sa.Column("pdf_enc", sa.LargeBinary, nullable=False),
        sa.Column("docx_enc", sa.LargeBinary, nullable=True),
        sa.Column("values_enc", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_dokument_arende_id", "dokument", ["arende_id"])
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("organisation_id", sa.Integer, nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("object_type", sa.String(40), nullable=True),
        sa.Column("object_id", sa.String(40), nullable=True),
        sa.Column("client", sa.String(64), nullable=True),
        sa.Column("detail", sa.String(200), nullable=True),
    )
    op.create_index("ix_audit_entry_at", "audit_entry", ["at"])
    op.create_index("ix_audit_entry_user_id", "audit_entry", ["user_id"])
    op.create_index("ix_audit_entry_organisation_id", "audit_entry", ["organisation_id"])
    statements = _PG_TRIGGER if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    for sql in statements:
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
    op.drop_table("audit_entry")
    op.drop_table("dokument")
    op.drop_table("utkast")
    op.drop_table("handelse")
    op.drop_table("arende_sokord")
    op.drop_table("arende")
