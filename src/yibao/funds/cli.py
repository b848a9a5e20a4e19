"""``yibao funds …``: contributions, the tax-file exchange, approvals and the fund position.

Thin commands over :mod:`yibao.funds.service` and :mod:`yibao.funds.query`; amounts on the
command line are yuan (元), stored as fen. Dates default to today in China time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import typer
from sqlalchemy import Engine

from yibao.clock import CHINA

app = typer.Typer(help="缴费与基金 (contributions and fund position)", no_args_is_help=True)


@contextmanager
def _engine() -> Iterator[Engine]:
    from yibao.config import get_settings
    from yibao.db.engine import make_engine
    from yibao.db.migrate import upgrade
    from yibao.db.runtime import database_url

    with database_url(get_settings()) as url:
        upgrade(url)
        engine = make_engine(url, pool_size=2)
        try:
            yield engine
        finally:
            engine.dispose()


def _today() -> date:
    return datetime.now(CHINA).date()


def _day(value: str | None, name: str = "--date") -> date:
    if not value:
        return _today()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        typer.echo(f"错误: {name} {value!r} 应为 YYYY-MM-DD", err=True)
        raise typer.Exit(2) from exc


def _period(value: str, name: str) -> date:
    from yibao.funds.model import FundsError, parse_period

    try:
        return parse_period(value)
    except FundsError as exc:
        typer.echo(f"错误: {name}: {exc}", err=True)
        raise typer.Exit(2) from exc


def _yuan(fen: int) -> str:
    from yibao.money import fen_str

    return fen_str(fen)


@contextmanager
def _refusals() -> Iterator[None]:
    """Print a refusal in Chinese and exit 1 (FundsError, malformed tax file)."""
    from yibao.funds.model import FundsError
    from yibao.funds.taxfile import TaxFileError

    try:
        yield
    except TaxFileError as exc:
        for e in exc.errors[:200]:
            typer.echo(str(e), err=True)
        typer.echo(f"拒收：{exc}，未做任何变更", err=True)
        raise typer.Exit(1) from None
    except FundsError as exc:
        typer.echo(f"拒绝：{exc} ({exc.field})", err=True)
        raise typer.Exit(1) from None


@app.command("assess")
def assess_cmd(
    region: str = typer.Option(..., help="pooling region (admdvs)"),
    month: str = typer.Option(..., help="first month YYYY-MM (费款所属期)"),
    to: str = typer.Option("", help="last month YYYY-MM (default: --month)"),
    operator: str = typer.Option("cli", help="operator recorded in the audit log"),
) -> None:
    """核定: assess employees' and flexible workers' contributions month by month."""
    from yibao.funds import service
    from yibao.funds.model import months_in

    first = _period(month, "--month")
    last = _period(to, "--to") if to else first
    with _engine() as engine, _refusals():
        for p in months_in(first, last):
            r = service.assess_month(engine, region, p, actor=operator)
            if r.nothing_new:
                typer.echo(f"{r.period} 无新增核定(已核定)")
            else:
                typer.echo(f"{r.period} 第{r.run_no}批 核定{r.rows}人，核定单{r.bills}张，"
                           f"应缴{_yuan(r.amount)}元")  # fmt: skip


@app.command("residents")
def residents_cmd(
    region: str = typer.Option(..., help="pooling region (admdvs)"),
    year: int = typer.Option(..., help="the year covered (参保年度)"),
    on: str = typer.Option("", help="assessment date YYYY-MM-DD (identities valid then)"),
    psn_no: str = typer.Option("", help="one person (mid-year 资助参保 or enrolment)"),
    operator: str = typer.Option("cli", help="操作人（审计）"),
) -> None:
    """居民医保 annual collection (or one person's mid-year enrolment, e.g. 资助参保)."""
    from yibao.funds import service

    with _engine() as engine, _refusals():
        r = service.assess_residents(
            engine, region, year, on=_day(on, "--on"), actor=operator, psn_no=psn_no or None
        )
    typer.echo(f"{year}年度 核定{r.rows}人，个人缴费核定单{r.bills}张，应缴{_yuan(r.amount)}元")


@app.command("export")
def export_cmd(
    region: str = typer.Option(..., help="医保区划（统筹区）"),
    out: Path = typer.Option(..., help="file to write (CSV, UTF-8)"),
    to: str = typer.Option("", help="only bills up to this month YYYY-MM"),
    file_id: str = typer.Option("", help="re-export a known file id (same bytes)"),
    operator: str = typer.Option("cli", help="操作人（审计）"),
) -> None:
    """Export unpaid bills for the tax bureau (核定数据); see docs/funds.md for the format."""
    from yibao.funds import service

    with _engine() as engine, _refusals():
        fid, text = service.export_tax_file(
            engine, region, today=_today(), actor=operator, file_id=file_id or None,
            period_to=_period(to, "--to") if to else None,
        )  # fmt: skip
    out.write_text(text, encoding="utf-8")
    typer.echo(f"已导出 {fid}：{max(text.count(chr(10)) - 3, 0)}张核定单 → {out}")


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="到账 file from the tax bureau"
    ),
    operator: str = typer.Option("cli", help="操作人（审计）"),
) -> None:
    """Import a tax bureau payment file (到账); refused whole when malformed; idempotent by id."""
    from yibao.funds import service

    with _engine() as engine, _refusals():
        r = service.import_payments(
            engine, file.read_text(encoding="utf-8"), today=_today(), actor=operator
        )
    if r.replayed:
        typer.echo(f"文件{r.file_id}已导入过，未做任何变更")
    else:
        typer.echo(f"已导入{r.file_id}：{r.rows}张核定单到账，本金{_yuan(r.principal)}元，"
                   f"滞纳金{_yuan(r.late_fee)}元")  # fmt: skip


