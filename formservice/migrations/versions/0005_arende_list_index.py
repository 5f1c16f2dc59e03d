"""Index for the case list: an enhet's ärenden newest first without sorting them all.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_arende_enhet_updated", "arende", ["enhet_id", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_arende_enhet_updated", table_name="arende")
