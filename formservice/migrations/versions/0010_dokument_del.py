"""Every part of a produced document (the blankett, each bilaga, each recipient's copy) kept as PDF
and DOCX on its own.

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dokument_del",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dokument_id", sa.Integer, sa.ForeignKey("dokument.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("blankett_id", sa.String(60), nullable=False),
        sa.Column("title_enc", sa.LargeBinary, nullable=False),
        sa.Column("pdf_enc", sa.LargeBinary, nullable=False),
        sa.Column("docx_enc", sa.LargeBinary, nullable=True),
    )
    op.create_index("ux_dokument_del_position", "dokument_del", ["dokument_id", "position"], unique=True)


def downgrade() -> None:
    op.drop_table("dokument_del")
