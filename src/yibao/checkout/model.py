"""Checkout (结算编排) pure helpers: registry snapshot → engine ``Person``, accumulators ↔ flat
counters, classified lines ↔ stored split, HIS amount checks and national output. No I/O.

Sources: nhsa-interface.md §2.6 (setlinfo 表93, setldetail), §3.10 clr_type, §3.13 pay_loc.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from yibao.catalog.model import ClassifiedLine, split_line
from yibao.clock import CHINA
from yibao.encounter.amounts import AMOUNT_FIELDS
from yibao.money import fen_str, fen_to_yuan
from yibao.registry.model import Person as RegistryPerson
from yibao.registry.model import RegistrySnapshot
from yibao.settlement.model import (
    Accumulators,
    AssistanceClass,
    Item,
    Person,
    SettlementResult,
)

#: registry assistance class keys → the engine's (policy) keys (policy/model.py ASSISTANCE_CLASSES)
ASSISTANCE_KEY = {
    "extreme_poverty": "tekun",
    "near_dibao": "dibao_edge",
    "orphan": "orphan",
    "dibao": "dibao",
    "monitored": "monitored",
    "illness_poverty": "illness_poverty",
    "poverty_return": "poverty_return",
}

#: accumulator fields that are balances of the personal account, not year-to-date counters
_NOT_COUNTERS = ("year", "acct_balc", "mulaid_balc")

#: the amounts a HIS sends in 2207/2304 and Yibao checks against its own figures (§2.6)
CLAIMED_AMOUNTS = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
)

#: setlinfo amount fields in fen (表93 + hifdm_pay of [HN127]): the encounter store's list
SETLINFO_AMOUNTS = AMOUNT_FIELDS
SETLINFO_AMOUNTS = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "hifdm_pay",
    "oth_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "hosp_part_amt",
    "acct_mulaid_pay",
)

# pay_loc 支付地点 (§3.13): 2 医疗机构 for local care, 3 省内异地, 4 跨省异地
PAY_LOC_INSTITUTION = "2"
PAY_LOC_IN_PROVINCE = "3"
PAY_LOC_CROSS_PROVINCE = "4"
CLR_WAY_BY_ITEM = "01"  # clr_way 01 按项目 (§3.11)


class AmountMismatch(ValueError):
    """A HIS amount that differs from Yibao's own computation (金额不符)."""

    def __init__(self, field: str, claimed: int, ours: int) -> None:
        self.field = field
        self.claimed = claimed
        self.ours = ours
        super().__init__(
            f"{field}: 与医保按已上传明细计算的金额 {fen_str(ours)} 不符，收到 {fen_str(claimed)}"
        )


def engine_person(snap: RegistrySnapshot) -> Person:
    """The engine's ``Person`` from the registry's settlement snapshot (参保快照)."""
    classes = tuple(
        AssistanceClass(ASSISTANCE_KEY[c], i.begntime, i.endtime)
        for i in snap.identities
        if (c := i.assistance_class) is not None and c in ASSISTANCE_KEY
    )
    return Person(
        psn_no=snap.psn_no,
        insutype=snap.insutype,
        psn_type=snap.psn_type,
        insuplc_admdvs=snap.insuplc_admdvs,
        age=snap.age,
        cvlserv_flag=snap.cvlserv_flag,
        enrol_months=snap.continuous_months,
        assistance=classes,
        pool_only=snap.pool_only,
    )


def flatten(acc: Accumulators) -> dict[str, int]:
    """Year-to-date counters as a flat ``{"dedc.inpatient": fen, "admissions": n}`` map.

    The personal-account balances (``acct_balc``/``mulaid_balc``) are not counters: the account
    itself is the registry's (``personal_account``). Zero entries are dropped.
    """
    out: dict[str, int] = {}
    for key, value in acc.to_dict().items():
        if key in _NOT_COUNTERS:
            continue
        if isinstance(value, Mapping):
            for sub, v in value.items():
                if v:
                    out[f"{key}.{sub}"] = int(v)
        elif value:
            out[key] = int(value)
    return out


def unflatten(
    counters: Mapping[str, int], year: int, acct_balc: int = 0, mulaid_balc: int = 0
) -> Accumulators:
    """The engine's ``Accumulators`` from flat counters plus the account balances."""
    data: dict[str, Any] = {"year": year, "acct_balc": acct_balc, "mulaid_balc": mulaid_balc}
    for key, value in counters.items():
        head, _, sub = key.partition(".")
        if sub:
            data.setdefault(head, {})[sub] = int(value)
        else:
            data[head] = int(value)
    return Accumulators.from_dict(data)


# ---- items and splits ---------------------------------------------------------------------

