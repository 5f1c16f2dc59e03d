"""Whether a produced document is complete: the click writes the print PDF, the rest follows after
the response (existing documents are complete).

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dokument") as batch:
        batch.add_column(sa.Column("klar", sa.Boolean, nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("dokument") as batch:
        batch.drop_column("klar")
