"""Which draft version a document was produced from: a double click on "Ta fram" gives one document.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dokument") as batch:
        batch.add_column(sa.Column("utkast_ref", sa.String(40), nullable=True))
    op.create_index("ux_dokument_arende_utkast", "dokument", ["arende_id", "utkast_ref"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_dokument_arende_utkast", table_name="dokument")
    with op.batch_alter_table("dokument") as batch:
        batch.drop_column("utkast_ref")
