"""An organisation belongs to a Samordningsförbund (``organisation.forbund_id``): the förbund's name on
its Finsam blanketter, and the only förbund whose uppföljare sees the organisation's shared
follow-up (before, every förbund saw every organisation that shared).

Revision ID: 0020
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(sa.Column("forbund_id", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_organisation_forbund", "organisation", ["forbund_id"], ["id"],
                                 ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        batch.drop_constraint("fk_organisation_forbund", type_="foreignkey")
        batch.drop_column("forbund_id")
