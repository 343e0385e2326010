"""``monitor db``: database maintenance."""

from __future__ import annotations

import click

from monitor.cli.app import App, json_option, pass_app
from monitor.cli.render import echo, echo_json


@click.group()
def db() -> None:
    """Database maintenance commands."""


@db.command()
@json_option
@pass_app
def upgrade(app: App, as_json: bool) -> None:
    """Apply pending schema migrations to the configured database.

    Every command already does this when it opens a database that is
    behind; run it by hand after upgrading monitor, before starting the
    service. --json says `database` (its password hidden), `from` (null:
    empty), `to` and whether it was `upgraded`.

    \b
    Examples:
      monitor db upgrade
      monitor db upgrade --json
    """
    from sqlalchemy.engine import make_url

    from monitor.store.engine import create_db_engine
    from monitor.store.migrate import HEAD_REVISION, current_revision, ensure_schema

    engine = create_db_engine(app.config.database_url)
    try:
        before = current_revision(engine)
        ran = ensure_schema(engine)
    finally:
        engine.dispose()
    where = make_url(app.config.database_url).render_as_string(hide_password=True)
    if as_json:
        echo_json({"database": where, "from": before, "to": HEAD_REVISION, "upgraded": ran})
    elif ran:
        echo(f"upgraded {where} from {before or 'empty'} to {HEAD_REVISION}")
    else:
        echo(f"{where} is up to date (revision {HEAD_REVISION})")
