"""The catalogue (医保目录) as pure data and rules: no I/O, no database, no clock.

A region's catalogue is built from *layers*: the province list (省目录, e.g. 440000) and, below
it, city or county overrides (地市调整, e.g. 440300) that change an item's class (甲/乙/丙), its
first-pay ratio (先行自付比例) or its payment standard (支付标准), or add or remove items. Each
layer holds dated rows (``begndate``..``enddate``, both inclusive) per national code
(``med_list_codg``). :func:`resolve_entry` folds the layers for one code on one date into a
:class:`CatalogEntry`; :func:`classify_line` turns an HIS fee line (2204 ``feedetail``) into the
engine's :class:`~yibao.items.Item`; :func:`split_line` computes the 2204 ``result``
amounts of one line (全自费 / 超限价 / 先行自付 / 符合政策范围).

Field names follow the national interface: 1312 医保目录信息查询 (``list_type``, ``chrgitm_lv``,
``med_chrgitm_type``, ``lmt_used_flag``, ``begndate``, ``enddate``, ``vali_flag``,
``updt_time``), 1318 限价 (``hilist_pric_uplmt_amt`` → ``pric_uplmt_amt`` per unit), 1319
先自付比例 (``selfpay_prop``), 1301 西药中成药目录 (``drug_dosform``, ``drug_spec``,
``prodentp_name``, ``lmt_usescp``) and 2204 ``result`` (``hi_nego_drug_flag``, ``overlmt_amt``…).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from yibao.items import CLASS_A, CLASS_B, CLASS_C, Item
from yibao.money import MoneyError, apply_ratio, fen_str, line_amount

# 目录类别 list_type (nhsa-interface.md §3.13, [HN127]).
LIST_TYPES: Mapping[str, str] = {
    "101": "西药中成药",
    "102": "中药饮片",
    "103": "自制剂",
    "104": "民族药",
    "105": "其他",
    "106": "中药配方颗粒",
    "201": "医疗服务项目",
    "301": "医用耗材",
}

# 医疗收费项目类别 med_chrgitm_type (nhsa-interface.md §3.6).
MED_CHRGITM_TYPES: Mapping[str, str] = {
    "01": "床位费",
    "02": "诊察费",
    "03": "检查费",
    "04": "化验费",
    "05": "治疗费",
    "06": "手术费",
    "07": "护理费",
    "08": "卫生材料费",
    "09": "西药费",
    "10": "中药饮片费",
    "11": "中成药费",
    "12": "一般诊疗费",
    "13": "挂号费",
    "14": "其他费",
}

# Which fee categories fit which list type (a consistency rule of ours, not a national table).
CHRGITM_TYPES_BY_LIST: Mapping[str, frozenset[str]] = {
    "101": frozenset({"09", "11"}),
    "102": frozenset({"10"}),
    "103": frozenset({"09", "11", "14"}),
    "104": frozenset({"09", "11"}),
    "105": frozenset(MED_CHRGITM_TYPES),
    "106": frozenset({"10", "11"}),
    "201": frozenset({"01", "02", "03", "04", "05", "06", "07", "12", "13", "14"}),
    "301": frozenset({"08"}),
}

CHRGITM_LVS: Mapping[str, str] = {CLASS_A: "甲类", CLASS_B: "乙类", CLASS_C: "丙类"}

# 医院审批标志 hosp_appr_flag (nhsa-interface.md §3.13): 0 无须审批, 1 审批通过, 2 审批不通过.
HOSP_APPR_FLAGS: Mapping[str, str] = {"0": "无须审批", "1": "审批通过", "2": "审批不通过"}

Action = Literal["add", "change", "remove"]
ACTIONS: tuple[Action, ...] = ("add", "change", "remove")

# Fields a city ``change`` row may override; everything else is the province's.
OVERRIDABLE_FIELDS: tuple[str, ...] = (
    "chrgitm_lv",
    "selfpay_prop",
    "pric",
    "pric_uplmt_amt",
    "lmt_used_flag",
    "lmt_usescp",
    "hi_nego_drug_flag",
    "vol_procurement_flag",
    "memo",
)

# Entry fields copied from an ``add`` row (in this order).
ENTRY_FIELDS: tuple[str, ...] = (
    "name",
    "list_type",
    "chrgitm_lv",
    "med_chrgitm_type",
    "pric",
    "pric_uplmt_amt",
    "prcunt",
    "drug_dosform",
    "drug_spec",
    "prodentp_name",
    "lmt_used_flag",
    "lmt_usescp",
    "hi_nego_drug_flag",
    "vol_procurement_flag",
    "memo",
)


class CatalogDataError(ValueError):
    """The catalogue data cannot answer (目录数据不完整), e.g. no 先行自付比例 in force."""


@dataclass(frozen=True, slots=True)
class Region:
    """A pooling region that has a catalogue layer (统筹区目录): province or city/county."""

    admdvs: str
    name: str
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class SelfpayDefault:
    """A region's default first-pay ratio for 乙类 items (乙类先行自付比例), dated.

    ``assumed`` marks a value with no public source (the ``reason`` says why it was chosen).
    """

    admdvs: str
    begndate: date
    enddate: date | None
    selfpay_prop: Decimal
    reference: str = ""
    assumed: bool = False
    reason: str = ""

    def in_force(self, on: date) -> bool:
        return self.begndate <= on and (self.enddate is None or on <= self.enddate)


@dataclass(frozen=True, slots=True)
class CatalogRow:
    """One dated row of one region's layer.

    ``add`` carries a full entry (the province list, or an item only the city has); ``change``
    carries only the fields it overrides (``None`` = inherit); ``remove`` takes the item out of
    the region's catalogue for its period. Amounts are fen; ``pric`` is an illustrative reference
    unit price (参考单价), ``pric_uplmt_amt`` the per-unit payment standard (支付标准/限价).
    ``clear_pric_uplmt`` on a ``change`` row removes an inherited limit.
    """

    admdvs: str
    med_list_codg: str
    begndate: date
    enddate: date | None = None
    action: Action = "add"
    name: str | None = None
    list_type: str | None = None
    chrgitm_lv: str | None = None
    med_chrgitm_type: str | None = None
    selfpay_prop: Decimal | None = None
    pric: int | None = None
    pric_uplmt_amt: int | None = None
    clear_pric_uplmt: bool = False
    prcunt: str | None = None
    drug_dosform: str | None = None
    drug_spec: str | None = None
    prodentp_name: str | None = None
    lmt_used_flag: str | None = None
    lmt_usescp: str | None = None
    hi_nego_drug_flag: str | None = None
    vol_procurement_flag: str | None = None
    memo: str | None = None

    def in_force(self, on: date) -> bool:
        return self.begndate <= on and (self.enddate is None or on <= self.enddate)


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One item of a region's catalogue as in force on a date (layers already folded).

    ``selfpay_prop`` is resolved (0 for 甲类 and 丙类); ``selfpay_source`` says where it came
    from; ``sources`` maps each field to the region (admdvs) whose row supplied it; ``ver`` and
    ``updt_time`` (filled in by the service) are those of the newest row involved.
    """

    admdvs: str
    med_list_codg: str
    name: str
    list_type: str
    chrgitm_lv: str
    med_chrgitm_type: str
    selfpay_prop: Decimal
    selfpay_source: str
    selfpay_assumed: bool
    begndate: date
    enddate: date | None
    pric: int | None = None
    pric_uplmt_amt: int | None = None
    prcunt: str = ""
    drug_dosform: str = ""
    drug_spec: str = ""
    prodentp_name: str = ""
    lmt_used_flag: str = "0"
    lmt_usescp: str = ""
    hi_nego_drug_flag: str = "0"
    vol_procurement_flag: str = "0"
    memo: str = ""
    sources: Mapping[str, str] = field(default_factory=dict)
    ver: int | None = None  # newest catalogue version among the rows folded (set by the store)
    updt_time: datetime | None = None  # newest update time among those rows (set by the store)

    @property
    def list_type_name(self) -> str:
        return LIST_TYPES.get(self.list_type, self.list_type)

    @property
    def chrgitm_lv_name(self) -> str:
        return CHRGITM_LVS.get(self.chrgitm_lv, self.chrgitm_lv)


