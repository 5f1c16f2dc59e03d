"""The organisation's contact for accessibility questions (the tillgänglighetsredogörelse).

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(sa.Column("kontakt_epost", sa.String(254), nullable=True))
        batch.add_column(sa.Column("kontakt_telefon", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        batch.drop_column("kontakt_telefon")
        batch.drop_column("kontakt_epost")
