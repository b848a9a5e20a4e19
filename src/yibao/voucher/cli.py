"""``yibao voucher …``: channels and activation rates (医保电子凭证命令)."""

from __future__ import annotations

import typer

app = typer.Typer(help="医保电子凭证 e-voucher: channels, activation rates", no_args_is_help=True)


@app.command("channel-add")
def channel_add(
    chnl_id: str = typer.Argument(..., help="渠道编号"),
    name: str = typer.Argument(..., help="渠道名称"),
    kind: str = typer.Option(
        ..., help="nhsa_app | wechat | alipay | unionpay | bank | provincial_app"
    ),
) -> None:
    """Register a channel app and print its secret (keep it; it signs every channel call)."""
    from yibao.config import get_settings
    from yibao.db.engine import make_engine
    from yibao.db.runtime import database_url
    from yibao.voucher.model import EcError
    from yibao.voucher.service import VoucherService

    with database_url(get_settings()) as url:
        engine = make_engine(url, pool_size=1)
        try:
            secret = VoucherService(engine).register_channel(chnl_id, name, kind)
        except EcError as e:
            typer.echo(e.message, err=True)
            raise typer.Exit(1) from None
        finally:
            engine.dispose()
    typer.echo(f"{chnl_id} {secret}")


@app.command("rates")
def rates(
    by: str = typer.Option("region", help="region | town | unit | category | channel"),
    admdvs: str = typer.Option(None, help="only this pooling region"),
) -> None:
    """Activation rates (激活率) as a table."""
    from rich.console import Console
    from rich.table import Table

    from yibao.config import get_settings
    from yibao.db.engine import make_engine
    from yibao.db.runtime import database_url
    from yibao.voucher.service import VoucherService

    with database_url(get_settings()) as url:
        engine = make_engine(url, pool_size=1)
        try:
            rows = VoucherService(engine).activation_rates(by, admdvs=admdvs)
        finally:
            engine.dispose()
    dims = {
        "region": "统筹区",
        "town": "乡镇街道",
        "unit": "单位",
        "category": "人员类别",
        "channel": "渠道",
    }
    table = Table(title=f"医保电子凭证激活率（按{dims.get(by, by)}）")
    for col in ("分组", "名称", "参保人数", "已激活", "激活率"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["key"]), str(r["label"]), str(r["insured"]), str(r["activated"]), str(r["rate"])
        )
    Console().print(table)