def parent_candidates(admdvs: str) -> list[str]:
    """Structural ancestors of a 6-digit code, nearest first: county → city → province.

    ``xxyy99`` (市本级) and ``xx9900`` (省本级) count as the city / province themselves.
    """
    if len(admdvs) != 6 or not admdvs.isdigit():
        return []
    prov, city, county = admdvs[:2], admdvs[2:4], admdvs[4:]
    out: list[str] = []
    if county not in ("00", "99"):
        out.append(f"{prov}{city}00")
    if city not in ("00", "99"):
        out.append(f"{prov}0000")
    return out


def region_chain(admdvs: str, regions: Mapping[str, Region]) -> list[str]:
    """The layers that make up ``admdvs``'s catalogue, province first.

    A region without its own layer uses its nearest loaded ancestor (e.g. 440500 → 440000;
    440399 市本级 → 440300). Declared ``parent`` links are followed from there.
    """
    start: str | None = None
    norm = admdvs
    if len(admdvs) == 6 and admdvs.endswith("99"):
        norm = admdvs[:4] + "00" if admdvs[2:4] != "99" else admdvs[:2] + "0000"
    for cand in [norm, *parent_candidates(norm)]:
        if cand in regions:
            start = cand
            break
    chain: list[str] = []
    seen: set[str] = set()
    cur = start
    while cur is not None and cur in regions and cur not in seen:
        chain.append(cur)
        seen.add(cur)
        cur = regions[cur].parent
    chain.reverse()
    return chain


