"""The caseworker's DFA review of a läkarintyg at ruta 7–8 (``dfa_granskning``), encrypted.

Revision ID: 0024
Revises: 0023
"""
from alembic import op
import sqlalchemy as sa

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dfa_granskning",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(32), nullable=False, unique=True),
        sa.Column("arende_id", sa.Integer, sa.ForeignKey("arende.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("svar_id", sa.Integer, sa.ForeignKey("svar.id", ondelete="SET NULL"), nullable=True),
        sa.Column("intyg_enc", sa.LargeBinary, nullable=True),
        sa.Column("pdf_enc", sa.LargeBinary, nullable=True),
        sa.Column("answers_enc", sa.LargeBinary, nullable=False),
        sa.Column("result", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_dfa_granskning_arende_id", "dfa_granskning", ["arende_id"])


def downgrade() -> None:
    op.drop_index("ix_dfa_granskning_arende_id", table_name="dfa_granskning")
    op.drop_table("dfa_granskning")
