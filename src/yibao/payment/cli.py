"""``yibao payment …`` (支付方式改革): grouper tables, grouping, advance, year end, 医共体, statement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
import typer

from yibao import clock
from yibao.money import fen_str, yuan_to_fen

app = typer.Typer(help="支付方式改革 (DRG/DIP, 特例单议, 医共体)", no_args_is_help=True)
tables_app = typer.Typer(help="分组方案数据文件 (grouper tables)", no_args_is_help=True)
community_app = typer.Typer(help="紧密型县域医共体", no_args_is_help=True)
app.add_typer(tables_app, name="tables")
app.add_typer(community_app, name="community")
T = TypeVar("T")


def _engine(fn: Callable[[sa.Engine], T]) -> T:
    from yibao.config import get_settings
    from yibao.db.engine import make_engine
    from yibao.db.runtime import database_url
    from yibao.payment.errors import PaymentInputError, PaymentRefused
    from yibao.policy.model import PolicyError

    with database_url(get_settings()) as url:
        engine = make_engine(url, pool_size=1)
        try:
            return fn(engine)
        except (PaymentRefused, PaymentInputError, PolicyError) as exc:
            typer.echo(f"错误: {getattr(exc, 'message', None) or exc}", err=True)
            raise typer.Exit(2) from exc
        finally:
            engine.dispose()


@tables_app.command("check")
def tables_check(folder: Path | None = typer.Argument(None, help="默认 grouper/")) -> None:
    """Load and check every table set; print them (a bad file: file:line: reason, exit 2)."""
    from yibao.payment.tables import TableError, load_library

    try:
        lib = load_library(folder)
    except TableError as exc:
        typer.echo(f"错误: {exc}", err=True)
        raise typer.Exit(2) from exc
    for s in lib.sets:
        m = s.manifest
        flag = "（假设）" if m.assumed else ""
        typer.echo(f"{m.kind.upper()} {m.region} {m.version} 自 {m.effective_from}{flag}  {m.path}")


@app.command("group")
def group(
    region: str = typer.Option(..., "--region", help="医保区划, 如 441481"),
    dx: str = typer.Option(..., "--dx", help="主要诊断, 如 J18.900"),
    other: list[str] = typer.Option([], "--other", help="其他诊断 (可多次)"),
    proc: str = typer.Option("", "--proc", help="主要手术操作"),
    sex: str = typer.Option("", "--sex", help="1 男 / 2 女"),
    age: int = typer.Option(40, "--age", help="年龄（岁）"),
    age_days: int | None = typer.Option(None, "--age-days", help="新生儿日龄（天）"),
    weight: int | None = typer.Option(None, "--weight", help="新生儿体重(克)"),
    on: str = typer.Option("", "--date", help="出院日期 YYYY-MM-DD (默认今天)"),
) -> None:
    """Group one case with the region's tables in force (DRG or DIP by payment.method)."""
    from yibao.payment import params, service_lists
    from yibao.payment.model.case import GroupCase

    day = date.fromisoformat(on) if on else clock.today()
    case = GroupCase(dx, tuple(other), proc, (), sex, age, age_days, weight)
    r = service_lists.group(params.method_of(region, day), region, day, case)
    typer.echo(
        f"{r.get('status_label', '')}  {r.get('code', '')} {r.get('name', '')}  "
        f"权重/分值 {r.get('units') or '—'}"
    )
    for step in r.get("steps", []):
        typer.echo(f"  · {step}")


@app.command("advance")
def advance(
    region: str = typer.Option(..., "--region", help="医保区划（统筹区）"),
    month: str = typer.Option(..., "--month", help="YYYY-MM"),
    operator: str = typer.Option("cli", "--operator", help="操作人（审计）"),
) -> None:
    """月度预结算 of a region's DRG/DIP cases."""
    from yibao.payment import service

    r = _engine(lambda e: service.advance(e, region, month, actor=operator))
    typer.echo(f"{r.admdvs} {r.month} 预算{'费率' if r.method == 'drg' else '点值'} {r.unit_value}")
    for i in r.institutions:
        typer.echo(
            f"  {i.fixmedins_code}: "
            + (
                i.skipped
                or (
                    f"{i.cases} 例 基金应支付 {fen_str(i.fund_due)} 预拨 {fen_str(i.advance)} "
                    f"保证金 {fen_str(i.hold)}"
                )
            )
        )


@app.command("year-end")
def year_end(
    region: str = typer.Option(..., "--region", help="医保区划（统筹区）"),
    year: int = typer.Option(..., "--year", help="年度"),
    operator: str = typer.Option("cli", "--operator", help="操作人（审计）"),
) -> None:
    """年度清算 of a region's DRG/DIP year."""
    from yibao.payment import service

    r = _engine(lambda e: service.close_year(e, region, year, actor=operator))
    typer.echo(
        f"{r.admdvs} {r.year}: {r.cases} 例, 清算{'费率' if r.method == 'drg' else '点值'} "
        f"{r.final_unit_value} (预算 {r.provisional_unit_value})"
    )
    for i in r.institutions:
        typer.echo(
            f"  {i['fixmedins_code']}: 年终基金应支付 {fen_str(i['final_fund_due'])} "
            f"已预拨 {fen_str(i['advanced'])} 年终拨付 {fen_str(i['final_payment'])}"
        )


