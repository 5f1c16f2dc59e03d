"""SDK packages written by the job worker (samverkan/packages.py): when a hand-over's package was
written (``overlamning.sdk_paket_at``) or why it could not be (``overlamning.sdk_paket_fel``).
Packages of hand-overs sent before this revision were written in the send request: they are marked
written when they were sent, so that no worker writes them again.

Revision ID: 0030
Revises: 0029
"""
from alembic import op
import sqlalchemy as sa

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("overlamning") as batch:
        batch.add_column(sa.Column("sdk_paket_at", sa.DateTime, nullable=True))
        batch.add_column(sa.Column("sdk_paket_fel", sa.String(300), nullable=True))
    op.execute("UPDATE overlamning SET sdk_paket_at = skickad_at WHERE sdk_konversation IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("overlamning") as batch:
        batch.drop_column("sdk_paket_fel")
        batch.drop_column("sdk_paket_at")
