"""零星报销 (manual reimbursement, "零报"): the application, its checks and its workflow. Pure.

A person who paid a bill in full (an emergency elsewhere, an unfiled cross-region stay, a failed
network) claims afterwards with the fee list (费用明细) and the invoices (发票). The bureau handles
it in four steps (funds-and-services.md §4): 受理 (accept: materials complete) → 审核 (review:
the amount computed by the settlement engine) → 复核 (approval by a *different* person: the
amount is recomputed, the accumulators consumed and the fund's payable posted) → 支付 (payment to
the person's bank account, posted to the ledger). A step may refuse (不予受理 / 审核不通过) with a
reason; nothing is ever edited, each step is an event.

Time limit (办结时限): days from application to payment, against the region's dated policy value
``claims.time_limit_days``; a claim still open after its due day is overdue (逾期).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from yibao.ledger.model import (
    Account,
    AccountKind,
    Chain,
    LedgerError,
    Side,
    Transfer,
    bank_account,
    fund_account,
)

SUBMITTED, ACCEPTED, REVIEWED, APPROVED, PAID, REFUSED = (
    "submitted", "accepted", "reviewed", "approved", "paid", "refused")  # fmt: skip
STATE_LABELS = {
    SUBMITTED: "待受理",
    ACCEPTED: "已受理（待审核）",
    REVIEWED: "已审核（待复核）",
    APPROVED: "已复核（待支付）",
    PAID: "已支付",
    REFUSED: "不予报销",
}
OPEN_STATES = (SUBMITTED, ACCEPTED, REVIEWED, APPROVED)
REASONS = {
    "emergency": "异地急诊抢救",
    "unfiled": "异地就医未备案",
    "network": "网络故障或未联网直接结算",
    "selfpay": "先行自费（未持医保凭证）",
    "other": "其他原因",
}
FILE_KINDS = {
    "invoice": "发票",
    "fee_list": "费用明细清单",
    "record": "病历或出院小结",
    "other": "其他材料",
}
MAX_FILE_BYTES = 5 * 1024 * 1024
_CODE = re.compile(r"^[0-9A-Za-z]{1,20}$")


class ClaimError(ValueError):
    """Bad input (字段与规则): nothing is stored."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class ClaimRefused(ValueError):
    """A workflow step that may not happen now (状态或人员不符); nothing changes."""


@dataclass(frozen=True, slots=True)
class FeeRow:
    """One line of the fee list (费用明细): the same fields a 2204 line carries."""

    feedetl_sn: str
    med_list_codg: str
    medins_list_codg: str
    name: str
    pric: Decimal  # yuan per unit
    cnt: Decimal
    amount: int  # det_item_fee_sumamt, fen


@dataclass(frozen=True, slots=True)
class Invoice:
    """One invoice (医疗收费票据): code + number identify it nationally."""

    inv_code: str
    inv_no: str
    amount: int  # fen
    inv_date: date

    @property
    def key(self) -> str:
        return f"{self.inv_code}-{self.inv_no}"


def yuan_to_fen(v: object, field: str) -> int:
    """'123.45' → 12345; more than 2 decimals, negatives and floats are refused."""
    if isinstance(v, float | bool):
        raise ClaimError(field, "金额请以字符串或整数元给出（最多2位小数）")
    try:
        d = Decimal(str(v).strip())
    except InvalidOperation:
        raise ClaimError(field, f"不是金额：{v!r}") from None
    if d < 0 or d != d.quantize(Decimal("0.01")):
        raise ClaimError(field, f"金额须为非负且最多2位小数，收到 {v}")
    return int(d * 100)


def _dec(v: object, field: str, places: int) -> Decimal:
    if isinstance(v, float | bool):
        raise ClaimError(field, "请以字符串给出数值")
    try:
        d = Decimal(str(v).strip())
    except InvalidOperation:
        raise ClaimError(field, f"不是数值：{v!r}") from None
    if d <= 0 or d != d.quantize(Decimal(1).scaleb(-places)):
        raise ClaimError(field, f"须为正数且最多{places}位小数，收到 {v}")
    return d


