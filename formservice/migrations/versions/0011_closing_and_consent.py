"""Closing an ärende (date and reason) and the consents the individ signed.

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("arende") as batch:
        batch.add_column(sa.Column("closed_on", sa.Date, nullable=True))
        batch.add_column(sa.Column("closed_reason", sa.String(60), nullable=True))
    op.create_table(
        "samtycke",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(32), nullable=False, unique=True),
        sa.Column("arende_id", sa.Integer, sa.ForeignKey("arende.id", ondelete="CASCADE"), nullable=False),
        sa.Column("dokument_id", sa.Integer, sa.ForeignKey("dokument.id", ondelete="SET NULL"), nullable=True),
        sa.Column("blankett_id", sa.String(60), nullable=False),
        sa.Column("parties", sa.String(200), nullable=False),
        sa.Column("given_by_enc", sa.LargeBinary, nullable=False),
        sa.Column("scope_enc", sa.LargeBinary, nullable=True),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("revoked_on", sa.Date, nullable=True),
        sa.Column("note_enc", sa.LargeBinary, nullable=True),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
        sa.Column("recorded_by", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_samtycke_arende_id", "samtycke", ["arende_id"])
    op.create_index("ix_samtycke_valid_until", "samtycke", ["valid_until"])


def downgrade() -> None:
    op.drop_index("ix_samtycke_valid_until", "samtycke")
    op.drop_index("ix_samtycke_arende_id", "samtycke")
    op.drop_table("samtycke")
    with op.batch_alter_table("arende") as batch:
        batch.drop_column("closed_reason")
        batch.drop_column("closed_on")
