"""An organisation's own texts and review mark of a language of the individ's documents
(``sprak_texter``, issue 30; arenden/sprakgranskning.py, docs/sprak.md "Granskning").

Revision ID: 0029
Revises: 0028
"""
from alembic import op
import sqlalchemy as sa

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sprak_texter",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisation.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kod", sa.String(20), nullable=False),
        sa.Column("po", sa.LargeBinary, nullable=True),
        sa.Column("granskad", sa.Boolean, nullable=True),
        sa.Column("granskad_av", sa.String(200), nullable=True),
        sa.Column("granskad_at", sa.DateTime, nullable=True),
        sa.Column("stamp", sa.String(32), nullable=False),
        sa.Column("andrad_at", sa.DateTime, nullable=False),
        sa.Column("andrad_av", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
        sa.UniqueConstraint("organisation_id", "kod", name="uq_sprak_texter_organisation_kod"),
    )


def downgrade() -> None:
    op.drop_table("sprak_texter")
