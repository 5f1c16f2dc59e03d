"""Administration and sign-in: enhet kind, user state (temporary password, external identity,
approval), API token expiry.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enhet") as batch:
        batch.add_column(sa.Column("typ", sa.String(40), nullable=False, server_default="socialtjanst"))
        batch.add_column(sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()))
    with op.batch_alter_table("app_user") as batch:
        # A temporary password set by an admin must be changed at the next login.
        batch.add_column(sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()))
        # The identity provider's value of the configured claim (sub, HSA-id or e-mail); unique.
        batch.add_column(sa.Column("external_id", sa.String(255), nullable=True))
        # Created at a first OpenID Connect sign-in, waiting for an admin to approve it.
        batch.add_column(sa.Column("pending_approval", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("deactivated_at", sa.DateTime, nullable=True))
        batch.create_unique_constraint("uq_app_user_external_id", ["external_id"])
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime, nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("expires_at")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_constraint("uq_app_user_external_id", type_="unique")
        batch.drop_column("deactivated_at")
        batch.drop_column("pending_approval")
        batch.drop_column("external_id")
        batch.drop_column("must_change_password")
    with op.batch_alter_table("enhet") as batch:
        batch.drop_column("active")
        batch.drop_column("typ")
