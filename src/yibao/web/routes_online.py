"""Console pages of the online centres (线上结算): mobile-payment orders, their states, refunds and
the day's reconciliation; e-prescriptions and their flow. Read through :mod:`yibao.online.queries`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from yibao.console.model import Page
from yibao.console.scoping import OutOfScope
from yibao.online import queries
from yibao.online.model import DELV_STAS, ORD_STAS_NAMES, Split
from yibao.web.auth import Console, current_console, engine_of, require
from yibao.web.render import china_today, page

router = APIRouter(prefix="/console/online", include_in_schema=False)
Ctx = Annotated[Console, Depends(current_console)]
CRUMB = ("线上结算", "/console/online")


def _allowed(console: Console, fixmedins_code: str) -> bool:
    scope = console.scope
    return scope.allows_institution(fixmedins_code) and (
        scope.fixmedins_code is not None or scope.allows_region(fixmedins_code[1:7])
    )


def _day(on: str) -> date:
    try:
        return date.fromisoformat(on) if on else china_today()
    except ValueError:
        return china_today()


@router.get("", response_class=HTMLResponse)
def orders(request: Request, console: Ctx, stas: str = "", on: str = "") -> Response:
    require(console, Page.ONLINE)
    day = _day(on)
    wanted = int(stas) if stas.isdigit() and int(stas) in ORD_STAS_NAMES else None
    with engine_of(request).connect() as conn:
        ready = queries.ready(conn)
        rows = (
            [
                o
                for o in queries.orders(conn, stas=wanted, day=day)
                if _allowed(console, o.fixmedins_code)
            ]
            if ready
            else []
        )
        refunds = (
            [r for r in queries.refunds(conn) if any(o.pay_ord_id == r["pay_ord_id"] for o in rows)]
            if ready
            else []
        )
    whole = console.scope.all_regions and console.scope.fixmedins_code is None
    only = None if whole else (lambda code: _allowed(console, code))
    report = queries.reconciliation(engine_of(request), day, only) if ready else None
    counts: dict[int, int] = {}
    for o in rows:
        counts[o.ord_stas] = counts.get(o.ord_stas, 0) + 1
    return page(request, console, "online_orders.html", active=Page.ONLINE, title="线上结算 · 移动支付订单",
                crumbs=[CRUMB, ("移动支付订单", None)], rows=rows, refunds=refunds, report=report,
                counts=counts, names=ORD_STAS_NAMES, stas=wanted, on=day)  # fmt: skip


@router.get("/orders/{pay_ord_id}", response_class=HTMLResponse)
def order(request: Request, console: Ctx, pay_ord_id: str) -> Response:
    require(console, Page.ONLINE)
    with engine_of(request).connect() as conn:
        row = queries.order(conn, pay_ord_id) if queries.ready(conn) else None
        if row is None or not _allowed(console, row.fixmedins_code):
            raise OutOfScope()
        events = queries.events(conn, pay_ord_id)
        callbacks = queries.callbacks_received(conn, pay_ord_id)
        refunds = [r for r in queries.refunds(conn) if r["pay_ord_id"] == pay_ord_id]
    return page(request, console, "online_order.html", active=Page.ONLINE, title=f"订单 {pay_ord_id}",
                crumbs=[CRUMB, (f"订单 {pay_ord_id}", None)], o=row, events=events, names=ORD_STAS_NAMES,
                callbacks=callbacks, refunds=refunds, split=row.split if isinstance(row.split, Split) else None)  # fmt: skip


@router.get("/rx", response_class=HTMLResponse)
def prescriptions(request: Request, console: Ctx) -> Response:
    require(console, Page.ONLINE)
    now = datetime.now(UTC)
    with engine_of(request).connect() as conn:
        rows = queries.prescriptions(conn, now) if queries.ready(conn) else []
    rows = [
        r
        for r in rows
        if _allowed(console, r.fixmedins_code) or (r.dispenser and _allowed(console, r.dispenser))
    ]
    return page(request, console, "online_rx.html", active=Page.ONLINE, title="线上结算 · 电子处方",
                crumbs=[CRUMB, ("电子处方", None)], rows=rows)  # fmt: skip


@router.get("/rx/{hi_rxno}", response_class=HTMLResponse)
def prescription(request: Request, console: Ctx, hi_rxno: str) -> Response:
    require(console, Page.ONLINE)
    now = datetime.now(UTC)
    with engine_of(request).connect() as conn:
        row = queries.prescription(conn, hi_rxno, now) if queries.ready(conn) else None
        if row is None or not (
            _allowed(console, row.fixmedins_code)
            or (row.dispenser and _allowed(console, row.dispenser))
        ):
            raise OutOfScope()
        events = queries.events(conn, hi_rxno)
    return page(request, console, "online_rx_detail.html", active=Page.ONLINE, title=f"电子处方 {hi_rxno}",
                crumbs=[CRUMB, ("电子处方", "/console/online/rx"), (hi_rxno, None)], r=row, events=events,
                delv=DELV_STAS)  # fmt: skip