def _s(
    row: Mapping[str, object], key: str, where: str, *, required: bool = True, max_len: int = 50
) -> str:
    v = str(row.get(key) or "").strip()
    if required and not v:
        raise ClaimError(f"{where}.{key}", "必填")
    if len(v) > max_len:
        raise ClaimError(f"{where}.{key}", f"最长{max_len}个字符")
    return v


def parse_fee_rows(rows: Sequence[Mapping[str, object]]) -> tuple[FeeRow, ...]:
    """The fee list, checked: amounts to the fen, amount = pric × cnt (±1 fen), unique serials."""
    if not rows:
        raise ClaimError("feeList", "费用明细不能为空")
    out: list[FeeRow] = []
    seen: set[str] = set()
    for i, r in enumerate(rows):
        w = f"feeList[{i}]"
        sn = _s(r, "feedetl_sn", w, max_len=30)
        if sn in seen:
            raise ClaimError(f"{w}.feedetl_sn", f"明细流水号 {sn} 重复")
        seen.add(sn)
        pric, cnt = _dec(r.get("pric"), f"{w}.pric", 6), _dec(r.get("cnt"), f"{w}.cnt", 4)
        amount = yuan_to_fen(r.get("det_item_fee_sumamt"), f"{w}.det_item_fee_sumamt")
        expect = (pric * cnt * 100).to_integral_value(rounding="ROUND_HALF_UP")
        if abs(int(expect) - amount) > 1:
            raise ClaimError(
                f"{w}.det_item_fee_sumamt",
                f"明细金额 {amount / 100:.2f} ≠ 单价 × 数量 {pric * cnt}",
            )
        out.append(FeeRow(sn, _s(r, "med_list_codg", w), _s(r, "medins_list_codg", w, required=False),
                          _s(r, "name", w, required=False, max_len=200), pric, cnt, amount))  # fmt: skip
    return tuple(out)


def parse_invoices(rows: Sequence[Mapping[str, object]]) -> tuple[Invoice, ...]:
    if not rows:
        raise ClaimError("invoices", "至少一张发票")
    out: list[Invoice] = []
    for i, r in enumerate(rows):
        w = f"invoices[{i}]"
        code, no = _s(r, "inv_code", w), _s(r, "inv_no", w)
        for k, v in (("inv_code", code), ("inv_no", no)):
            if not _CODE.match(v):
                raise ClaimError(f"{w}.{k}", "票据代码/号码为1–20位字母或数字")
        try:
            day = date.fromisoformat(str(r.get("inv_date") or ""))
        except ValueError:
            raise ClaimError(f"{w}.inv_date", "开票日期格式应为 YYYY-MM-DD") from None
        inv = Invoice(code, no, yuan_to_fen(r.get("amount"), f"{w}.amount"), day)
        if any(x.key == inv.key for x in out):
            raise ClaimError(f"{w}.inv_no", f"发票 {inv.key} 在本次申请中重复")
        out.append(inv)
    return tuple(out)


def check_totals(fees: Sequence[FeeRow], invoices: Sequence[Invoice]) -> int:
    """Σ invoices = Σ fee lines, to the fen (the 4263 rule); returns the total."""
    fee_total, inv_total = sum(f.amount for f in fees), sum(i.amount for i in invoices)
    if fee_total != inv_total:
        raise ClaimError(
            "invoices",
            f"发票金额合计 {inv_total / 100:.2f} 元与费用明细合计 {fee_total / 100:.2f} 元不符",
        )
    return fee_total


# ---- workflow ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Workflow:
    """Who did which step (经办人), as stored on the claim."""

    status: str
    accepted_by: str = ""
    reviewed_by: str = ""
    approved_by: str = ""
    paid_by: str = ""


