"""Console pages (控制台页面): overview, registry, settlements, institutions, policy, clearing, audit.

Handlers are thin: check the role's page, read through a source module (which applies the scope),
audit sensitive views, render.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from yibao.console import service
from yibao.console.model import Page
from yibao.console.scoping import OutOfScope, require_person_data
from yibao.web import paging
from yibao.web.auth import Console, current_console, engine_of, require
from yibao.web.labels import code_label
from yibao.web.render import china_today, page
from yibao.web.sources import audit as audit_src
from yibao.web.sources import institutions as inst_src
from yibao.web.sources import overview as overview_src
from yibao.web.sources import persons as persons_src
from yibao.web.sources import policy as policy_src
from yibao.web.sources import reconciliation as recon_src
from yibao.web.sources import settlements as setl_src
from yibao.web.unavailable import Unavailable
from yibao.web.xlsx import stream_csv, stream_xlsx

router = APIRouter(prefix="/console", include_in_schema=False)
Ctx = Annotated[Console, Depends(current_console)]


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, console: Ctx) -> Response:
    require(console, Page.OVERVIEW)
    today = china_today()
    with engine_of(request).connect() as conn:
        ov = overview_src.build(conn, console.scope, today)
    return page(
        request,
        console,
        "overview.html",
        active=Page.OVERVIEW,
        title="总览",
        crumbs=[("总览", None)],
        ov=ov,
        today=today,
    )


@router.get("/persons", response_class=HTMLResponse)
def persons(
    request: Request,
    console: Ctx,
    q: str = "",
    sort: str = "psn_asc",
    after: str = "",
    p: str = "1",
) -> Response:
    require(console, Page.PERSONS)
    q = q.strip()
    if sort not in dict(persons_src.SORT_LABELS):
        sort = "psn_asc"
    with engine_of(request).connect() as conn:
        result = persons_src.search_page(conn, console.scope, q, sort=sort, cursor=after)
    query = {k: v for k, v in (("q", q), ("sort", sort)) if v}
    return page(
        request,
        console,
        "persons.html",
        active=Page.PERSONS,
        title="参保人查询",
        crumbs=[("参保人查询", None)],
        q=q,
        result=result,
        sort=sort,
        sorts=persons_src.SORT_LABELS,
        pager=paging.Pager(paging.number(p), persons_src.PAGE_SIZE, query),
    )


@router.get("/persons/{psn_no}", response_class=HTMLResponse)
def person(request: Request, console: Ctx, psn_no: str) -> Response:
    require(console, Page.PERSONS)
    engine = engine_of(request)
    with engine.connect() as conn:
        found = persons_src.detail(conn, console.scope, psn_no)
    if found is None:
        raise OutOfScope()
    if not isinstance(found, Unavailable):
        service.audit_view(engine, console.principal, "person", psn_no)
    return page(
        request,
        console,
        "person.html",
        active=Page.PERSONS,
        title="参保人详情",
        crumbs=[("参保人查询", "/console/persons"), (psn_no, None)],
        p=found,
        psn_no=psn_no,
    )


def _settlement_filter(
    setl_id: str, psn_no: str, fixmedins_code: str, admdvs: str, insutype: str,
    date_from: str, date_to: str,
) -> setl_src.SettlementFilter:  # fmt: skip
    return setl_src.SettlementFilter(
        setl_id=setl_id.strip(),
        psn_no=psn_no.strip(),
        fixmedins_code=fixmedins_code.strip(),
        admdvs=admdvs.strip(),
        insutype=insutype.strip(),
        date_from=_parse_date(date_from),
        date_to=_parse_date(date_to),
    )


@router.get("/settlements", response_class=HTMLResponse)
def settlements(
    request: Request,
    console: Ctx,
    setl_id: str = "",
    psn_no: str = "",
    fixmedins_code: str = "",
    admdvs: str = "",
    insutype: str = "",
    date_from: str = "",
    date_to: str = "",
    sort: str = "time_desc",
    after: str = "",
    p: str = "1",
) -> Response:
    require(console, Page.SETTLEMENTS)
    f = _settlement_filter(setl_id, psn_no, fixmedins_code, admdvs, insutype, date_from, date_to)
    errors = [
        f"{label}“{value}”不是有效日期，应为 YYYY-MM-DD，已忽略"
        for label, value in (("结算日期（起）", date_from), ("结算日期（止）", date_to))
        if value and _parse_date(value) is None
    ]
    if sort not in dict(setl_src.SORT_LABELS):
        sort = "time_desc"
    with engine_of(request).connect() as conn:
        result = setl_src.search_page(conn, console.scope, f, sort=sort, cursor=after)
    query = {
        k: v
        for k, v in (
            ("setl_id", f.setl_id), ("psn_no", f.psn_no), ("fixmedins_code", f.fixmedins_code),
            ("admdvs", f.admdvs), ("insutype", f.insutype), ("date_from", date_from),
            ("date_to", date_to), ("sort", sort),
        )
        if v
    }  # fmt: skip
    return page(
        request,
        console,
        "settlements.html",
        active=Page.SETTLEMENTS,
        title="结算查询",
        crumbs=[("结算查询", None)],
        f=f,
        result=result,
        date_from=date_from,
        date_to=date_to,
        errors=errors,
        sort=sort,
        sorts=setl_src.SORT_LABELS,
        insutypes=[(c, code_label("insutype", c)) for c in ("310", "390")],
        pager=paging.Pager(paging.number(p), setl_src.PAGE_SIZE, query),
    )


@router.get("/settlements.{fmt}")
def settlements_export(
    request: Request,
    console: Ctx,
    fmt: str,
    setl_id: str = "",
    psn_no: str = "",
    fixmedins_code: str = "",
    admdvs: str = "",
    insutype: str = "",
    date_from: str = "",
    date_to: str = "",
    sort: str = "time_desc",
) -> Response:
    """The whole filtered list as CSV or XLSX, streamed (导出)."""
    require(console, Page.SETTLEMENTS)
    if fmt not in ("csv", "xlsx"):
        raise OutOfScope()
    f = _settlement_filter(setl_id, psn_no, fixmedins_code, admdvs, insutype, date_from, date_to)
    engine, scope = engine_of(request), console.scope
    require_person_data(scope)  # before the response starts, not inside the stream
    service.audit_view(engine, console.principal, "settlement_export", fmt)

    def rows() -> Iterator[list[object]]:
        with engine.connect() as conn:
            yield from setl_src.export_rows(conn, scope, f, sort)

    name = f"结算记录_{china_today().isoformat()}.{fmt}"
    if fmt == "csv":
        return stream_csv(name, setl_src.EXPORT_HEADER, rows())
    return stream_xlsx(name, "结算记录", setl_src.EXPORT_HEADER, rows())


@router.get("/settlements/{setl_id}", response_class=HTMLResponse)
def settlement(request: Request, console: Ctx, setl_id: str) -> Response:
    require(console, Page.SETTLEMENTS)
    engine = engine_of(request)
    with engine.connect() as conn:
        found = setl_src.detail(conn, console.scope, setl_id)
    if found is None:
        raise OutOfScope()
    if not isinstance(found, Unavailable):
        service.audit_view(engine, console.principal, "settlement", setl_id)
    return page(
        request,
        console,
        "settlement.html",
        active=Page.SETTLEMENTS,
        title="结算单详情",
        crumbs=[("结算查询", "/console/settlements"), (setl_id, None)],
        s=found,
        setl_id=setl_id,
    )


@router.get("/institutions", response_class=HTMLResponse)
def institutions(
    request: Request, console: Ctx, q: str = "", sort: str = "region", after: str = "", p: str = "1"
) -> Response:
    require(console, Page.INSTITUTIONS)
    q = q.strip()
    if sort not in dict(inst_src.SORT_LABELS):
        sort = "region"
    with engine_of(request).connect() as conn:
        result = inst_src.search_page(conn, console.scope, q, sort=sort, cursor=after)
    query = {k: v for k, v in (("q", q), ("sort", sort)) if v}
    return page(
        request,
        console,
        "institutions.html",
        active=Page.INSTITUTIONS,
        title="定点机构",
        crumbs=[("定点机构", None)],
        q=q,
        result=result,
        sort=sort,
        sorts=inst_src.SORT_LABELS,
        pager=paging.Pager(paging.number(p), inst_src.PAGE_SIZE, query),
    )


@router.get("/institutions/{code}", response_class=HTMLResponse)
def institution(request: Request, console: Ctx, code: str) -> Response:
    require(console, Page.INSTITUTIONS)
    with engine_of(request).connect() as conn:
        found = inst_src.detail(conn, console.scope, code)
    if found is None:
        raise OutOfScope()
    return page(
        request,
        console,
        "institution.html",
        active=Page.INSTITUTIONS,
        title="定点机构详情",
        crumbs=[("定点机构", "/console/institutions"), (code, None)],
        inst=found,
        code=code,
    )


@router.get("/policy", response_class=HTMLResponse)
def policy(request: Request, console: Ctx, admdvs: str = "", on: str = "") -> Response:
    require(console, Page.POLICY)
    day = _parse_date(on) or china_today()
    regions = [r for r in policy_src.regions() if console.scope.allows_region(r)]
    if not admdvs:
        admdvs = console.principal.admdvs or (regions[0] if regions else "")
    view: policy_src.PolicyView | Unavailable | None = None
    error = ""
    if admdvs and not (len(admdvs) == 6 and admdvs.isdigit()):
        error = f"医保区划必须是 6 位数字：{admdvs}"
    elif admdvs and not console.scope.allows_region(admdvs):
        error = f"{admdvs} 不在您的管辖范围内"
    elif admdvs:
        view = policy_src.in_force(admdvs, day)
    else:
        view = policy_src.PENDING
    return page(
        request,
        console,
        "policy.html",
        active=Page.POLICY,
        title="政策查询",
        crumbs=[("政策查询", None)],
        admdvs=admdvs,
        on=day,
        regions=regions,
        view=view,
        error=error,
        bad_date=bool(on) and _parse_date(on) is None,
    )


@router.get("/reconciliation", response_class=HTMLResponse)
def reconciliation(request: Request, console: Ctx) -> Response:
    require(console, Page.RECONCILIATION)
    with engine_of(request).connect() as conn:
        view = recon_src.build(conn, console.scope, china_today())
    return page(
        request,
        console,
        "reconciliation.html",
        active=Page.RECONCILIATION,
        title="对账与清算",
        crumbs=[("对账与清算", None)],
        view=view,
    )


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, console: Ctx, actor: str = "", action: str = "") -> Response:
    require(console, Page.AUDIT)
    with engine_of(request).connect() as conn:
        rows = audit_src.recent(conn, actor=actor.strip(), action=action.strip())
    return page(
        request,
        console,
        "audit.html",
        active=Page.AUDIT,
        title="审计日志",
        crumbs=[("审计日志", None)],
        rows=rows,
        actor=actor,
        action=action,
        actions=audit_src.ACTION_LABELS,
    )
