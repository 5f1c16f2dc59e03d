"""Used SAML assertions (``saml_assertion``): the replay cache every worker and host shares, and the
hand-over from the assertion consumer service to the same-site return.

Revision ID: 0026
Revises: 0025
"""
from alembic import op
import sqlalchemy as sa

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saml_assertion",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("assertion_key", sa.String(64), nullable=False, unique=True),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("handoff_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("identity_enc", sa.LargeBinary, nullable=True),
    )
    op.create_index("ix_saml_assertion_expires_at", "saml_assertion", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_saml_assertion_expires_at", table_name="saml_assertion")
    op.drop_table("saml_assertion")
