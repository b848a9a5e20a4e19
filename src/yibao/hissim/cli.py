"""``yibao his-sim``: play a day of counter traffic against a running server, then reconcile."""

from __future__ import annotations

import json
from collections import Counter

import typer

DEFAULT_INSTITUTIONS = "H44030000001,H44030000003,P44030000001,H44010000001,P44010000001"


def his_sim(
    url: str = typer.Option("http://127.0.0.1:8000", help="Yibao 服务地址"),
    institutions: str = typer.Option(DEFAULT_INSTITUTIONS, help="定点医药机构编号，逗号分隔"),
    encounters: int = typer.Option(20, help="每个机构的就诊/购药次数"),
    threads: int = typer.Option(1, help="每个机构的并发收费窗口数"),
    cancel_rate: float = typer.Option(0.05, help="结算后撤销的比例"),
    seed: int = typer.Option(1, help="随机种子"),
    persons: int = typer.Option(400, help="使用演示参保人的前N名（registry 演示数据, seed 2026）"),
    reconcile: bool = typer.Option(True, help="结束后用【3201】【3202】对账"),
    qr_share: float = typer.Option(0.3, help="用医保码（电子凭证，扫码换ecToken）就诊的比例"),
    channel: str = typer.Option("wechat", help="电子凭证渠道（演示渠道密钥 demo-secret-<渠道>）"),
    channel_secret: str = typer.Option("", help="渠道密钥（默认演示密钥）"),
) -> None:
    """模拟医院HIS/药店POS：门诊、药店、住院结算（演示机构与演示参保人），并对账。"""
    from yibao.hissim.sim import run_day

    codes = [c.strip() for c in institutions.split(",") if c.strip()]
    report = run_day(
        url,
        codes,
        encounters=encounters,
        seed=seed,
        threads_per_institution=threads,
        cancel_rate=cancel_rate,
        reconcile_day=reconcile,
        persons=persons,
        qr_share=qr_share,
        channel=(channel, channel_secret or f"demo-secret-{channel}"),
    )
    seconds = (report.finished - report.started).total_seconds()
    total: Counter[str] = Counter()
    for code, book in report.books.items():
        total.update(book.counts)
        typer.echo(
            f"{code}: {dict(book.counts)} 结算记录 {len(book.rows)} 笔，失败 {len(book.errors)} 笔"
        )
        for err in book.errors[:3]:
            typer.echo(f"  失败: {err}")
        for r in report.reconciliation.get(code, []):
            typer.echo("  对账 " + json.dumps(r, ensure_ascii=False))
    typer.echo(f"合计 {dict(total)}，用时 {seconds:.1f} 秒")
    failed = any(b.errors for b in report.books.values()) or any(
        r.get("stmt_rslt") != "0" for rows in report.reconciliation.values() for r in rows
    )
    raise typer.Exit(1 if failed else 0)
