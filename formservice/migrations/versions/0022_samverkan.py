"""Samverkan: each enhet's funktionsadress, the hand-overs between enheter (``overlamning``) and
who of another party has seen a shared item (``samverkan_visning``).

Revision ID: 0022
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enhet") as batch:
        batch.add_column(sa.Column("funktionsadress", sa.String(254), nullable=False, server_default=""))
    op.create_table(
        "overlamning",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(32), nullable=False, unique=True),
        sa.Column("dokument_id", sa.Integer, sa.ForeignKey("dokument.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("del_position", sa.Integer, nullable=True),
        sa.Column("fran_arende_id", sa.Integer, sa.ForeignKey("arende.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("fran_enhet_id", sa.Integer, sa.ForeignKey("enhet.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("till_enhet_id", sa.Integer, sa.ForeignKey("enhet.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("part", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("skickad_at", sa.DateTime, nullable=False),
        sa.Column("skickad_av", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("mottagen_at", sa.DateTime, nullable=True),
        sa.Column("mottagen_av", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("besvarad_at", sa.DateTime, nullable=True),
        sa.Column("besvarad_av", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("mottagare_arende_id", sa.Integer, sa.ForeignKey("arende.id", ondelete="SET NULL"),
                  nullable=True, index=True),
        sa.Column("svar_enc", sa.LargeBinary, nullable=True),
        sa.Column("anledning_enc", sa.LargeBinary, nullable=True),
        sa.Column("avslutad_hos_avsandaren", sa.DateTime, nullable=True),
    )
    op.create_index("ix_overlamning_inkorg", "overlamning", ["till_enhet_id", "status", "skickad_at"])
    op.create_table(
        "samverkan_visning",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("overlamning_id", sa.Integer, sa.ForeignKey("overlamning.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("enhet_id", sa.Integer, nullable=False),
        sa.Column("vad", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("samverkan_visning")
    op.drop_index("ix_overlamning_inkorg", "overlamning")
    op.drop_table("overlamning")
    with op.batch_alter_table("enhet") as batch:
        batch.drop_column("funktionsadress")
