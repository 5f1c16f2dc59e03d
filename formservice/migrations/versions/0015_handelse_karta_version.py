"""Which version of the process map each history entry was made under (the start of the SHA-256
of forms/processkarta.yaml); entries from before are left empty.

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handelse") as batch:
        batch.add_column(sa.Column("karta_version", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handelse") as batch:
        batch.drop_column("karta_version")
