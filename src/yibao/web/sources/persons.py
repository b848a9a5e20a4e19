"""Registry read model (参保人查询): search with masked IDs, person detail.

Reads the registry, the e-voucher, filings (when present) and settlements through their query
functions (``yibao.<capability>.queries``), always scoped by :mod:`yibao.console.scoping`. A person belongs to the regions of their enrolments
(参保地 ``insuplc_admdvs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from yibao.console.model import Scope, mask_phone
from yibao.console.scoping import OutOfScope, ensure_visible
from yibao.filing import queries as filings
from yibao.registry import queries as registry
from yibao.voucher import queries as vouchers
from yibao.web.labels import code_label, with_code
from yibao.web.regions import region_label
from yibao.web.unavailable import Unavailable

PENDING = Unavailable(
    "参保登记数据尚未接入：参保登记服务尚未上线，暂无可查询的参保人。", "registry"
)


@dataclass(slots=True)
class PersonRow:
    psn_no: str
    psn_name: str
    certno_masked: str
    gend: str
    brdy: str
    insuplc_admdvs: str
    insutypes: str


@dataclass(slots=True)
class PersonDetail:
    psn_no: str
    psn_name: str
    fields: list[tuple[str, str]]
    regions: list[str]
    enrolments: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    assistance: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    filings: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    settlements: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    voucher: list[tuple[str, str]] | Unavailable = field(default_factory=list)


@dataclass(slots=True)
class PersonPage:
    rows: list[PersonRow]
    total: int
    estimated: bool
    next: str = ""  # cursor ``a:<psn_no>`` / ``b:<psn_no>`` of the neighbouring pages
    prev: str = ""


SORT_LABELS: tuple[tuple[str, str], ...] = (
    ("psn_asc", "人员编号（升序）"),
    ("psn_desc", "人员编号（降序）"),
)
PAGE_SIZE = 50


def search(
    conn: sa.Connection, scope: Scope, q: str, limit: int = 50
) -> list[PersonRow] | Unavailable:
    """Persons in scope matching ``q`` (人员编号, full 证件号码 or part of the name)."""
    got = search_page(conn, scope, q, size=limit)
    return got if isinstance(got, Unavailable) else got.rows


def search_page(
    conn: sa.Connection,
    scope: Scope,
    q: str,
    *,
    sort: str = "psn_asc",
    cursor: str = "",
    size: int = PAGE_SIZE,
) -> PersonPage | Unavailable:
    """One page of persons in scope matching ``q``, keyset-paged by 人员编号, with the total."""
    if not registry.available(conn):
        return PENDING
    direction, _, key = cursor.partition(":")
    after = key if direction == "a" else ""
    before = key if direction == "b" else ""
    hits, more, total = registry.person_page(
        conn, scope, q, after=after, before=before, size=size, desc=sort == "psn_desc"
    )
    rows = [_row(hit) for hit in hits]
    out = PersonPage(rows=rows, total=total.n, estimated=total.estimated)
    if rows:
        if more or before:
            out.next = "a:" + rows[-1].psn_no
        if (more and before) or (after and not before):
            out.prev = "b:" + rows[0].psn_no
    return out


def _row(hit: registry.PersonHit) -> PersonRow:
    p, ens = hit.person, hit.enrolments
    return PersonRow(
        psn_no=p["psn_no"],
        psn_name=p["psn_name"],
        certno_masked=_mask(p["certno"]),
        gend=code_label("gend", p["gend"]),
        brdy=p["brdy"].isoformat() if p["brdy"] else "",
        insuplc_admdvs=ens[0][1] if ens else "",
        insutypes="、".join(code_label("insutype", t) for t, _ in ens),
    )


def detail(conn: sa.Connection, scope: Scope, psn_no: str) -> PersonDetail | Unavailable | None:
    """One person with enrolments, assistance identities, filings, voucher and settlements.

    Raises :class:`OutOfScope` for a person outside the user's regions; None if no such person.
    """
    if not registry.available(conn):
        return PENDING
    p = registry.get_person(conn, psn_no)
    if p is None:
        raise OutOfScope()
    ens = registry.enrolments(conn, psn_no)
    regions = sorted({e["insuplc_admdvs"] for e in ens})
    ensure_visible(scope, regions=regions)
    balc = registry.account_balance(conn, psn_no)
    fields = [
        ("人员编号", p["psn_no"]),
        ("姓名", p["psn_name"]),
        ("证件类型", code_label("psn_cert_type", p["psn_cert_type"])),
        ("证件号码", _mask(p["certno"])),
        ("性别", code_label("gend", p["gend"])),
        ("民族", code_label("naty", p["naty"]) if p["naty"] else ""),
        ("出生日期", p["brdy"].isoformat() if p["brdy"] else ""),
        ("联系电话", mask_phone(p["tel"])),
        ("乡镇（街道）", p["town"] or ""),
        ("个人账户余额", "—" if balc is None else f"{_yuan(balc)} 元"),
    ]
    enrolments = [
        {
            "insutype_label": with_code("insutype", e["insutype"]),
            "psn_type_label": with_code("psn_type", e["psn_type"]),
            "psn_insu_stas_label": code_label("psn_insu_stas", e["psn_insu_stas"]),
            "insuplc": region_label(e["insuplc_admdvs"]),
            "begndate": e["psn_insu_date"].isoformat() if e["psn_insu_date"] else "",
            "enddate": e["paus_insu_date"].isoformat() if e["paus_insu_date"] else "",
            "emp_name": e["emp_name"] or "",
            "flags": "、".join(
                n
                for n, on in (("灵活就业", e["flxempe_flag"]), ("公务员", e["cvlserv_flag"]))
                if on
            ),
        }
        for e in ens
    ]
    assistance = [
        {
            "label": with_code("psn_idet_type", i["psn_idet_type"]),
            "begndate": i["begntime"].isoformat() if i["begntime"] else "",
            "enddate": i["endtime"].isoformat() if i["endtime"] else "长期",
            "source": i["memo"] or "",
        }
        for i in registry.identities(conn, psn_no)
    ]
    return PersonDetail(
        psn_no=psn_no,
        psn_name=p["psn_name"],
        fields=fields,
        regions=regions,
        enrolments=enrolments,
        assistance=assistance,
        filings=_filings(conn, psn_no),
        settlements=_settlements(conn, scope, psn_no),
        voucher=_voucher(conn, psn_no),
    )


def _mask(certno: str) -> str:
    """The registry's own masking rule (first 6 + last 4), so every page masks alike."""
    from yibao.registry.certs import mask

    return mask(certno or "")


