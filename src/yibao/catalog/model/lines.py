"""HIS fee lines classified and split by the catalogue (费用明细分类与明细分割, 2204).

:func:`classify_line` turns one fee line (``feedetail``) and its catalogue entry into the engine's
:class:`~yibao.items.Item` (目录外, 限制使用 and 乙类 rules), :func:`classify_lines` a whole upload
(duplicates and data gaps refused per line), and :func:`split_line` computes a line's 2204
``result`` amounts (全自费 / 超限价 / 先行自付 / 符合政策范围).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from yibao.catalog.model.codes import (
    HOSP_APPR_FLAGS,
)
from yibao.catalog.model.layers import (
    CatalogDataError,
    CatalogEntry,
    CatalogRow,
    SelfpayDefault,
    percent,
    resolve_entry,
)
from yibao.items import CLASS_A, CLASS_B, CLASS_C, Item
from yibao.money import MoneyError, apply_ratio, fen_str, line_amount

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
        memos.append(f"乙类先行自付{percent(ratio)}（{where}{assumed}）")
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
