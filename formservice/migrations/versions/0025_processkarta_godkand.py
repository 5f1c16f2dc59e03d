"""The approved process map version in the database (``processkarta_godkand``), so that every host on
one database follows an admin's approval. A version approved before this migration, in
instance/processkarta-godkand.txt, is carried over by the app when it first runs (a migration does
not know the instance folder): arenden/kartversion.py.

Revision ID: 0025
Revises: 0024
"""
from alembic import op
import sqlalchemy as sa

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processkarta_godkand",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("approved_at", sa.DateTime, nullable=False),
        sa.Column("approved_by", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("processkarta_godkand")