def _yuan(fen: int) -> str:
    from yibao.web.render import yuan

    return yuan(fen)


def _voucher(conn: sa.Connection, psn_no: str) -> list[tuple[str, str]] | Unavailable:
    """The e-voucher (医保电子凭证) state and the channels it is authorised on; [] if none."""
    if not vouchers.available(conn):
        return Unavailable("医保电子凭证数据尚未接入。", "voucher")
    from yibao.web.render import china_time

    v, channels = vouchers.voucher_of(conn, psn_no)
    if v is None:
        return []
    status: str = {"active": "已激活", "revoked": "已注销"}.get(v["status"]) or v["status"]
    out = [
        ("凭证状态", status),
        ("激活时间", china_time(v["activated_at"])),
        ("激活渠道", v["activated_chnl"] or ""),
        ("已授权渠道", "、".join(channels) or "无"),
    ]
    if v["revoked_at"]:
        out.append(("注销时间", china_time(v["revoked_at"])))
    return out


def _filings(conn: sa.Connection, psn_no: str) -> list[dict[str, Any]] | Unavailable:
    """Cross-region filings (异地就医备案) of the person, newest first."""
    if not filings.available(conn):
        return Unavailable("异地就医备案数据尚未接入：备案服务尚未上线。", "filing")
    from yibao.filing.model import TYPE_NAMES, FilingType

    status = {"active": "有效", "cancelled": "已撤销", "ended": "已终止"}
    rows = []
    for r in filings.filings_of(conn, psn_no):
        try:
            label = TYPE_NAMES[FilingType(r["filing_type"])]
        except ValueError:
            label = r["filing_type"]
        rows.append(
            {
                "label": label,
                "place": region_label(r["mdtrtarea_admdvs"]),
                "begndate": r["begndate"].isoformat() if r["begndate"] else "",
                "enddate": r["enddate"].isoformat() if r["enddate"] else "长期",
                "status": status.get(r["status"], r["status"]),
            }
        )
    return rows


def _settlements(
    conn: sa.Connection, scope: Scope, psn_no: str
) -> list[dict[str, Any]] | Unavailable:
    from yibao.web.sources import settlements as setl_src

    rows = setl_src.search(conn, scope, setl_src.SettlementFilter(psn_no=psn_no), limit=50)
    if isinstance(rows, Unavailable):
        return rows
    return [
        {
            "setl_id": r.setl_id,
            "setl_time": r.setl_time,
            "fixmedins_name": r.fixmedins_name,
            "med_type": r.med_type,
            "medfee_sumamt": _yuan(r.medfee_sumamt),
            "fund_pay_sumamt": _yuan(r.fund_pay_sumamt),
            "psn_cash_pay": _yuan(r.psn_cash_pay),
            "status": r.status,
        }
        for r in rows
    ]
