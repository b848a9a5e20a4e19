"""Settlement read model (结算查询): search, full breakdown and the engine's trace.

Reads the settlement records the encounter capability stores (``encounter_settlement``, amounts
in fen, with ``setldetail`` and the engine's ``trace``) and their fee lines, through
:mod:`yibao.console.scoping`: a settlement is visible from its insured place (参保地) and its place
of treatment (就医地); an institution operator sees only its own institution's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from yibao.console.model import Scope
from yibao.console.scoping import OutOfScope, ensure_visible, scoped
from yibao.money import MoneyError, yuan_to_fen
from yibao.web.labels import code_label, with_code
from yibao.web.regions import region_label, region_name
from yibao.web.sources import Unavailable, tables_exist

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


@dataclass(slots=True)
class SettlementFilter:
    setl_id: str = ""
    psn_no: str = ""
    fixmedins_code: str = ""
    admdvs: str = ""
    date_from: date | None = None
    date_to: date | None = None


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
    psn_cash_pay: int
    status: str


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
    return tables_exist(conn, "encounter_settlement")


def _names(conn: sa.Connection) -> tuple[sa.Table | None, sa.Table | None]:
    """The registry's person table and the institutions table, when those capabilities exist."""
    person: sa.Table | None = None
    inst: sa.Table | None = None
    if tables_exist(conn, "person"):
        from yibao.registry import store as reg

        person = reg.person
    if tables_exist(conn, "institution"):
        from yibao.institutions import store as ins

        inst = ins.institution
    return person, inst


def search(
    conn: sa.Connection, scope: Scope, f: SettlementFilter, limit: int = 100
) -> list[SettlementRow] | Unavailable:
    """Settlement records in scope, newest first."""
    if not available(conn):
        return PENDING
    from yibao.encounter.store import encounter_settlement as s

    person, inst = _names(conn)
    cols: list[Any] = [s]
    src: Any = s
    if person is not None:
        cols.append(person.c.psn_name)
        src = src.outerjoin(person, person.c.psn_no == s.c.psn_no)
    if inst is not None:
        cols.append(inst.c.fixmedins_name)
        src = src.outerjoin(inst, inst.c.fixmedins_code == s.c.fixmedins_code)
    rev = s.alias("rev")
    cancelled = sa.exists().where(rev.c.reverses == s.c.setl_id)
    stmt = (
        sa.select(*cols, cancelled.label("is_cancelled"))
        .select_from(src)
        .order_by(s.c.setl_time.desc(), s.c.setl_id.desc())
        .limit(limit)
    )
    stmt = scoped(
        stmt,
        scope,
        regions=[s.c.insuplc_admdvs, s.c.mdtrtarea_admvs],
        institution=s.c.fixmedins_code,
        person_data=True,
    )
    if f.setl_id:
        stmt = stmt.where(s.c.setl_id == f.setl_id)
    if f.psn_no:
        stmt = stmt.where(s.c.psn_no == f.psn_no)
    if f.fixmedins_code:
        stmt = stmt.where(s.c.fixmedins_code == f.fixmedins_code)
    if f.admdvs:
        stmt = stmt.where(
            sa.or_(
                s.c.insuplc_admdvs.startswith(f.admdvs, autoescape=True),
                s.c.mdtrtarea_admvs.startswith(f.admdvs, autoescape=True),
            )
        )
    if f.date_from:
        stmt = stmt.where(s.c.setl_date >= f.date_from)
    if f.date_to:
        stmt = stmt.where(s.c.setl_date <= f.date_to)
    from yibao.web.render import china_time

    rows = []
    for m in conn.execute(stmt).mappings():
        rows.append(
            SettlementRow(
                setl_id=m["setl_id"],
                setl_time=china_time(m["setl_time"], "%Y-%m-%d %H:%M"),
                psn_no=m["psn_no"],
                psn_name=m.get("psn_name") or m["psn_no"],
                fixmedins_name=m.get("fixmedins_name") or m["fixmedins_code"],
                med_type=code_label("med_type", m["med_type"]),
                insuplc_admdvs=m["insuplc_admdvs"],
                mdtrtarea_admvs=m["mdtrtarea_admvs"],
                medfee_sumamt=int(m["medfee_sumamt"] or 0),
                fund_pay_sumamt=int(m["fund_pay_sumamt"] or 0),
                psn_cash_pay=int(m["psn_cash_pay"] or 0),
                status=_status(m["kind"], bool(m["is_cancelled"])),
            )
        )
    return rows


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
    from yibao.encounter.store import encounter_fee_line, encounter_settlement
    from yibao.web.render import china_time

    m = (
        conn.execute(
            sa.select(encounter_settlement).where(encounter_settlement.c.setl_id == setl_id)
        )
        .mappings()
        .first()
    )
    if m is None:
        raise OutOfScope()
    ensure_visible(
        scope,
        regions=[m["insuplc_admdvs"], m["mdtrtarea_admvs"]],
        institution=m["fixmedins_code"],
    )
    person, inst = _names(conn)
    psn_name = inst_name = ""
    if person is not None:
        psn_name = (
            conn.execute(
                sa.select(person.c.psn_name).where(person.c.psn_no == m["psn_no"])
            ).scalar()
            or ""
        )
    if inst is not None:
        inst_name = (
            conn.execute(
                sa.select(inst.c.fixmedins_name).where(inst.c.fixmedins_code == m["fixmedins_code"])
            ).scalar()
            or ""
        )
    cancel_id = conn.execute(
        sa.select(encounter_settlement.c.setl_id).where(encounter_settlement.c.reverses == setl_id)
    ).scalar()
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
    line_sn = m["feedetl_sns"] or []
    lines = (
        list(
            conn.execute(
                sa.select(encounter_fee_line)
                .where(
                    encounter_fee_line.c.mdtrt_id == m["mdtrt_id"],
                    encounter_fee_line.c.feedetl_sn.in_(line_sn),
                )
                .order_by(encounter_fee_line.c.feedetl_sn)
            ).mappings()
        )
        if line_sn
        else []
    )
    names = _item_names(conn, m["mdtrtarea_admvs"], [ln["med_list_codg"] for ln in lines])
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


def _item_names(conn: sa.Connection, admdvs: str, codes_: list[str]) -> dict[str, str]:
    """Catalogue names (目录名称) of the fee lines, from the catalogue when it is loaded."""
    if not codes_ or not tables_exist(conn, "catalog_item"):
        return {}
    from yibao.catalog.store import catalog_item as ci

    rows = conn.execute(
        sa.select(ci.c.med_list_codg, ci.c.name)
        .where(ci.c.med_list_codg.in_(codes_), ci.c.name.is_not(None))
        .order_by(ci.c.med_list_codg, ci.c.admdvs.desc())
    )
    out: dict[str, str] = {}
    for code, name in rows:
        out.setdefault(code, name)
    return out


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
