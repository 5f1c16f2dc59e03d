"""Each organisation's logo (``organisation.logo``, a PNG re-encoded at upload) and when it changed.

Revision ID: 0023
Revises: 0022
"""
from alembic import op
import sqlalchemy as sa

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(sa.Column("logo", sa.LargeBinary, nullable=True))
        batch.add_column(sa.Column("logo_andrad", sa.DateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        batch.drop_column("logo_andrad")
        batch.drop_column("logo")