@app.command("approve")
def approve_cmd(
    kind: str = typer.Argument(..., help="deferral (缓缴) | relief (减征)"),
    unit: str = typer.Option(..., help="emp_no of the unit"),
    first: str = typer.Option(..., "--from", help="first month YYYY-MM"),
    last: str = typer.Option(..., "--to", help="last month YYYY-MM"),
    by: str = typer.Option(..., help="who approved (审批人)"),
    reference: str = typer.Option(..., help="document number or basis (审批依据)"),
) -> None:
    """Record a per-unit approval of deferral or relief."""
    from yibao.funds import service

    with _engine() as engine, _refusals():
        a = service.approve(
            engine, kind, unit, _period(first, "--from"), _period(last, "--to"),
            approved_by=by, reference=reference, today=_today(),
        )  # fmt: skip
    typer.echo(f"已批准 #{a.approval_id} {unit} {kind} {a.period_from:%Y-%m}至{a.period_to:%Y-%m}"
               f"（审批人{a.approved_by}，可支付月数{a.fund_months or '—'}）")  # fmt: skip


@app.command("retiree-credit")
def retiree_credit_cmd(
    region: str = typer.Option(..., help="医保区划（统筹区）"),
    month: str = typer.Option(..., help="YYYY-MM"),
    operator: str = typer.Option("cli", help="操作人（审计）"),
) -> None:
    """退休人员个人账户 monthly credit from the pooled fund."""
    from yibao.funds import service

    with _engine() as engine, _refusals():
        n, total = service.credit_retirees(
            engine, region, _period(month, "--month"), actor=operator
        )
    typer.echo(f"划入{n}人，共{_yuan(total)}元" if n else "无需划入(已划入或无退休人员)")


@app.command("transfer")
def transfer_cmd(
    region: str = typer.Option(..., help="医保区划（统筹区）"),
    fund: str = typer.Option(..., help="fund_pay_type, e.g. 610100 医疗救助"),
    kind: str = typer.Option("budget_transfer", help="budget_transfer | interest"),
    amount: str = typer.Option(..., help="yuan, 2 decimals"),
    on: str = typer.Option("", "--date", help="日期 YYYY-MM-DD（默认今天）"),
    ref: str = typer.Option(..., help="business reference (idempotent)"),
    operator: str = typer.Option("cli", help="操作人（审计）"),
) -> None:
    """财政预算拨入 or 利息收入 into one fund."""
    from yibao.funds import service
    from yibao.money import MoneyError, yuan_to_fen

    try:
        fen = yuan_to_fen(amount, "--amount")
    except MoneyError as exc:
        typer.echo(f"错误: {exc}", err=True)
        raise typer.Exit(2) from exc
    with _engine() as engine, _refusals():
        chain = service.post_transfer(
            engine, region=region, fund_pay_type=fund, kind=kind, amount=fen,
            value_date=_day(on), ref=ref, actor=operator,
        )  # fmt: skip
    typer.echo(f"已记账 {chain}")