def step(wf: Workflow, action: str, actor: str) -> Workflow:
    """The next state after ``action`` by ``actor``; :class:`ClaimRefused` when not allowed."""
    if not actor:
        raise ClaimRefused("须由已登录的经办人员办理")
    need = {"accept": SUBMITTED, "review": ACCEPTED, "approve": REVIEWED, "pay": APPROVED}
    if action == "refuse":
        if wf.status not in (SUBMITTED, ACCEPTED, REVIEWED):
            raise ClaimRefused(f"当前状态“{STATE_LABELS[wf.status]}”不能作不予报销处理")
        return replace(wf, status=REFUSED)
    if action not in need:
        raise ClaimRefused(f"未知操作 {action}")
    if wf.status != need[action]:
        raise ClaimRefused(f"当前状态“{STATE_LABELS[wf.status]}”不能{ACTION_LABELS[action]}")
    if action == "approve" and actor == wf.reviewed_by:
        raise ClaimRefused("复核须由审核人以外的另一名经办人员办理（审核、复核不得为同一人）")
    field = {
        "accept": "accepted_by",
        "review": "reviewed_by",
        "approve": "approved_by",
        "pay": "paid_by",
    }[action]
    status = {"accept": ACCEPTED, "review": REVIEWED, "approve": APPROVED, "pay": PAID}[action]
    return replace(wf, status=status, **{field: actor})


ACTION_LABELS = {"submit": "提交申请", "accept": "受理", "review": "审核", "approve": "复核",
                 "pay": "支付", "refuse": "不予报销"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """Days from application to payment against the limit (办结时限)."""

    limit_days: int
    days: int  # elapsed (to payment, or to today while open)
    overdue: bool
    closed: bool

    @property
    def label(self) -> str:
        if self.closed:
            return f"{self.days}天办结" + ("（超时）" if self.overdue else "")
        return f"已{self.days}天" + (
            "，已逾期" if self.overdue else f"，剩余{self.limit_days - self.days}天"
        )


def time_limit(submitted: datetime, limit_days: int, today: date, paid: datetime | None,
               refused: datetime | None = None) -> TimeLimit:  # fmt: skip
    end = paid or refused
    days = ((end.date() if end else today) - submitted.date()).days
    return TimeLimit(limit_days, days, days > limit_days, end is not None)


# ---- ledger -----------------------------------------------------------------------------------


def claimant_account(psn_no: str, region: str) -> Account:
    """What the fund owes an insured person for an approved 零报 (应付参保人零星报销)."""
    if not psn_no or ":" in psn_no or len(psn_no) > 30:
        raise LedgerError(f"psn_no: {psn_no!r} is not an account owner")
    return Account(code=f"RMB:{psn_no}", kind=AccountKind.PAYABLE, region=region,
                   normal_side=Side.CREDIT, name=f"应付参保人零星报销 {psn_no}", owner=psn_no)  # fmt: skip


def approval_chain(claim_no: str, psn_no: str, region: str, funds: Mapping[str, int],
                   day: date) -> Chain:  # fmt: skip
    """复核: each fund's share moves to the payable to the person (one transfer per fund)."""
    payee = claimant_account(psn_no, region)
    transfers = tuple(
        Transfer(
            f"rmb:{claim_no}/{n}", fund_account(region, fpt), payee, amt, "claim_reimburse", fpt
        )
        for n, (fpt, amt) in enumerate(sorted((k, v) for k, v in funds.items() if v > 0), 1)
    )
    return Chain(f"rmb:{claim_no}", "other", day, transfers, memo={"claim_no": claim_no})


def payment_chain(claim_no: str, psn_no: str, region: str, amount: int, day: date) -> Chain:
    """支付: the payable is paid from the region's fund bank account (nothing for a 0 claim)."""
    transfers = (
        (
            Transfer(
                f"rmbpay:{claim_no}/1",
                claimant_account(psn_no, region),
                bank_account(region),
                amount,
                "claim_pay",
            ),
        )
        if amount > 0
        else ()
    )
    return Chain(f"rmbpay:{claim_no}", "other", day, transfers, memo={"claim_no": claim_no})