@app.command("review-list")
def review_list(
    setl_id: list[str] = typer.Option(..., "--setl-id", help="结算ID (可多次)"),
    approve: bool = typer.Option(..., "--approve/--reject", help="审核通过 / 审核不通过"),
    operator: str = typer.Option("cli", "--operator", help="操作人（审计）"),
) -> None:
    """The bureau's review of submitted settlement lists (where payment.list.require_approval)."""
    from yibao.payment import service

    _engine(lambda e: service.review_lists(e, list(setl_id), approve=approve, actor=operator))
    typer.echo(f"{len(setl_id)} 份清单已{'审核通过' if approve else '审核不通过'}")


@app.command("budget")
def budget(
    institution: str = typer.Option(..., "--institution", help="定点机构编码"),
    year: int = typer.Option(..., "--year", help="年度"),
    amount: str = typer.Option(..., "--amount", help="元"),
    operator: str = typer.Option("cli", "--operator", help="操作人（审计）"),
) -> None:
    """An institution's annual DRG/DIP budget (for 预算执行率)."""
    from yibao.payment import service

    fen = yuan_to_fen(Decimal(amount), "amount")
    _engine(lambda e: service.set_institution_budget(e, institution, year, fen, actor=operator))
    typer.echo(f"{institution} {year} 年度预算 {fen_str(fen)} 元")


@community_app.command("save")
def community_save(
    ycm_id: str = typer.Option(..., "--id", help="医共体编号"),
    name: str = typer.Option(..., "--name", help="医共体名称"),
    region: str = typer.Option(..., "--region", help="县级医保区划"),
    lead: str = typer.Option(..., "--lead", help="牵头医院"),
    member: list[str] = typer.Option([], "--member", help="成员机构编码（可重复）"),
    fund_pay_type: str = typer.Option("390100", "--fund", help="基金类型（险种基金编码）"),
    population: int = typer.Option(0, "--population", help="覆盖参保人数"),
    operator: str = typer.Option("cli", "--operator", help="操作人（审计）"),
) -> None:
    """Create or update a 医共体 (county medical community): lead, members, fund."""
    from yibao.payment import service

    _engine(
        lambda e: service.save_community(
            e,
            actor=operator,
            ycm_id=ycm_id,
            name=name,
            admdvs=region,
            lead=lead,
            members=list(member),
            fund_pay_type=fund_pay_type,
            population=population,
        )
    )
    typer.echo(f"医共体 {ycm_id} 已保存")


@community_app.command("budget")
def community_budget(
    ycm_id: str = typer.Option(..., "--id", help="医共体编号"),
    year: int = typer.Option(..., "--year", help="年度"),
    amount: str = typer.Option("", "--amount", help="元; 空: 按规则测算"),
    operator: str = typer.Option("cli", "--operator", help="操作人（审计）"),
) -> None:
    """Set the 医共体's yearly budget (总额预算), or compute it by the rule."""
    from yibao.payment import service

    fen = yuan_to_fen(Decimal(amount), "amount") if amount else None
    got = _engine(lambda e: service.set_community_budget(e, ycm_id, year, fen, actor=operator))
    typer.echo(f"{ycm_id} {year} 年度预算 {fen_str(got)} 元")


@community_app.command("month")
def community_month(
    ycm_id: str = typer.Option(..., "--id", help="医共体编号"),
    month: str = typer.Option(..., "--month", help="月份 YYYY-MM"),
    operator: str = typer.Option("cli", "--operator", help="操作人（审计）"),
) -> None:
    """Monthly allocation and spending of the 医共体 (月度拨付)."""
    from yibao.payment import service

    r = _engine(lambda e: service.community_month(e, ycm_id, month, actor=operator))
    typer.echo(
        f"{ycm_id} {r['month']} 分配 {fen_str(r['allocation'])} 支出 {fen_str(r['spending'])}"
    )


@community_app.command("year-end")
def community_year_end(
    ycm_id: str = typer.Option(..., "--id", help="医共体编号"),
    year: int = typer.Option(..., "--year", help="年度"),
    operator: str = typer.Option("cli", "--operator", help="操作人（审计）"),
) -> None:
    """Year-end settlement of the 医共体 (结余留用、超支分担)."""
    from yibao.payment import service

    r = _engine(lambda e: service.community_year_end(e, ycm_id, year, actor=operator))
    for line in r["lines"]:
        typer.echo(line)


@app.command("statement")
def statement(
    region: str = typer.Option(..., "--region", help="医保区划（统筹区）"),
    year: int = typer.Option(..., "--year", help="年度"),
    out: Path = typer.Option(..., "--out", help="输出 .xlsx"),
) -> None:
    """年度清算表 as XLSX."""
    from yibao.payment import export, queries

    def build(e: sa.Engine) -> bytes:
        with e.connect() as conn:
            data = queries.statement(conn, region, year, clock.today())
        return export.statement_xlsx(data["view"], data["cases"], data["specials"])

    out.write_bytes(_engine(build))
    typer.echo(f"已写入 {out}")
