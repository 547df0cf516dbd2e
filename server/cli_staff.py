"""``loket staff-passwd`` and ``loket staff-deactivate``: what ``loket serve`` asks for when
the database still has demo accounts with the demo password (issue 13)."""
from __future__ import annotations

import click


def _user_id(s, username: str) -> int:
    from sqlalchemy import select

    from .models import StaffUser

    uid = s.scalar(select(StaffUser.id).where(StaffUser.username == username))
    if uid is None:
        raise click.ClickException(f"no staff user {username}")
    return uid


@click.command("staff-passwd")
@click.argument("username")
@click.password_option()
def staff_passwd(username: str, password: str) -> None:
    """Give a staff login a new password (at least 8 characters); its sessions end."""
    from .cli import _database_url
    from .db import Database
    from .services.accounts import set_password
    from .services.actors import SYSTEM
    from .services.errors import LoketError

    database = Database(_database_url())
    try:
        with database.session() as s:
            set_password(s, _user_id(s, username), password, actor=SYSTEM)
    except LoketError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        database.dispose()
    click.echo(f"password of {username} changed; its sessions ended")


@click.command("staff-deactivate")
@click.argument("username")
def staff_deactivate(username: str) -> None:
    """Deactivate a staff login (it can no longer sign in); its sessions end."""
    from .cli import _database_url
    from .db import Database
    from .services.accounts import deactivate_staff
    from .services.actors import SYSTEM

    database = Database(_database_url())
    try:
        with database.session() as s:
            deactivate_staff(s, _user_id(s, username), actor=SYSTEM)
    finally:
        database.dispose()
    click.echo(f"staff {username} deactivated")
