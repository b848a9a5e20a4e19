"""Catalogue rows and entries, and how a region's layers fold into one entry (目录分层).

A region's catalogue is built from the province list (省目录) and, below it, city or county
overrides (地市调整); each layer holds dated rows per national code. :func:`region_chain` finds
the layers of a region, :func:`region_default` its 乙类 default first-pay ratio, and
:func:`resolve_entry` folds the layers for one code on one date into a :class:`CatalogEntry`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from yibao.catalog.model.codes import (
    CHRGITM_LVS,
    ENTRY_FIELDS,
    LIST_TYPES,
    OVERRIDABLE_FIELDS,
    Action,
)
from yibao.items import CLASS_B


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


def percent(ratio: Decimal) -> str:
    """A ratio as a percentage for memos: ``0.1`` → ``10%``."""
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
                ratio_source = f"{layer} 本项目先行自付比例 {percent(ratio)}"
                sources["selfpay_prop"] = layer
                found = True
                break
            d = _default_in_force(defaults, layer, on)
            if d is not None:
                ratio = d.selfpay_prop
                ref = "假设值: " + d.reason if d.assumed else d.reference
                ratio_source = f"{layer} 乙类先行自付比例 {percent(ratio)}（{ref}）"
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
