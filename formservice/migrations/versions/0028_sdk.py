"""SDK (Säker digital kommunikation): enheternas SDK-adresser (``samverkan_sdk_adress``) and the
conversation id of a hand-over sent as an SDK package (``overlamning.sdk_konversation``).

Revision ID: 0028
Revises: 0026 (0027 once it exists)
"""
from alembic import op
import sqlalchemy as sa

revision = "0028"
down_revision = "0026"  # 0027 (another engineer's) once it lands: see the report
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "samverkan_sdk_adress",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("enhet_id", sa.Integer, sa.ForeignKey("enhet.id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("deltagare", sa.String(100), nullable=False),
        sa.Column("funktionsadress", sa.String(254), nullable=False),
        sa.Column("utanfor", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    with op.batch_alter_table("overlamning") as batch:
        batch.add_column(sa.Column("sdk_konversation", sa.String(36), nullable=True))
        batch.create_unique_constraint("uq_overlamning_sdk_konversation", ["sdk_konversation"])


def downgrade() -> None:
    with op.batch_alter_table("overlamning") as batch:
        batch.drop_constraint("uq_overlamning_sdk_konversation", type_="unique")
        batch.drop_column("sdk_konversation")
    op.drop_table("samverkan_sdk_adress")
