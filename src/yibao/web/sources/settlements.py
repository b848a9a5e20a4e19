"""Settlement read model (结算查询): search, full breakdown and the engine's trace.

Reads the settlement records the encounter capability stores (amounts in fen, with
``setldetail`` and the engine's ``trace``) and their fee lines through
:mod:`yibao.encounter.queries`, scoped by :mod:`yibao.console.scoping`: a settlement is visible
from its insured place (参保地) and its place of treatment (就医地); an institution operator sees
only its own institution's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from yibao.catalog import queries as catalog
from yibao.console.model import Scope
from yibao.console.scoping import OutOfScope, ensure_visible
from yibao.encounter import listing
from yibao.encounter import queries as encounters
from yibao.institutions import queries as institutions
from yibao.money import MoneyError, yuan_to_fen
from yibao.registry import queries as registry
from yibao.web.labels import code_label, with_code
from yibao.web.regions import region_label, region_name
from yibao.web.unavailable import Unavailable

PENDING = Unavailable("结算记录尚未接入：结算服务尚未上线，暂无可查询的结算单。", "settlement")

AMOUNT_LABELS: tuple[tuple[str, str], ...] = (
    ("medfee_sumamt", "医疗费总额"),
    ("fulamt_ownpay_amt", "全自费金额"),
    ("overlmt_selfpay", "超限价自费"),
    ("preselfpay_amt", "先行自付金额"),
    ("inscp_scp_amt", "符合政策范围金额"),
    ("act_pay_dedc", "实际支付起付线"),
    ("hifp_pay", "基本医疗保险统筹基金支出"),
    ("pool_prop_selfpay", "基本统筹支付比例"),
    ("cvlserv_pay", "公务员医疗补助"),
    ("hifes_pay", "企业补充医疗保险"),
    ("hifmi_pay", "居民大病保险"),
    ("hifob_pay", "职工大额医疗费用补助"),
    ("maf_pay", "医疗救助基金"),
    ("oth_pay", "其他支出"),
    ("fund_pay_sumamt", "基金支付总额"),
    ("psn_part_amt", "个人负担总金额"),
    ("acct_pay", "个人账户支出"),
    ("psn_cash_pay", "个人现金支出"),
    ("hosp_part_amt", "医院负担金额"),
    ("acct_mulaid_pay", "个人账户共济支付"),
)

LV_LABELS = {"01": "甲类", "02": "乙类", "03": "丙类"}


SettlementFilter = listing.Filter

#: sort keys offered on the page (排序)
SORT_LABELS: tuple[tuple[str, str], ...] = (
    ("time_desc", "结算时间（新→旧）"),
    ("time_asc", "结算时间（旧→新）"),
    ("medfee_desc", "总费用（高→低）"),
    ("medfee_asc", "总费用（低→高）"),
)
PAGE_SIZE = 50


@dataclass(slots=True)
class SettlementRow:
    setl_id: str
    setl_time: str
    psn_no: str
    psn_name: str
    fixmedins_name: str
    med_type: str
    insuplc_admdvs: str
    mdtrtarea_admvs: str
    medfee_sumamt: int
    fund_pay_sumamt: int
    acct_pay: int
    psn_cash_pay: int
    status: str


@dataclass(slots=True)
class SettlementPage:
    rows: list[SettlementRow]
    total: int
    next: str = ""  # cursor of the next page (URL parameter ``after``), "" on the last
    prev: str = ""


@dataclass(slots=True)
class SettlementDetail:
    setl_id: str
    insuplc_admdvs: str
    mdtrtarea_admvs: str
    fixmedins_code: str
    psn_no: str
    header: list[tuple[str, str]] = field(default_factory=list)
    amounts: list[tuple[str, str, int]] = field(default_factory=list)  # (field, 中文, fen)
    ratio: str = ""
    funds: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    trace: list[dict[str, Any]] = field(default_factory=list)


def available(conn: sa.Connection) -> bool:
    return encounters.available(conn)


def search(
    conn: sa.Connection, scope: Scope, f: SettlementFilter, limit: int = 100
) -> list[SettlementRow] | Unavailable:
    """The newest ``limit`` settlement records in scope (a person's page, the simulators)."""
    if not available(conn):
        return PENDING
    return _rows(conn, listing.page(conn, scope, f, size=limit, counted=False).rows)


def search_page(
    conn: sa.Connection,
    scope: Scope,
    f: SettlementFilter,
    *,
    sort: str = "time_desc",
    cursor: str = "",
    size: int = PAGE_SIZE,
) -> SettlementPage | Unavailable:
    """One page of settlement records in scope (keyset paging) with the true total."""
    if not available(conn):
        return PENDING
    got = listing.page(conn, scope, f, sort=sort, cursor=listing.Cursor.decode(cursor), size=size)
    return SettlementPage(
        rows=_rows(conn, got.rows),
        total=got.total,
        next=got.next.encode() if got.next else "",
        prev=got.prev.encode() if got.prev else "",
    )


def _rows(conn: sa.Connection, found: list[dict[str, Any]]) -> list[SettlementRow]:
    from yibao.web.render import china_time

    persons = registry.names(conn, (m["psn_no"] for m in found))
    insts = institutions.names(conn, (m["fixmedins_code"] for m in found))
    return [
        SettlementRow(
            setl_id=m["setl_id"],
            setl_time=china_time(m["setl_time"], "%Y-%m-%d %H:%M"),
            psn_no=m["psn_no"],
            psn_name=persons.get(m["psn_no"]) or m["psn_no"],
            fixmedins_name=insts.get(m["fixmedins_code"]) or m["fixmedins_code"],
            med_type=code_label("med_type", m["med_type"]),
            insuplc_admdvs=m["insuplc_admdvs"],
            mdtrtarea_admvs=m["mdtrtarea_admvs"],
            medfee_sumamt=int(m["medfee_sumamt"] or 0),
            fund_pay_sumamt=int(m["fund_pay_sumamt"] or 0),
            acct_pay=int(m["acct_pay"] or 0),
            psn_cash_pay=int(m["psn_cash_pay"] or 0),
            status=_status(m["kind"], bool(m["is_cancelled"])),
        )
        for m in found
    ]


EXPORT_HEADER = (
    "结算编号",
    "结算时间",
    "人员编号",
    "姓名",
    "定点机构",
    "医疗类别",
    "参保地",
    "就医地",
    "总费用（元）",
    "基金支付（元）",
    "个人账户（元）",
    "个人现金（元）",
    "状态",
)


def export_rows(
    conn: sa.Connection, scope: Scope, f: SettlementFilter, sort: str, *, chunk: int = 2000
) -> Iterator[list[object]]:
    """Every record in scope, row by row, walking the keyset pages (导出, streamed)."""
    from yibao.web.xlsx import Money

    cursor: listing.Cursor | None = None
    while True:
        got = listing.page(conn, scope, f, sort=sort, cursor=cursor, size=chunk, counted=False)
        for r in _rows(conn, got.rows):
            yield [
                r.setl_id,
                r.setl_time,
                r.psn_no,
                r.psn_name,
                r.fixmedins_name,
                r.med_type,
                region_name(r.insuplc_admdvs),
                region_name(r.mdtrtarea_admvs),
                Money(r.medfee_sumamt),
                Money(r.fund_pay_sumamt),
                Money(r.acct_pay),
                Money(r.psn_cash_pay),
                r.status,
            ]
        if got.next is None:
            return
        cursor = got.next


def _status(kind: str, cancelled: bool) -> str:
    if kind == "cancel":
        return "撤销记录"
    return "已撤销" if cancelled else "已结算"


def _fen(value: object) -> int:
    """An amount from stored JSON: fen as int, or a 2-decimal yuan string (national form)."""
    if isinstance(value, bool) or value is None or value == "":
        return 0
    if isinstance(value, int):
        return value
    try:
        return yuan_to_fen(value)
    except MoneyError:
        return 0


def detail(
    conn: sa.Connection, scope: Scope, setl_id: str
) -> SettlementDetail | Unavailable | None:
    """One settlement with amounts, fund lines, item split and trace; OutOfScope if not visible."""
    if not available(conn):
        return PENDING
    from yibao.web.render import china_time

    m = encounters.settlement(conn, setl_id)
    if m is None:
        raise OutOfScope()
    ensure_visible(
        scope,
        regions=[m["insuplc_admdvs"], m["mdtrtarea_admvs"]],
        institution=m["fixmedins_code"],
    )
    psn_name = registry.names(conn, [m["psn_no"]]).get(m["psn_no"]) or ""
    inst_name = institutions.names(conn, [m["fixmedins_code"]]).get(m["fixmedins_code"]) or ""
    cancel_id = encounters.cancellation_of(conn, setl_id)
    cross = m["insuplc_admdvs"] != m["mdtrtarea_admvs"]
    header = [
        ("结算编号", m["setl_id"]),
        ("就诊编号", m["mdtrt_id"]),
        ("记录类型", "撤销（冲销）记录" if m["kind"] == "cancel" else "结算"),
        ("状态", _status(m["kind"], cancel_id is not None)),
        ("参保人", f"{psn_name}（{m['psn_no']}）" if psn_name else m["psn_no"]),
        ("险种", with_code("insutype", m["insutype"])),
        ("医疗类别", with_code("med_type", m["med_type"])),
        ("定点机构", f"{inst_name}（{m['fixmedins_code']}）" if inst_name else m["fixmedins_code"]),
        ("参保地", region_label(m["insuplc_admdvs"])),
        ("就医地", region_label(m["mdtrtarea_admvs"]) + ("（异地就医）" if cross else "")),
        ("结算时间", china_time(m["setl_time"])),
        ("清算类别", with_code("clr_type", m["clr_type"]) if m["clr_type"] else ""),
        ("清算经办机构", region_label(m["clr_optins"]) if m["clr_optins"] else ""),
        ("账户余额（结算后）", "" if m["balc"] is None else _yuan(int(m["balc"])) + " 元"),
    ]
    if m["reverses"]:
        header.append(("冲销的原结算", m["reverses"]))
    if cancel_id:
        header.append(("撤销记录", cancel_id))
    amounts = [
        (name, label, int(m[name] or 0))
        for name, label in AMOUNT_LABELS
        if name != "pool_prop_selfpay" and name in m
    ]
    ratio = str(m["pool_prop_selfpay"]) if m["pool_prop_selfpay"] is not None else ""
    funds = [
        {
            "fund_pay_type": d.get("fund_pay_type", ""),
            "label": d.get("fund_pay_type_name")
            or code_label("fund_pay_type", d.get("fund_pay_type")),
            "inscp_scp_amt": _fen(d.get("inscp_scp_amt")),
            "fund_payamt": _fen(d.get("fund_payamt")),
            "note": d.get("setl_proc_info") or "",
        }
        for d in (m["setldetail"] or [])
    ]
    lines = encounters.fee_lines(conn, m["mdtrt_id"], m["feedetl_sns"] or [])
    names = catalog.item_names(conn, [ln["med_list_codg"] for ln in lines])
    items = [
        {
            "feedetl_sn": ln["feedetl_sn"],
            "name": names.get(ln["med_list_codg"], ln["med_list_codg"]),
            "code": ln["med_list_codg"],
            "lv_label": LV_LABELS.get(ln["chrgitm_lv"] or "", ln["chrgitm_lv"] or ""),
            "det_item_fee_sumamt": int(ln["det_item_fee_sumamt"] or 0),
            "fulamt_ownpay_amt": int(ln["fulamt_ownpay_amt"] or 0),
            "overlmt_amt": int(ln["overlmt_amt"] or 0),
            "preselfpay_amt": int(ln["preselfpay_amt"] or 0),
            "inscp_scp_amt": int(ln["inscp_scp_amt"] or 0),
        }
        for ln in lines
    ]
    return SettlementDetail(
        setl_id=setl_id,
        insuplc_admdvs=m["insuplc_admdvs"],
        mdtrtarea_admvs=m["mdtrtarea_admvs"],
        fixmedins_code=m["fixmedins_code"],
        psn_no=m["psn_no"],
        header=header,
        amounts=amounts,
        ratio=ratio,
        funds=funds,
        items=items,
        trace=normalise_trace(m["trace"]),
    )


def normalise_trace(raw: object) -> list[dict[str, Any]]:
    """A stored trace (read by ``yibao.settlement.trace.read``, which knows every stored form)
    as rows for the template: step, amount (元), explanation, and each parameter with the value
    applied, since when, the region that set it and its reference (依据)."""
    from yibao.settlement.trace import read

    out = []
    for step in read(raw):
        params = []
        for p in step.params:
            ref = p.reference
            if p.assumed:
                ref = (ref + "（假设值）").strip()
            if not p.value and not ref:  # the oldest records kept only the parameter's key
                ref = "该结算记录未保存参数取值和依据"
            since = f"{p.since} 起" if p.since else ""
            if p.default:
                since = "参数目录默认值"
            elif p.region == "override":
                since = f"测算覆盖值 {since}".strip()
            elif p.region:
                since = f"{region_name(p.region)} {since}".strip()
            params.append(
                {"name": p.name, "key": p.key, "value": p.value, "reference": ref, "since": since}
            )
        out.append(
            {
                "step": step.label,
                "amount": "" if step.amount is None else f"{_yuan(step.amount)} 元",
                "explain": step.detail,
                "params": params,
            }
        )
    return out


def _yuan(fen: int) -> str:
    from yibao.web.render import yuan

    return yuan(fen)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a China business day as aware datetimes."""
    from yibao.web.render import CHINA

    start = datetime.combine(day, time(0), tzinfo=CHINA)
    return start, start + timedelta(days=1)
