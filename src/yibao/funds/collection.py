"""Collection through the tax bureau (税务征收): assessment export, payment import, and 家庭共济.

- :func:`export_tax_file` writes the unpaid bills of a region as a file for the tax bureau;
  the same ``file_id`` always gives the same bytes.
- :func:`import_payments` reads the tax bureau's 到账 file. It is idempotent by file id (the
  same file again changes nothing; the same id with other content is refused) and refused whole
  when malformed or when any line does not match a bill (unknown, already paid, wrong amount,
  wrong late fee, date out of range) — nothing is written then. A good file records one payment
  per bill, credits the employees' personal accounts (registry and ledger, 划入) and posts one
  ledger chain per payment date; then the payers' benefit status is re-derived.
- :func:`pay_from_family_account` pays a resident's contribution from a family member's
  personal account (个人账户家庭共济缴费).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
import structlog

from yibao.db.tables import audit
from yibao.funds import benefits, postings, rules, store
from yibao.funds.model import FundsError, add_months, due_date, late_fee, period_text
from yibao.funds.postings import RESIDENT, SERIOUS, Leg, PaymentTotals, acct, bank, fund
from yibao.funds.taxfile import (
    ExportLine,
    FileError,
    PaymentFile,
    PaymentLine,
    TaxFileError,
    parse_payments,
    render_export,
    sha256,
)
from yibao.ledger import post_chain
from yibao.registry import accounts as registry_accounts

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class ImportResult:
    """What a payment file did: ``replayed`` when the same file came again (nothing changed)."""

    file_id: str
    region: str
    rows: int
    principal: int
    late_fee: int
    replayed: bool = False
    chains: list[str] = field(default_factory=list)
    persons_refreshed: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "file_id": self.file_id,
            "region": self.region,
            "rows": self.rows,
            "principal": self.principal,
            "late_fee": self.late_fee,
            "replayed": self.replayed,
            "chains": self.chains,
        }


# ------------------------------------------------------------------------------------ export


def export_tax_file(
    engine: sa.Engine,
    region: str,
    *,
    today: date,
    actor: str,
    file_id: str | None = None,
    period_to: date | None = None,
) -> tuple[str, str]:
    """(file_id, text) of the region's unpaid bills up to ``period_to``; replays a known id.

    The file names each payer for collection — a unit by its 统一社会信用代码, a person by the ID
    number — so writing it is an audited disclosure (税务征收).
    """
    with engine.begin() as conn:
        if file_id:
            known = store.tax_file(conn, file_id)
            if known is not None:
                if known["direction"] != "export" or known["region"] != region:
                    raise FundsError("FILE_ID_USED", f"文件编号{file_id}已用于其他文件", "file_id")
                return file_id, str(known["body"])
        file_id = file_id or _new_file_id(conn, region, today)
        where = "b.region = %(r)s AND pay.bill_no IS NULL"
        params: dict[str, object] = {"r": region}
        if period_to is not None:
            where += " AND b.period <= %(p)s"
            params["p"] = period_to
        bills = store.bills(conn, where, params)
        certs = _payer_certs(conn, bills)
        lines = [
            ExportLine(b.bill_no, b.scheme, b.payer_kind, b.payer_id, certs.get(b.bill_no, ""),
                       b.payer_name, period_text(b.period) if b.scheme != "resident"
                       else str(b.period.year), b.due_date, b.persons, b.employer, b.employee,
                       b.large_amount, b.amount)
            for b in bills
        ]  # fmt: skip
        text = render_export(file_id, region, today, lines)
        store.insert_tax_file(
            conn,
            {"file_id": file_id, "direction": "export", "region": region, "sha256": sha256(text),
             "rows": len(lines), "principal": sum(x.amount for x in lines), "late_fee": 0,
             "body": text, "actor": actor},
            [b.bill_no for b in bills],
        )  # fmt: skip
        audit(conn, actor, "funds.tax_export", file_id, region=region, rows=len(lines),
              purpose="税务征收(核定数据交换)")  # fmt: skip
    return file_id, text


def _new_file_id(conn: sa.Connection, region: str, today: date) -> str:
    prefix = f"YB{region}{today:%Y%m%d}"
    n = conn.execute(
        sa.text("SELECT COUNT(*) FROM funds_tax_file WHERE file_id LIKE :p"), {"p": prefix + "%"}
    ).scalar_one()
    return f"{prefix}{int(n) + 1:04d}"


def _payer_certs(conn: sa.Connection, bills: list[store.BillRow]) -> dict[str, str]:
    units = [b.payer_id for b in bills if b.payer_kind == "unit"]
    persons = [b.payer_id for b in bills if b.payer_kind == "person"]
    by_unit = {
        str(r[0]): str(r[1])
        for r in conn.execute(
            sa.text("SELECT emp_no, uscc FROM unit WHERE emp_no = ANY(:u)"), {"u": units}
        )
    }
    by_person = {
        str(r[0]): str(r[1])
        for r in conn.execute(
            sa.text("SELECT psn_no, certno FROM person WHERE psn_no = ANY(:p)"), {"p": persons}
        )
    }
    source = {"unit": by_unit, "person": by_person}
    return {b.bill_no: str(source[b.payer_kind].get(b.payer_id, "")) for b in bills}


# ------------------------------------------------------------------------------------ import


def import_payments(engine: sa.Engine, text: str, *, today: date, actor: str) -> ImportResult:
    """Import a tax bureau payment file (到账); see the module docstring for the rules."""
    parsed = parse_payments(text)  # TaxFileError: malformed, refused whole
    digest = sha256(text)
    with engine.begin() as conn:
        known = store.tax_file(conn, parsed.file_id)
        if known is not None:
            if known["direction"] == "import" and known["sha256"] == digest:
                return ImportResult(parsed.file_id, parsed.region, int(known["rows"]),
                                    int(known["principal"]), int(known["late_fee"]), True)  # fmt: skip
            raise TaxFileError(
                [FileError(1, "file_id", f"文件编号{parsed.file_id}已导入过内容不同的文件，拒收")]
            )
        bills = store.bills_by_no(conn, [x.bill_no for x in parsed.lines])
        _check_lines(conn, parsed, bills, today)
        result = ImportResult(parsed.file_id, parsed.region, len(parsed.lines),
                              parsed.principal, parsed.late_fee)  # fmt: skip
        by_day: dict[date, list[PaymentLine]] = defaultdict(list)
        for x in parsed.lines:
            by_day[x.paid_date].append(x)
        for day, lines in sorted(by_day.items()):
            result.chains.append(_post_day(conn, parsed, day, lines, bills))
        store.insert_tax_file(
            conn,
            {"file_id": parsed.file_id, "direction": "import", "region": parsed.region,
             "sha256": digest, "rows": len(parsed.lines), "principal": parsed.principal,
             "late_fee": parsed.late_fee, "body": text, "actor": actor},
            [],
        )  # fmt: skip
        payers = _payer_persons(conn, list(bills.values()))
        result.persons_refreshed = benefits.refresh(conn, payers)
        audit(conn, actor, "funds.tax_import", parsed.file_id, region=parsed.region,
              rows=result.rows, principal=result.principal, late_fee=result.late_fee)  # fmt: skip
    log.info("funds_tax_import", file_id=parsed.file_id, rows=result.rows)
    return result


def expected_late_fee(conn: sa.Connection, bill: store.BillRow, paid: date) -> int:
    """The late fee (滞纳金) due on ``bill`` paid on ``paid``; residents pay none."""
    if bill.scheme == "resident":
        return 0
    r = rules.employee_rules(bill.region, bill.period)
    effective = bill.due_date
    if bill.payer_kind == "unit":
        for a in store.approvals(conn, emp_nos=[bill.payer_id], kind="deferral"):
            if a.period_from <= bill.period <= a.period_to and r.deferral_late_fee_waived:
                after = add_months(a.period_to, 1)
                effective = max(
                    effective, due_date(after, rules.employee_rules(bill.region, after).due_day)
                )
    return late_fee(bill.amount, effective, paid, r.late_fee_daily_rate)


def _check_lines(
    conn: sa.Connection, parsed: PaymentFile, bills: dict[str, store.BillRow], today: date
) -> None:
    errors: list[FileError] = []
    for x in parsed.lines:
        b = bills.get(x.bill_no)
        if b is None:
            errors.append(FileError(x.line, "bill_no", f"核定单{x.bill_no}不存在"))
            continue
        if b.region != parsed.region:
            errors.append(FileError(x.line, "bill_no", f"核定单属于医保区划{b.region}，与文件不符"))
        if b.paid_date is not None:
            errors.append(
                FileError(x.line, "bill_no", f"核定单已于{b.paid_date}到账，不能重复到账")
            )
        if x.principal != b.amount:
            errors.append(FileError(x.line, "principal",
                                    f"本金{x.principal / 100:.2f}与核定金额{b.amount / 100:.2f}不符"))  # fmt: skip
        earliest = date(b.period.year - 1, 1, 1) if b.scheme == "resident" else b.period
        if x.paid_date > today or x.paid_date < earliest:
            errors.append(FileError(x.line, "paid_date",
                                    f"到账日期应在{earliest}至{today}之间"))  # fmt: skip
            continue
        fee = expected_late_fee(conn, b, x.paid_date)
        if x.late_fee != fee:
            errors.append(FileError(x.line, "late_fee",
                                    f"滞纳金应为{fee / 100:.2f}元(按到账日期计算)，收到{x.late_fee / 100:.2f}"))  # fmt: skip
    if errors:
        raise TaxFileError(errors)


def _post_day(
    conn: sa.Connection,
    parsed: PaymentFile,
    day: date,
    lines: list[PaymentLine],
    bills: dict[str, store.BillRow],
) -> str:
    """Record one day's payments and post their chain; return the chain id."""
    region = parsed.region
    chain_id = f"tax:{parsed.file_id}:{day:%Y%m%d}"
    nos = [x.bill_no for x in lines]
    pooled = store.pooled_totals(conn, nos)
    residents = store.resident_rows(conn, nos)
    totals = PaymentTotals()
    for x in lines:
        b = bills[x.bill_no]
        totals.late_fee += x.late_fee
        if b.scheme == "resident":
            r = residents[x.bill_no]
            totals.resident_own += int(r["own"])
            totals.resident_subsidy += int(r["subsidy"])
            totals.resident_serious += int(r["serious"])
            continue
        totals.large_amount += b.large_amount
        if b.scheme == "flexible":
            totals.flexible += pooled.get(x.bill_no, 0)
        else:
            totals.employer += pooled.get(x.bill_no, 0)
    credits = store.account_credits(conn, nos)
    per_person: dict[str, int] = defaultdict(int)
    for _, psn_no, amount in credits:
        per_person[psn_no] += amount
    people = sorted(per_person.items())
    legs = postings.payment_legs(region, totals, people)
    chain = postings.chain(chain_id, day, legs, {"kind": "tax_payment", "file_id": parsed.file_id,
                                                 "bills": len(lines)})  # fmt: skip
    post_chain(conn, chain)
    registry_accounts.credit_many(conn, people, ref=chain_id, memo=f"个人账户划入({day})")
    store.insert_payments(
        conn,
        [{"bill_no": x.bill_no, "paid_date": x.paid_date, "principal": x.principal,
          "late_fee": x.late_fee, "channel": "tax", "source": parsed.file_id,
          "voucher_no": x.voucher_no, "chain_id": chain_id} for x in lines],
    )  # fmt: skip
    return chain_id


