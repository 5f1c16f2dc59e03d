"""The doctor's answers (svar) and the fillable förfrågan stored with its document.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dokument") as batch:
        batch.add_column(sa.Column("fillable_enc", sa.LargeBinary, nullable=True))
    op.create_table(
        "svar",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(32), nullable=False, unique=True),
        sa.Column("arende_id", sa.Integer, sa.ForeignKey("arende.id", ondelete="CASCADE"), nullable=False),
        sa.Column("dokument_id", sa.Integer, sa.ForeignKey("dokument.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("answers_enc", sa.LargeBinary, nullable=False),
        sa.Column("pdf_enc", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("confirmed_at", sa.DateTime, nullable=True),
        sa.Column("confirmed_by", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_svar_arende_id", "svar", ["arende_id"])
    op.create_index("ix_svar_dokument_id", "svar", ["dokument_id"])


def downgrade() -> None:
    op.drop_table("svar")
    with op.batch_alter_table("dokument") as batch:
        batch.drop_column("fillable_enc")
