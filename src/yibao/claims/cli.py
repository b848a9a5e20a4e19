"""``yibao claims list|overdue`` (零星报销)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="零星报销 (manual reimbursement): queue and time limits", no_args_is_help=True
)


def _rows(status: str, overdue: bool) -> None:
    from yibao.claims import service
    from yibao.claims.model import STATE_LABELS
    from yibao.config import get_settings
    from yibao.db.engine import make_engine
    from yibao.db.runtime import database_url

    today = service.now().date()
    with database_url(get_settings()) as url:
        engine = make_engine(url, pool_size=1)
        try:
            with engine.connect() as conn:
                rows = (
                    service.overdue(conn, today)
                    if overdue
                    else service.listing(conn, prefixes=None, status=status)
                )
        finally:
            engine.dispose()
    for c in rows:
        tl = service.time_limit_of(c, today)
        amt = "" if c["reimburse_amt"] is None else f"{c['reimburse_amt'] / 100:.2f}"
        typer.echo(
            f"{c['claim_no']}\t{c['psn_no']}\t{STATE_LABELS[c['status']]}\t{c['fee_total'] / 100:.2f}\t{amt}\t{tl.label}"
        )


@app.command("list")
def listing(
    status: str = typer.Option(
        "open", help="open|submitted|accepted|reviewed|approved|paid|refused|''"
    ),
) -> None:
    """Claims with their status and days against the time limit."""
    _rows(status, False)


@app.command("overdue")
def overdue() -> None:
    """Open claims past their due day (逾期, China time today)."""
    _rows("open", True)
