"""Room for every ruta id: "finsamteam.slut-genomford" is 25 characters and the columns held 20
(SQLite never enforced it; PostgreSQL refused the move). Ruta ids may now be 60 characters, the
limit the process map's loader enforces.

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("arende") as batch:
        batch.alter_column("ruta", type_=sa.String(60), existing_type=sa.String(20), existing_nullable=False)
        batch.alter_column("lane", type_=sa.String(60), existing_type=sa.String(20), existing_nullable=False)
    with op.batch_alter_table("handelse") as batch:
        batch.alter_column("from_ruta", type_=sa.String(60), existing_type=sa.String(20), existing_nullable=True)
        batch.alter_column("to_ruta", type_=sa.String(60), existing_type=sa.String(20), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("handelse") as batch:
        batch.alter_column("to_ruta", type_=sa.String(20), existing_type=sa.String(60), existing_nullable=True)
        batch.alter_column("from_ruta", type_=sa.String(20), existing_type=sa.String(60), existing_nullable=True)
    with op.batch_alter_table("arende") as batch:
        batch.alter_column("lane", type_=sa.String(20), existing_type=sa.String(60), existing_nullable=False)
        batch.alter_column("ruta", type_=sa.String(20), existing_type=sa.String(60), existing_nullable=False)
