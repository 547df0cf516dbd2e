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


@click.command("office-idle")
@click.argument("office")
@click.option("--staff-min", type=int, default=None, help="Idle minutes before a staff session ends (default 480)")
@click.option("--admin-min", type=int, default=None, help="The same for admin and system_admin (default 60)")
def office_idle(office: str, staff_min: int | None, admin_min: int | None) -> None:
    """Set an office's staff idle timeouts (office.settings["security"]) and print them."""
    from sqlalchemy import select

    from .cli import _database_url
    from .db import Database
    from .models import Office
    from .services.actors import SYSTEM
    from .services.errors import LoketError
    from .services.session_policy import save_idle_limits

    database = Database(_database_url())
    try:
        with database.session() as s:
            office_id = s.scalar(select(Office.id).where(Office.code == office))
            if office_id is None:
                raise click.ClickException(f"no office {office}")
            security = save_idle_limits(s, office_id, idle_min=staff_min, admin_idle_min=admin_min, actor=SYSTEM)
    except LoketError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        database.dispose()
    click.echo(f"{office}: {security}")
