"""``yibao policy show|check``: what is in force for a region on a date, with references."""

from __future__ import annotations

from datetime import date

import typer

from yibao import clock

policy_app = typer.Typer(help="政策参数 (policy parameters) commands", no_args_is_help=True)


@policy_app.command("show")
def show(
    admdvs: str = typer.Argument(..., help="医保区划 (6 digits), e.g. 440300"),
    on: str = typer.Option(clock.today().isoformat(), "--date", help="YYYY-MM-DD"),
    all_keys: bool = typer.Option(
        False, "--all", help="also list catalogue defaults not set by any file"
    ),
) -> None:
    """Print the parameters in force for ADMDVS on --date, each with its reference."""
    import sys

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from yibao.policy.loader import resolve
    from yibao.policy.model import PolicyError

    try:
        day = date.fromisoformat(on)
        pol = resolve(admdvs, day)
    except (ValueError, PolicyError) as exc:
        typer.echo(f"错误: {exc}", err=True)
        raise typer.Exit(2) from exc
    table = Table(
        title=f"{pol.name} ({pol.admdvs}) {day.isoformat()} 生效的政策参数 — 继承链 {' → '.join(reversed(pol.chain))}"
    )
    table.add_column("参数", no_wrap=True)
    table.add_column("名称")
    table.add_column("取值", overflow="fold", max_width=50)
    table.add_column("生效日期", no_wrap=True)
    table.add_column("来源地区", no_wrap=True)
    table.add_column("依据", overflow="fold", ratio=1)
    assumed = 0
    for key in sorted(pol.params):
        u = pol.params[key].use
        if u.region == "-" and not all_keys:
            continue
        assumed += u.assumed
        source = (
            f"[yellow]假设[/yellow]: {escape(u.reference)}" if u.assumed else escape(u.reference)
        )
        since = u.since.isoformat() if u.region != "-" else "-"
        region = u.region if u.region != "-" else "默认值"
        table.add_row(key, u.label, escape(u.shown), since, region, source)
    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(table)
    console.print(f"共 {table.row_count} 项, 其中假设值 {assumed} 项 (依据未找到, 见 reason)。")


@policy_app.command("check")
def check(
    folder: str = typer.Argument(None, help="policy folder (default: the shipped policies)"),
) -> None:
    """Validate every policy file; print the first problem (file: key: rule) or OK."""
    from yibao.policy.loader import load_tree
    from yibao.policy.model import PolicyError

    try:
        tree = load_tree(folder)
    except PolicyError as exc:
        typer.echo(f"错误: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"OK: {len(tree.regions)} 个统筹区政策文件 ({', '.join(sorted(tree.regions))})")