def _default_in_force(
    defaults: Sequence[SelfpayDefault], admdvs: str, on: date
) -> SelfpayDefault | None:
    for d in defaults:
        if d.admdvs == admdvs and d.in_force(on):
            return d
    return None


def region_default(
    chain: Sequence[str], defaults: Sequence[SelfpayDefault], on: date
) -> SelfpayDefault | None:
    """The 乙类 default first-pay ratio in force on ``on`` of the most specific layer of
    ``chain`` (province first) that has one."""
    for layer in reversed(chain):
        d = _default_in_force(defaults, layer, on)
        if d is not None:
            return d
    return None


def _pct(ratio: Decimal) -> str:
    return f"{(ratio * 100).normalize():f}%"


def resolve_entry(
    code: str,
    admdvs: str,
    chain: Sequence[str],
    rows: Sequence[CatalogRow],
    defaults: Sequence[SelfpayDefault],
    on: date,
) -> CatalogEntry | None:
    """Fold the layers of ``chain`` (province first) for ``code`` on date ``on``.

    Per layer, the row in force on ``on``: ``add`` replaces the entry, ``change`` overrides the
    fields it sets, ``remove`` takes the item out. ``None`` means: not in the catalogue.

    The 乙类 first-pay ratio is taken from the most specific layer that has either an
    item-specific ``selfpay_prop`` or a default in force (item-specific first within a layer);
    甲类 and 丙类 resolve to 0. Raises :class:`CatalogDataError` if a 乙类 item has no ratio.
    """
    values: dict[str, object] | None = None
    sources: dict[str, str] = {}
    begn: date | None = None
    endd: date | None = None
    item_ratio: dict[str, Decimal] = {}
    for layer in chain:
        row = next(
            (r for r in rows if r.admdvs == layer and r.med_list_codg == code and r.in_force(on)),
            None,
        )
        if row is None:
            continue
        if row.action == "remove":
            values, sources, item_ratio = None, {}, {}
            continue
        if row.action == "add":
            values = {f: getattr(row, f) for f in ENTRY_FIELDS}
            sources = {f: layer for f in ENTRY_FIELDS}
            item_ratio = {}
            begn, endd = row.begndate, row.enddate
        elif values is None:  # a change with nothing to change on this date
            continue
        else:
            for f in OVERRIDABLE_FIELDS:
                if f == "selfpay_prop":
                    continue
                v = getattr(row, f)
                if v is not None:
                    values[f] = v
                    sources[f] = layer
            if row.clear_pric_uplmt:
                values["pric_uplmt_amt"] = None
                sources["pric_uplmt_amt"] = layer
            assert begn is not None
            begn = max(begn, row.begndate)
            endd = _min_end(endd, row.enddate)
        if row.selfpay_prop is not None:
            item_ratio[layer] = row.selfpay_prop
    if values is None or begn is None:
        return None

    lv = str(values["chrgitm_lv"])
    ratio = Decimal(0)
    ratio_source = f"{CHRGITM_LVS.get(lv, lv)}无先行自付"
    assumed = False
    if lv == CLASS_B:
        found = False
        for layer in reversed(chain):
            if layer in item_ratio:
                ratio = item_ratio[layer]
                ratio_source = f"{layer} 本项目先行自付比例 {_pct(ratio)}"
                sources["selfpay_prop"] = layer
                found = True
                break
            d = _default_in_force(defaults, layer, on)
            if d is not None:
                ratio = d.selfpay_prop
                ref = "假设值: " + d.reason if d.assumed else d.reference
                ratio_source = f"{layer} 乙类先行自付比例 {_pct(ratio)}（{ref}）"
                assumed = d.assumed
                sources["selfpay_prop"] = layer
                found = True
                break
        if not found:
            raise CatalogDataError(
                f"统筹区 {admdvs} 在 {on.isoformat()} 没有生效的乙类先行自付比例 (selfpay_prop)，"
                f"项目 {code} 无法分类"
            )

    def s(name: str) -> str:
        v = values.get(name) if values else None
        return "" if v is None else str(v)

    return CatalogEntry(
        admdvs=admdvs,
        med_list_codg=code,
        name=s("name"),
        list_type=s("list_type"),
        chrgitm_lv=lv,
        med_chrgitm_type=s("med_chrgitm_type"),
        selfpay_prop=ratio,
        selfpay_source=ratio_source,
        selfpay_assumed=assumed,
        begndate=begn,
        enddate=endd,
        pric=_opt_int(values.get("pric")),
        pric_uplmt_amt=_opt_int(values.get("pric_uplmt_amt")),
        prcunt=s("prcunt"),
        drug_dosform=s("drug_dosform"),
        drug_spec=s("drug_spec"),
        prodentp_name=s("prodentp_name"),
        lmt_used_flag=s("lmt_used_flag") or "0",
        lmt_usescp=s("lmt_usescp"),
        hi_nego_drug_flag=s("hi_nego_drug_flag") or "0",
        vol_procurement_flag=s("vol_procurement_flag") or "0",
        memo=s("memo"),
        sources=dict(sources),
    )


