"""Follow-up statistics without decrypting: kön and age band of each ärende as plain columns
(derived from the personnummer, filled for existing ärenden by `formservice init-db`), whether an
organisation shares its aggregates with the Samordningsförbund, the summary table of counts kept
as ärenden move (filled from the history by `formservice init-db`), and indexes.

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("arende") as batch:
        batch.add_column(sa.Column("kon", sa.String(1), nullable=True))
        batch.add_column(sa.Column("aldersgrupp", sa.String(8), nullable=True))
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(sa.Column("uppfoljning_delas", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("ix_arende_status_ruta", "arende", ["status", "ruta", "enhet_id", "kon", "aldersgrupp"])
    op.create_index("ix_arende_avslutade", "arende",
                    ["status", "closed_on", "closed_reason", "enhet_id", "kon", "aldersgrupp"])
    op.create_index("ix_handelse_arende_at", "handelse", ["arende_id", "at"])
    op.create_table(
        "statistik",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slag", sa.String(12), nullable=False),
        sa.Column("manad", sa.String(7), nullable=False),
        sa.Column("enhet_id", sa.Integer, nullable=False),
        sa.Column("kon", sa.String(1), nullable=False),
        sa.Column("aldersgrupp", sa.String(8), nullable=False),
        sa.Column("nyckel", sa.String(60), nullable=False),
        sa.Column("dagar", sa.Integer, nullable=False),
        sa.Column("antal", sa.Integer, nullable=False),
        sa.UniqueConstraint("slag", "manad", "enhet_id", "kon", "aldersgrupp", "nyckel", "dagar",
                            name="uq_statistik_cell"),
    )
    op.create_index("ix_statistik_las", "statistik",
                    ["slag", "kon", "manad", "aldersgrupp", "nyckel", "dagar", "enhet_id", "antal"])


def downgrade() -> None:
    op.drop_index("ix_statistik_las", "statistik")
    op.drop_table("statistik")
    op.drop_index("ix_handelse_arende_at", "handelse")
    op.drop_index("ix_arende_avslutade", "arende")
    op.drop_index("ix_arende_status_ruta", "arende")
    with op.batch_alter_table("organisation") as batch:
        batch.drop_column("uppfoljning_delas")
    with op.batch_alter_table("arende") as batch:
        batch.drop_column("aldersgrupp")
        batch.drop_column("kon")