@app.command("carry-over")
def carry_over_cmd(
    region: str = typer.Option(..., help="医保区划（统筹区）"), on: str = typer.Option("", "--date", help="日期 YYYY-MM-DD（默认今天）"),
    operator: str = typer.Option("cli", help="操作人（审计）"),
) -> None:  # fmt: skip
    """期初余额结转: personal-account balances from before the ledger, once per account."""
    from yibao.funds import service

    with _engine() as engine, _refusals():
        n, total = service.carry_over_opening(engine, region, value_date=_day(on), actor=operator)
    typer.echo(f"结转{n}个个人账户，共{_yuan(total)}元")


@app.command("position")
def position_cmd(
    region: str = typer.Option(..., help="医保区划（统筹区）"),
    on: str = typer.Option("", "--date", help="日期 YYYY-MM-DD（默认今天）"),
) -> None:
    """基金收支与可支付月数 per fund on a date."""
    from rich.console import Console
    from rich.table import Table

    from yibao.funds import query

    with _engine() as engine, engine.connect() as conn, _refusals():
        lines = query.fund_position(conn, region, _day(on))
    t = Table(title=f"{region} 基金状况 {_day(on)}")
    for c in ("基金", "余额(元)", "近12月收入", "近12月支出", "月均支出", "可支付月数", "状态"):
        t.add_column(c)
    for x in lines:
        t.add_row(x.name, _yuan(x.balance), _yuan(x.income_12m), _yuan(x.spending_12m),
                  _yuan(int(x.monthly_spending)), "—" if x.months is None else str(x.months),
                  x.status_label + ("*" if x.short_history else ""))  # fmt: skip
    Console().print(t)
    if any(x.short_history for x in lines):
        typer.echo("* 支出历史不足12个月，月均支出按已有天数折算")


@app.command("units")
def units_cmd(
    region: str = typer.Option(..., help="医保区划（统筹区）"),
    on: str = typer.Option("", "--date", help="日期 YYYY-MM-DD（默认今天）"),
) -> None:
    """参保单位缴费: assessed, paid, arrears, deferral per unit (this year)."""
    from yibao.funds import query

    day = _day(on)
    with _engine() as engine, engine.connect() as conn:
        rows = query.units(conn, [region], day, date(day.year, 1, 1))
    for u in rows:
        typer.echo(f"{u.emp_no} {u.emp_name} 在职{u.employees}人 应缴{_yuan(u.assessed)} "
                   f"已缴{_yuan(u.paid)} 欠费{_yuan(u.arrears)} 缓缴{_yuan(u.deferred)} "
                   f"滞纳金{_yuan(u.late_fees)}")  # fmt: skip


@app.command("check-accounts")
def check_accounts_cmd(region: str = typer.Option("", help="one region (default: all)")) -> None:
    """Registry balance (1101 balc) = ledger balance for every personal account; exit 1 if not."""
    from yibao.funds import service

    with _engine() as engine, engine.connect() as conn:
        rep = service.check_accounts(conn, region or None)
    for psn_no, reg, led in rep.differences[:50]:
        typer.echo(f"  {psn_no}: 登记余额 {_yuan(reg)} ≠ 账务余额 {_yuan(led)}")
    typer.echo("个人账户核对通过" if rep.ok else f"个人账户核对未通过：{len(rep.differences)}户")
    if not rep.ok:
        raise typer.Exit(1)


@app.command("gongji")
def gongji_cmd(
    bill: str = typer.Option(..., help="resident bill_no"),
    payer: str = typer.Option(..., help="psn_no of the household member paying"),
    operator: str = typer.Option("cli", help="操作人（审计）"),
) -> None:
    """家庭共济: pay a resident's contribution from a family member's personal account."""
    from yibao.funds import service

    with _engine() as engine, _refusals():
        chain = service.pay_from_family_account(engine, bill, payer, today=_today(), actor=operator)
    typer.echo(f"已缴费 {chain}")


@app.command("refresh-benefits")
def refresh_cmd(region: str = typer.Option(..., help="医保区划（统筹区）")) -> None:
    """Re-derive benefit status (等待期/欠费暂停) of the region's persons (after a policy change)."""
    from yibao.funds import service

    with _engine() as engine, _refusals():
        n = service.refresh_benefits(engine, region)
    typer.echo(f"已更新{n}人的待遇状态")