def _opt_int(v: object) -> int | None:
    return v if isinstance(v, int) else None


def _min_end(a: date | None, b: date | None) -> date | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


# --- classifying HIS fee lines (2204 feedetail → Item) ---------------------------------------


@dataclass(frozen=True, slots=True)
class FeeLine:
    """One HIS fee line (费用明细) as the catalogue needs it (2204/2301 ``feedetail``).

    ``pric`` yuan per unit (up to 6 decimals), ``cnt`` quantity (up to 4 decimals, negative for
    a refund line in 2301), ``det_item_fee_sumamt`` the HIS's line amount in fen.
    """

    feedetl_sn: str
    med_list_codg: str
    pric: Decimal
    cnt: Decimal
    det_item_fee_sumamt: int
    medins_list_codg: str = ""
    hosp_appr_flag: str = "0"


@dataclass(frozen=True, slots=True)
class ClassifiedLine:
    """A fee line classified by the treatment place's catalogue: the engine's ``Item`` plus
    a memo (明细分割说明, 2204 ``result.memo``) and the catalogue entry (``None`` if 目录外)."""

    item: Item
    memo: str
    entry: CatalogEntry | None
    medins_list_codg: str = ""


@dataclass(frozen=True, slots=True)
class LineRefusal:
    """A fee line that cannot be classified; the caller answers ``infcode -1`` with ``message``."""

    feedetl_sn: str
    field: str
    reason: str

    @property
    def message(self) -> str:
        return f"费用明细 feedetl_sn={self.feedetl_sn}: {self.field} {self.reason}"


AMOUNT_TOLERANCE_FEN = 1  # det_item_fee_sumamt vs pric × cnt (nhsa-interface.md §7 item 6)