#: Item fields kept with a stored fee line's split so settlement rebuilds the same Item
ITEM_FLAGS = (
    "name",
    "list_type",
    "lmt_used_flag",
    "hosp_appr_flag",
    "hi_nego_drug_flag",
    "vol_procurement_flag",
)


def item_flags(c: ClassifiedLine) -> dict[str, object]:
    """What a stored split keeps of a classified line (for :func:`item_from_stored`)."""
    it = c.item
    out: dict[str, object] = {k: getattr(it, k) for k in ITEM_FLAGS}
    out["in_catalog"] = it.in_catalog
    out["memo"] = c.memo
    return out


def item_from_stored(
    *,
    feedetl_sn: str,
    med_list_codg: str,
    det_item_fee_sumamt: int,
    cnt: Decimal,
    pric: Decimal,
    chrgitm_lv: str,
    med_chrgitm_type: str,
    selfpay_prop: Decimal,
    pric_uplmt_amt: int | None,
    flags: Mapping[str, object],
) -> Item:
    """Rebuild the engine ``Item`` of a fee line classified at upload time (2204/2301)."""
    return Item(
        feedetl_sn=feedetl_sn,
        med_list_codg=med_list_codg,
        name=str(flags.get("name", "")),
        list_type=str(flags.get("list_type", "")),
        chrgitm_lv=chrgitm_lv,
        med_chrgitm_type=med_chrgitm_type,
        det_item_fee_sumamt=det_item_fee_sumamt,
        cnt=cnt,
        pric=pric,
        selfpay_prop=selfpay_prop,
        pric_uplmt_amt=pric_uplmt_amt,
        lmt_used_flag=str(flags.get("lmt_used_flag", "0")),
        hosp_appr_flag=str(flags.get("hosp_appr_flag", "0")),
        hi_nego_drug_flag=str(flags.get("hi_nego_drug_flag", "0")),
        vol_procurement_flag=str(flags.get("vol_procurement_flag", "0")),
        in_catalog=bool(flags.get("in_catalog", True)),
    )


def split_row(c: ClassifiedLine, *, with_hosp_part: bool = False) -> dict[str, Any]:
    """One 2204/2301 ``result`` (2101 ``detlcutinfo``) row, amounts as 2-decimal numbers."""
    it = c.item
    s = split_line(it)
    row: dict[str, Any] = {
        "feedetl_sn": it.feedetl_sn,
        "det_item_fee_sumamt": fen_to_yuan(it.det_item_fee_sumamt),
        "cnt": it.cnt,
        "pric": it.pric,
        "pric_uplmt_amt": fen_to_yuan(it.pric_uplmt_amt)
        if it.pric_uplmt_amt is not None
        else Decimal("0.00"),
        "selfpay_prop": it.selfpay_prop.quantize(Decimal("0.0001")),
        "fulamt_ownpay_amt": fen_to_yuan(s.fulamt_ownpay_amt),
        "overlmt_amt": fen_to_yuan(s.overlmt_amt),
        "preselfpay_amt": fen_to_yuan(s.preselfpay_amt),
        "inscp_scp_amt": fen_to_yuan(s.inscp_scp_amt),
        "chrgitm_lv": it.chrgitm_lv,
        "med_chrgitm_type": it.med_chrgitm_type,
        "bas_medn_flag": "0",
        "hi_nego_drug_flag": it.hi_nego_drug_flag,
        "chld_medc_flag": "0",
        "list_sp_item_flag": "0",
        "lmt_used_flag": it.lmt_used_flag,
        "drt_reim_flag": "0",
        "memo": c.memo,
    }
    if with_hosp_part:
        row["hosp_part_amt"] = Decimal("0.00")
    return row


# ---- amounts ---------------------------------------------------------------------------------


def setlinfo_fen(result: SettlementResult) -> dict[str, object]:
    """The engine's ``setlinfo`` as a fen dict (the encounter store's record format)."""
    s = result.setlinfo
    out: dict[str, object] = {
        n: int(getattr(s, n, 0)) for n in SETLINFO_AMOUNTS if n != "hifdm_pay"
    }
    out["hifdm_pay"] = 0
    out["balc"] = int(s.balc)
    out["pool_prop_selfpay"] = str(s.pool_prop_selfpay)
    out.update(
        med_type=s.med_type,
        insutype=s.insutype,
        psn_type=s.psn_type,
        cvlserv_flag=s.cvlserv_flag,
        clr_type=s.clr_type,
    )
    return out


def setldetail_fen(result: SettlementResult) -> list[dict[str, object]]:
    """The engine's fund lines (结算基金分项) as fen dicts."""
    return [
        {
            "fund_pay_type": d.fund_pay_type,
            "fund_pay_type_name": d.fund_pay_type_name,
            "inscp_scp_amt": d.inscp_scp_amt,
            "crt_payb_lmt_amt": d.crt_payb_lmt_amt,
            "fund_payamt": d.fund_payamt,
            "setl_proc_info": d.setl_proc_info,
        }
        for d in result.setldetail
    ]


