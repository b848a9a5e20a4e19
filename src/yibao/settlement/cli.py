"""``yibao calc CASE``: settle one case file and print the split (rich table, Chinese labels)."""

from __future__ import annotations

import json
from typing import Any

import typer

from yibao.settlement.fields import SETLINFO_LABELS


def calc(
    case: str = typer.Argument(..., help="case file (YAML), see docs/cases.md"),
    as_json: bool = typer.Option(
        False, "--json", help="setlinfo + setldetail + item split, national field names"
    ),
    explain: bool = typer.Option(
        False, "--explain", help="print the trace: steps, parameters, references"
    ),
) -> None:
    """Settle one case file and print the split."""
    import sys

    from rich.console import Console

    from yibao.policy.model import PolicyError
    from yibao.settlement.case import CaseError, check_expectations, load_case
    from yibao.settlement.model import SettlementError
    from yibao.settlement.national import to_national

    try:
        c = load_case(case)
        results = c.run_all()
    except (CaseError, PolicyError, SettlementError, OSError) as exc:
        typer.echo(f"错误: {exc}", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        out = [to_national(r, with_trace=explain) for r in results]
        typer.echo(json.dumps(out[0] if len(out) == 1 else out, ensure_ascii=False, indent=2))
        return
    console = Console(width=None if sys.stdout.isatty() else 160)
    steps = c.steps or ()
    problems: list[str] = []
    expected = False
    for n, result in enumerate(results):
        title = (
            c.title
            if len(results) == 1
            else f"{c.title} — 第{n + 1}笔 ({result.setlinfo.med_type})"
        )
        _show(console, title, result, explain)
        step = steps[n] if n < len(steps) else c
        expected = expected or bool(step.expect or step.expect_funds)
        prefix = "" if len(results) == 1 else f"第{n + 1}笔 "
        problems += [prefix + p for p in check_expectations(step, result)]
    if expected:
        if problems:
            console.print("[red]与预期不符:[/red] " + "; ".join(problems))
            raise typer.Exit(1)
        console.print("[green]与预期一致[/green] (expect)")


def _show(console: Any, title: str, result: Any, explain: bool) -> None:
    from rich.table import Table

    from yibao.money import fen_str

    s = result.setlinfo
    table = Table(title=f"{title} — {result.admdvs} 政策 ({result.policy_date.isoformat()})")
    table.add_column("项目")
    table.add_column("字段")
    table.add_column("金额(元)", justify="right")
    for field, label in SETLINFO_LABELS.items():
        v = getattr(s, field)
        table.add_row(label, field, f"{v:.4f}" if field == "pool_prop_selfpay" else fen_str(v))
    console.print(table)
    funds = Table(title="结算基金分项 setldetail")
    for col in ("fund_pay_type", "基金", "基数", "本次可支付限额", "支付金额"):
        funds.add_column(col)
    for d in result.setldetail:
        funds.add_row(
            d.fund_pay_type,
            d.fund_pay_type_name,
            fen_str(d.inscp_scp_amt),
            fen_str(d.crt_payb_lmt_amt),
            fen_str(d.fund_payamt),
        )
    console.print(funds)
    items = Table(title="明细分割")
    for col in ("序号", "等级", "金额", "全自费", "超限价", "先行自付", "政策范围内", "备注"):
        items.add_column(col)
    for i in result.items:
        items.add_row(
            i.feedetl_sn, i.chrgitm_lv, fen_str(i.det_item_fee_sumamt), fen_str(i.fulamt_ownpay_amt),
            fen_str(i.overlmt_amt), fen_str(i.preselfpay_amt), fen_str(i.inscp_scp_amt), i.memo,
        )  # fmt: skip
    console.print(items)
    if explain:
        _explain(console, result)


def _explain(console: Any, result: Any) -> None:
    """The trace through the one serialiser and its reader (as the console shows it), plus the
    parameter keys for analysts."""
    from rich.markup import escape

    from yibao.money import fen_str
    from yibao.settlement.trace import read, to_json

    for n, t in enumerate(read(to_json(result)), 1):
        amount = "" if t.amount is None else f" {fen_str(t.amount)} 元"
        console.print(f"[bold]{n}. {t.label}[/bold]{amount} — {escape(t.detail)}")
        for p in t.params:
            src = f"假设：{p.reference}" if p.assumed else p.reference
            when = f"{p.region} 自 {p.since}" if p.region else "参数目录默认值"
            console.print(escape(f"     · {p.name} = {p.value}  〔{when}〕 依据：{src}  ({p.key})"))


def register(app: typer.Typer) -> None:
    """Add ``calc`` to the main CLI."""
    app.command("calc")(calc)