def check_line(line: FeeLine) -> LineRefusal | None:
    """Refuse a line whose amount does not match ``pric × cnt`` (±1 fen) or whose flags are bad."""
    sn = line.feedetl_sn
    if not sn:
        return LineRefusal("(空)", "feedetl_sn", "必填")
    if not line.med_list_codg:
        return LineRefusal(sn, "med_list_codg", "必填")
    if line.hosp_appr_flag not in HOSP_APPR_FLAGS:
        return LineRefusal(sn, "hosp_appr_flag", f"取值 {line.hosp_appr_flag!r} 无效（应为 0/1/2）")
    try:
        expected = line_amount(line.pric, line.cnt)
    except MoneyError as exc:
        return LineRefusal(sn, "pric", str(exc))
    diff = abs(line.det_item_fee_sumamt - expected)
    if diff > AMOUNT_TOLERANCE_FEN:
        return LineRefusal(
            sn,
            "det_item_fee_sumamt",
            f"{fen_str(line.det_item_fee_sumamt)} 与 pric×cnt={line.pric}×{line.cnt}="
            f"{fen_str(expected)} 相差 {fen_str(diff)} 元，超过允许误差 0.01 元",
        )
    return None


def classify_line(line: FeeLine, entry: CatalogEntry | None) -> ClassifiedLine | LineRefusal:
    """Classify one fee line by its catalogue entry (``None`` = not in the region's catalogue).

    Rules: 目录外 → ``in_catalog=False``, 丙类, 全自费; limited-use items (限制使用,
    ``lmt_used_flag=1``) are covered only with ``hosp_appr_flag=1`` (审批通过), otherwise
    they become 丙类 (全自费) with a memo; the payment standard and the resolved first-pay ratio
    are carried to the ``Item``.
    """
    refusal = check_line(line)
    if refusal is not None:
        return refusal
    if entry is None:
        item = Item(
            feedetl_sn=line.feedetl_sn,
            med_list_codg=line.med_list_codg,
            name="",
            list_type="",
            chrgitm_lv=CLASS_C,
            med_chrgitm_type="14",
            det_item_fee_sumamt=line.det_item_fee_sumamt,
            cnt=line.cnt,
            pric=line.pric,
            hosp_appr_flag=line.hosp_appr_flag,
            in_catalog=False,
        )
        memo = f"医保目录编码 {line.med_list_codg} 不在就医地医保目录内（或不在有效期内），按全自费"
        return ClassifiedLine(item, memo, None, line.medins_list_codg)

    lv = entry.chrgitm_lv
    memos: list[str] = []
    if entry.lmt_used_flag == "1" and line.hosp_appr_flag != "1":
        why = HOSP_APPR_FLAGS[line.hosp_appr_flag]
        scope = f"（{entry.lmt_usescp}）" if entry.lmt_usescp else ""
        memos.append(
            f"限制使用项目{scope}，医院审批标志 hosp_appr_flag={line.hosp_appr_flag}({why})，按全自费"
        )
        lv = CLASS_C
    ratio = entry.selfpay_prop if lv == CLASS_B else Decimal(0)
    if lv == CLASS_B:  # short for the HIS; the full source is entry.selfpay_source
        where = entry.sources.get("selfpay_prop", entry.admdvs)
        assumed = "，假设值" if entry.selfpay_assumed else ""
        memos.append(f"乙类先行自付{_pct(ratio)}（{where}{assumed}）")
    if entry.pric_uplmt_amt is not None and lv != CLASS_C:
        memos.append(f"支付标准 {fen_str(entry.pric_uplmt_amt)} 元/{entry.prcunt or '单位'}")
    item = Item(
        feedetl_sn=line.feedetl_sn,
        med_list_codg=line.med_list_codg,
        name=entry.name,
        list_type=entry.list_type,
        chrgitm_lv=lv,
        med_chrgitm_type=entry.med_chrgitm_type,
        det_item_fee_sumamt=line.det_item_fee_sumamt,
        cnt=line.cnt,
        pric=line.pric,
        selfpay_prop=ratio,
        pric_uplmt_amt=entry.pric_uplmt_amt,
        lmt_used_flag=entry.lmt_used_flag,
        hosp_appr_flag=line.hosp_appr_flag,
        hi_nego_drug_flag=entry.hi_nego_drug_flag,
        vol_procurement_flag=entry.vol_procurement_flag,
        in_catalog=True,
    )
    return ClassifiedLine(item, "；".join(memos), entry, line.medins_list_codg)


