"""The archive copy of a produced document (PDF/A), kept beside the print copy.

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dokument") as batch:
        batch.add_column(sa.Column("archive_enc", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dokument") as batch:
        batch.drop_column("archive_enc")