def _payer_persons(conn: sa.Connection, bills: list[store.BillRow]) -> list[str]:
    nos = [b.bill_no for b in bills]
    employees = conn.execute(
        sa.text("SELECT DISTINCT psn_no FROM funds_assessment WHERE bill_no = ANY(:b)"), {"b": nos}
    ).scalars()
    residents = [b.payer_id for b in bills if b.scheme == "resident"]
    return sorted(set(employees) | set(residents))


# ----------------------------------------------------------------------------- 家庭共济


def pay_from_family_account(
    engine: sa.Engine, bill_no: str, payer_psn_no: str, *, today: date, actor: str
) -> str:
    """Pay a resident's own contribution from a household member's personal account (共济).

    The payer must be in the resident's household with 共济 allowed, and have the balance; the
    account is debited in the registry and the ledger (ACCT → 390100) in one transaction.
    """
    with engine.begin() as conn:
        b = store.bills_by_no(conn, [bill_no]).get(bill_no)
        if b is None or b.scheme != "resident":
            raise FundsError("BILL_NOT_FOUND", f"未找到居民缴费核定单{bill_no}", "bill_no")
        if b.paid_date is not None:
            raise FundsError("BILL_PAID", f"核定单已于{b.paid_date}缴费", "bill_no")
        _check_household(conn, b.payer_id, payer_psn_no)
        r = store.resident_rows(conn, [bill_no])[bill_no]
        chain_id = f"gongji:{bill_no}"
        try:
            registry_accounts.post(conn, payer_psn_no, -b.amount, ref=chain_id,
                                   memo=f"家庭共济缴纳{b.payer_id}居民医保")  # fmt: skip
        except registry_accounts.AccountError as e:
            raise FundsError(e.code, str(e), "payer_psn_no") from e
        legs = [
            Leg(acct(payer_psn_no, b.region), fund(b.region, RESIDENT), b.amount, "contribution_resident"),
            Leg(bank(b.region), fund(b.region, RESIDENT), int(r["subsidy"]), "fiscal_subsidy"),
            Leg(fund(b.region, RESIDENT), fund(b.region, SERIOUS), int(r["serious"]), "fund_allocation"),
        ]  # fmt: skip
        post_chain(conn, postings.chain(chain_id, today, legs, {"kind": "gongji_payment",
                                                                "bill_no": bill_no}))  # fmt: skip
        store.insert_payments(
            conn,
            [{"bill_no": bill_no, "paid_date": today, "principal": b.amount, "late_fee": 0,
              "channel": "gongji", "source": payer_psn_no, "voucher_no": chain_id,
              "chain_id": chain_id}],
        )  # fmt: skip
        benefits.refresh(conn, [b.payer_id])
        audit(conn, actor, "funds.gongji_payment", bill_no, payer=payer_psn_no, amount=b.amount)
    return chain_id


def _check_household(conn: sa.Connection, resident: str, payer: str) -> None:
    row = conn.execute(
        sa.text(
            "SELECT m.gongji_flag FROM household_member m JOIN household_member r"
            " ON r.hh_no = m.hh_no WHERE m.psn_no = :payer AND r.psn_no = :resident"
        ),
        {"payer": payer, "resident": resident},
    ).first()
    if row is None:
        raise FundsError(
            "NOT_FAMILY", "缴费人与参保人不在同一家庭，不能家庭共济缴费", "payer_psn_no"
        )
    if not row.gongji_flag:
        raise FundsError("GONGJI_OFF", "缴费人未开通个人账户家庭共济", "payer_psn_no")
