"""``yibao console …``: manage console users (控制台用户管理) from the command line."""

from __future__ import annotations

import os

import typer

from yibao.config import get_settings

app = typer.Typer(help="Console users (控制台用户) commands", no_args_is_help=True)


@app.command("add-user")
def add_user(
    username: str = typer.Argument(..., help="login name"),
    role: str = typer.Option(
        ..., help="province_admin | city_admin | institution_operator | analyst"
    ),
    admdvs: str = typer.Option(None, help="region code 医保区划, e.g. 440100"),
    fixmedins_code: str = typer.Option(None, help="institution code for institution operators"),
    name: str = typer.Option("", help="display name 姓名"),
) -> None:
    """Create a user; the password is asked for (or read from YIBAO_NEW_PASSWORD)."""
    from yibao.console import service
    from yibao.console.model import Role
    from yibao.db.engine import make_engine
    from yibao.db.migrate import upgrade
    from yibao.db.runtime import database_url

    try:
        role_value = Role(role)
    except ValueError:
        typer.echo(f"角色无效: {role}（可选: {', '.join(r.value for r in Role)}）", err=True)
        raise typer.Exit(2) from None
    password = os.environ.get("YIBAO_NEW_PASSWORD") or typer.prompt(
        "密码", hide_input=True, confirmation_prompt=True
    )
    with database_url(get_settings()) as url:
        upgrade(url)
        engine = make_engine(url, pool_size=1)
        try:
            user_id = service.create_user(
                engine,
                username=username,
                password=password,
                role=role_value,
                display_name=name,
                admdvs=admdvs,
                fixmedins_code=fixmedins_code,
                actor="cli",
            )
        except service.ConsoleError as e:
            typer.echo(f"未创建: {e}", err=True)
            raise typer.Exit(1) from None
        finally:
            engine.dispose()
    typer.echo(f"已创建用户 {username}（id {user_id}，{role_value.label}）")


@app.command("list-users")
def list_users() -> None:
    """List console users with role and region."""
    from yibao.console import queries
    from yibao.console.model import Role
    from yibao.db.engine import make_engine
    from yibao.db.runtime import database_url

    with database_url(get_settings()) as url:
        engine = make_engine(url, pool_size=1)
        try:
            with engine.connect() as conn:
                rows = queries.users(conn)
        finally:
            engine.dispose()
    for m in rows:
        scope = m["fixmedins_code"] or m["admdvs"] or "全省"
        typer.echo(f"{m['username']}\t{Role(m['role']).label}\t{scope}\t{m['display_name']}")
