"""usernames are one normalised identity; coordinator grids live in the grid tree

Usernames are stored case-folded and NFKC-normalised, so `DEMO` cannot register beside `demo`; two existing
accounts that normalise to one name stop the upgrade (an operator renames one first). The accounts' `grids`
column goes: the volunteers service's grid tree is the one record of coordinator scope. Scopes found here are
logged so an operator can check each is on the grid tree (POST /accounts/{id}/roles as an admin).

Revision ID: dabf6c9a30dc
Revises: f559a13d1035
Create Date: 2026-11-30 04:33:51.684621
"""
import json
import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = 'dabf6c9a30dc'
down_revision = 'f559a13d1035'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def _normalise(username: str) -> str:
    # The same rule as services.gateway.accounts.normalise_username (kept here: a migration is frozen).
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, username, grids FROM accounts ORDER BY id")).all()
    owners: dict[str, list[str]] = {}
    for _id, username, _grids in rows:
        owners.setdefault(_normalise(username), []).append(username)
    clashes = {name: names for name, names in owners.items() if len(names) > 1}
    if clashes:
        raise RuntimeError("Accounts whose usernames differ only by case or width; rename all but one first: "
                           + "; ".join(", ".join(names) for names in clashes.values()))
    for account_id, username, grids in rows:
        if _normalise(username) != username:
            bind.execute(sa.text("UPDATE accounts SET username = :u WHERE id = :i"),
                         {"u": _normalise(username), "i": account_id})
        scope = json.loads(grids) if isinstance(grids, str) else grids
        if scope:
            log.warning("account %s had coordinator grids %s on the account; the grid tree now holds scope",
                        account_id, scope)
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('grids')


def downgrade():
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grids', sa.JSON(), nullable=False, server_default='[]'))