def check_claims(claimed: Mapping[str, int | None], ours: Mapping[str, object]) -> None:
    """Refuse the first HIS amount that differs from Yibao's figure (``None`` = not sent)."""
    for name in CLAIMED_AMOUNTS:
        value = claimed.get(name)
        if value is None:
            continue
        mine = ours[name]
        assert isinstance(mine, int)
        if value != mine:
            raise AmountMismatch(name, value, mine)


def pay_loc(insuplc_admdvs: str, mdtrtarea_admvs: str) -> str:
    """支付地点: 医疗机构 for local care, 省内异地 / 跨省异地 otherwise (§3.13)."""
    if insuplc_admdvs[:4] == mdtrtarea_admvs[:4]:
        return PAY_LOC_INSTITUTION
    if insuplc_admdvs[:2] == mdtrtarea_admvs[:2]:
        return PAY_LOC_IN_PROVINCE
    return PAY_LOC_CROSS_PROVINCE


def yuan(value: object) -> object:
    """A fen integer as a 2-decimal number; anything else unchanged."""
    if isinstance(value, int) and not isinstance(value, bool):
        return fen_to_yuan(value)
    return value


def national_setlinfo(
    record: Mapping[str, object],
    *,
    person: RegistryPerson | None,
    age: int | None,
    mdtrt_cert_type: str,
    setl_time: datetime | None,
    msgid: str,
    clr_way: str,
    clr_optins: str,
) -> dict[str, Any]:
    """``setlinfo`` in the order of 表93 with amounts as 2-decimal numbers.

    ``record`` is a fen dict (:func:`setlinfo_fen` or a stored settlement's ``setlinfo``);
    without ``setl_time`` (2206/2303/2101 pre-settlement) there is no ``setl_id``.
    """
    out: dict[str, Any] = {"mdtrt_id": record.get("mdtrt_id", "")}
    if setl_time is not None:
        out["setl_id"] = record.get("setl_id", "")
    out["psn_no"] = record.get("psn_no", person.psn_no if person else "")
    if person is not None:
        out.update(
            psn_name=person.psn_name,
            psn_cert_type=person.psn_cert_type,
            certno=person.certno,
            gend=person.gend,
            naty=person.naty,
            brdy=person.brdy.isoformat(),
            age=Decimal(age if age is not None else 0).quantize(Decimal("0.1")),
        )
    out.update(
        insutype=record.get("insutype", ""),
        psn_type=record.get("psn_type", ""),
        cvlserv_flag=record.get("cvlserv_flag", "0"),
        setl_time=_china(setl_time) if setl_time is not None else "",
        mdtrt_cert_type=mdtrt_cert_type,
        med_type=record.get("med_type", ""),
    )
    for name in SETLINFO_AMOUNTS:
        if name in ("hifdm_pay", "acct_mulaid_pay"):
            continue
        out[name] = yuan(int(_int(record.get(name))))
        if name == "act_pay_dedc":
            out["pool_prop_selfpay"] = Decimal(
                str(record.get("pool_prop_selfpay") or "0")
            ).quantize(Decimal("0.0001"))
    out["balc"] = yuan(_int(record.get("balc")))
    out["acct_mulaid_pay"] = yuan(_int(record.get("acct_mulaid_pay")))
    out["medins_setl_id"] = msgid
    out["clr_optins"] = clr_optins
    out["clr_way"] = clr_way
    out["clr_type"] = record.get("clr_type", "")
    out["hifdm_pay"] = yuan(_int(record.get("hifdm_pay")))
    return out


def national_setldetail(rows: Iterable[Mapping[str, object]]) -> list[dict[str, Any]]:
    """``setldetail[]`` with amounts as 2-decimal numbers."""
    return [
        {
            "fund_pay_type": r.get("fund_pay_type", ""),
            "inscp_scp_amt": yuan(_int(r.get("inscp_scp_amt"))),
            "crt_payb_lmt_amt": yuan(_int(r.get("crt_payb_lmt_amt"))),
            "fund_payamt": yuan(_int(r.get("fund_payamt"))),
            "fund_pay_type_name": r.get("fund_pay_type_name", ""),
            "setl_proc_info": r.get("setl_proc_info", ""),
        }
        for r in rows
    ]


def _int(v: object) -> int:
    if v is None:
        return 0
    if isinstance(v, bool):
        raise TypeError("boolean amount")
    if isinstance(v, int):
        return v
    return int(str(v))


def _china(moment: datetime) -> str:

    if moment.tzinfo is not None:
        moment = moment.astimezone(CHINA)
    return f"{moment:%Y-%m-%d %H:%M:%S}"