# --- the per-line split (2204 result) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineSplit:
    """The 2204 ``result`` amounts of one line, fen:
    ``det_item_fee_sumamt = fulamt_ownpay_amt + overlmt_amt + preselfpay_amt + inscp_scp_amt``."""

    fulamt_ownpay_amt: int
    overlmt_amt: int
    preselfpay_amt: int
    inscp_scp_amt: int


def split_line(item: Item) -> LineSplit:
    """Split one classified line (明细分割).

    - 丙类 or 目录外: everything is 全自费 (``fulamt_ownpay_amt``);
    - the part above ``pric_uplmt_amt × cnt`` (rounded half up to the fen) is 超限价
      (``overlmt_amt``);
    - 乙类: ``preselfpay_amt = (amount − overlmt) × selfpay_prop`` (rounded half up);
    - the rest is 符合政策范围 (``inscp_scp_amt``).

    Negative (refund) lines split as the exact mirror of the positive line.
    """
    amt = item.det_item_fee_sumamt
    if amt < 0:
        pos = split_line(replace(item, det_item_fee_sumamt=-amt, cnt=-item.cnt))
        return LineSplit(
            -pos.fulamt_ownpay_amt, -pos.overlmt_amt, -pos.preselfpay_amt, -pos.inscp_scp_amt
        )
    if not item.in_catalog or item.chrgitm_lv not in (CLASS_A, CLASS_B):
        return LineSplit(amt, 0, 0, 0)
    over = 0
    if item.pric_uplmt_amt is not None:
        cap = line_amount(Decimal(item.pric_uplmt_amt) / 100, abs(item.cnt))
        over = max(0, amt - cap)
    allowed = amt - over
    pre = apply_ratio(allowed, item.selfpay_prop) if item.chrgitm_lv == CLASS_B else 0
    return LineSplit(0, over, pre, allowed - pre)


def classify_lines(
    admdvs: str,
    chain: Sequence[str],
    rows: Sequence[CatalogRow],
    defaults: Sequence[SelfpayDefault],
    on: date,
    lines: Sequence[FeeLine],
) -> list[ClassifiedLine | LineRefusal]:
    """Classify HIS fee lines by the treatment place's catalogue (``admdvs``, made of ``chain``)
    on ``on``, given the chain's rows in force for the lines' codes and its 乙类 defaults.

    One answer per line, in order: a :class:`ClassifiedLine` (its ``item`` is the engine's
    ``Item``; unknown codes give ``in_catalog=False``, 丙类, with a memo) or a
    :class:`LineRefusal` (amount ≠ pric × cnt beyond 1 fen, bad flags, duplicate
    ``feedetl_sn``, or a data gap such as no 先行自付比例 in force).
    """
    by_code: dict[str, list[CatalogRow]] = {}
    for r in rows:
        by_code.setdefault(r.med_list_codg, []).append(r)
    resolved: dict[str, CatalogEntry | CatalogDataError | None] = {}
    for code in sorted({ln.med_list_codg for ln in lines if ln.med_list_codg}):
        try:
            resolved[code] = resolve_entry(code, admdvs, chain, by_code.get(code, []), defaults, on)
        except CatalogDataError as exc:
            resolved[code] = exc
    out: list[ClassifiedLine | LineRefusal] = []
    seen: set[str] = set()
    for ln in lines:
        if ln.feedetl_sn and ln.feedetl_sn in seen:
            out.append(LineRefusal(ln.feedetl_sn, "feedetl_sn", "在本批明细中重复"))
            continue
        seen.add(ln.feedetl_sn)
        got = resolved.get(ln.med_list_codg)
        if isinstance(got, CatalogDataError):
            out.append(check_line(ln) or LineRefusal(ln.feedetl_sn, "med_list_codg", str(got)))
            continue
        out.append(classify_line(ln, got))  # checks the line first
    return out
