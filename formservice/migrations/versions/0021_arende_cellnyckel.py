"""Each ärende gets a record key (``arende.cellnyckel``, a random 32-bit number) for the follow-up's
cell-key method: a published count of open or closed ärenden is rounded by the sum of its ärendens
keys, which the database sums with the count, instead of keying thousands of groups in Python. The
indexes the follow-up reads carry the key, so the counts stay index-only.

Revision ID: 0021
Revises: 0020
"""
from alembic import op
import sqlalchemy as sa

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

OPEN = ["status", "ruta", "enhet_id", "kon", "aldersgrupp"]
CLOSED = ["status", "closed_on", "closed_reason", "enhet_id", "kon", "aldersgrupp"]


def upgrade() -> None:
    op.drop_index("ix_arende_status_ruta", "arende")
    op.drop_index("ix_arende_avslutade", "arende")
    with op.batch_alter_table("arende") as batch:
        batch.add_column(sa.Column("cellnyckel", sa.BigInteger, nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE arende SET cellnyckel = floor(random() * 4294967296)::bigint")
    else:  # SQLite's random() is a signed 64-bit number: its low 32 bits
        op.execute("UPDATE arende SET cellnyckel = random() & 4294967295")
    op.create_index("ix_arende_status_ruta", "arende", [*OPEN, "cellnyckel"])
    op.create_index("ix_arende_avslutade", "arende", [*CLOSED, "cellnyckel"])


def downgrade() -> None:
    op.drop_index("ix_arende_status_ruta", "arende")
    op.drop_index("ix_arende_avslutade", "arende")
    with op.batch_alter_table("arende") as batch:
        batch.drop_column("cellnyckel")
    op.create_index("ix_arende_status_ruta", "arende", OPEN)
    op.create_index("ix_arende_avslutade", "arende", CLOSED)
