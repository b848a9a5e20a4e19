"""``yibao registry …``: bulk import/export and lookups (参保登记命令)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="参保登记 registry: import, export, show", no_args_is_help=True)


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV (UTF-8) or XLSX"),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="import the good rows, report the bad"),
    operator: str = typer.Option("cli", help="operator recorded in the audit log"),
) -> None:
    """Import persons and enrolments; nothing is written if any row is bad (unless --skip-bad)."""
    import time

    from yibao.config import get_settings
    from yibao.db.engine import make_engine
    from yibao.db.runtime import database_url
    from yibao.registry import bulk, rows

    with database_url(get_settings()) as url:
        engine = make_engine(url, pool_size=1)
        t0 = time.perf_counter()
        try:
            result = bulk.import_file(engine, file, skip_bad=skip_bad, actor=operator)
        except bulk.ImportRefused as e:
            typer.echo(rows.format_report(e.result.errors), err=True)
            typer.echo(
                f"未导入：共{e.result.total_rows}行，{e.result.bad_rows}行有错误"
                f"({len(e.result.errors)}处)。修正后重新导入，或使用 --skip-bad 只导入正确的行。",
                err=True,
            )
            raise typer.Exit(1) from None
        finally:
            engine.dispose()
        if result.errors:
            typer.echo(rows.format_report(result.errors), err=True)
        typer.echo(
            f"已导入：共{result.total_rows}行，正确{result.good_rows}行，跳过{result.bad_rows}行；"
            f"新增人员{result.persons_inserted}，更新人员{result.persons_updated}；"
            f"新增参保{result.enrolments_inserted}，更新参保{result.enrolments_updated}；"
            f"用时{time.perf_counter() - t0:.1f}秒"
        )


@app.command("export")
def export_cmd(
    file: Path = typer.Argument(..., dir_okay=False, help="target .csv or .xlsx"),
    admdvs: str = typer.Option(None, help="only this pooling region (6 digits)"),
    full_certno: bool = typer.Option(False, "--full-certno", help="unmasked numbers (audited)"),
    operator: str = typer.Option("cli", help="operator recorded in the audit log"),
    reason: str = typer.Option("", help="reason, required with --full-certno"),
) -> None:
    """Export persons × enrolments; certificate numbers masked (first 6 + last 4) by default."""
    from yibao.config import get_settings
    from yibao.db.engine import make_engine
    from yibao.db.runtime import database_url
    from yibao.registry import bulk

    if full_certno and not reason:
        typer.echo("导出完整证件号码须提供 --reason", err=True)
        raise typer.Exit(2)
    with database_url(get_settings()) as url:
        engine = make_engine(url, pool_size=1)
        try:
            n = bulk.export_file(
                engine, file, full_certno=full_certno, actor=operator, reason=reason, admdvs=admdvs
            )
        finally:
            engine.dispose()
    typer.echo(f"已导出{n}行到{file}")


@app.command("show")
def show_cmd(psn_no: str = typer.Argument(..., help="人员编号")) -> None:
    """Show one person (masked) as JSON."""
    import json

    from yibao.config import get_settings
    from yibao.db.engine import make_engine
    from yibao.db.runtime import database_url
    from yibao.registry import service

    with database_url(get_settings()) as url:
        engine = make_engine(url, pool_size=1)
        try:
            with engine.connect() as conn:
                view = service.person_view(conn, psn_no)
        except service.PersonNotFound as e:
            typer.echo(str(e), err=True)
            raise typer.Exit(1) from None
        finally:
            engine.dispose()
    typer.echo(json.dumps(view, ensure_ascii=False, indent=2, default=str))


def _import_table(kind: str, file: Path, skip_bad: bool, operator: str) -> None:
    from yibao.config import get_settings
    from yibao.db.engine import make_engine
    from yibao.db.runtime import database_url
    from yibao.registry import rows, unit_import

    what = "参保单位" if kind == "units" else "用工信息"
    with database_url(get_settings()) as url:
        engine = make_engine(url, pool_size=1)
        try:
            result = unit_import.import_file(engine, kind, file, skip_bad=skip_bad, actor=operator)
        except unit_import.TableImportRefused as e:
            typer.echo(rows.format_report(e.result.errors), err=True)
            typer.echo(
                f"未导入{what}：共{e.result.total_rows}行，{e.result.bad_rows}行有错误"
                f"({len(e.result.errors)}处)。修正后重新导入，或使用 --skip-bad 只导入正确的行。",
                err=True,
            )
            raise typer.Exit(1) from None
        finally:
            engine.dispose()
    if result.errors:
        typer.echo(rows.format_report(result.errors), err=True)
    typer.echo(
        f"已导入{what}：共{result.total_rows}行，正确{result.good_rows}行，跳过{result.bad_rows}行；"
        f"新增{result.inserted}，更新{result.updated}"
    )


@app.command("import-units")
def import_units_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV (UTF-8) or XLSX"),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="import the good rows, report the bad"),
    operator: str = typer.Option("cli", help="operator recorded in the audit log"),
) -> None:
    """Import insured units (参保单位): emp_no, uscc, emp_name, emp_type, admdvs, town."""
    _import_table("units", file, skip_bad, operator)


@app.command("import-employment")
def import_employment_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV (UTF-8) or XLSX"),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="import the good rows, report the bad"),
    operator: str = typer.Option("cli", help="operator recorded in the audit log"),
) -> None:
    """Import employment (用工/缴费基数): psn_cert_type, certno, emp_no, begin_date, end_date,
    wage_base (元/月), flxempe_flag. The persons and units must exist."""
    _import_table("employment", file, skip_bad, operator)
