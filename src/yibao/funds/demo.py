"""Funds demo data (缴费演示数据): a year of contributions so every fund has an honest balance.

Runs after the registry demo and before the demo settlements, through the same code a bureau
uses: the employers named in the registry become units and their employees' employment
(registry unit/employment import, all-or-nothing); personal-account balances loaded by the
registry demo are carried over into the ledger (期初余额结转); the budget funds the assistance
fund; residents are assessed for this year in last year's collection period and pay then (one
household pays from a family member's account, 家庭共济); each of the last twelve months is
assessed (核定), exported to the tax bureau and paid back on its due date (a few units late, with
滞纳金), retirees get their monthly credit, one unit holds an approved deferral (缓缴) for the last
three months, and each quarter earns interest. Benefit status is derived at the end.
Deterministic; skipped when any bill exists.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy import Engine

from yibao.clock import CHINA
from yibao.funds import benefits, service
from yibao.funds.model import FundsError, add_months, month_end, month_start
from yibao.funds.postings import ASSISTANCE, POOLED, RESIDENT
from yibao.funds.taxfile import PaymentLine, render_payments
from yibao.ledger import fund_balances
from yibao.registry import unit_import
from yibao.registry.rows import _text
from yibao.registry.unit_rows import check_employments, check_units
from yibao.registry.uscc import compose

log = structlog.get_logger(__name__)
ACTOR = "demo"
REGIONS = ("440100", "440300", "440400", "441300", "441481", "421381")
LATE_DAYS = 12  # the demo's late payers pay this many days after the due date
INTEREST_RATE = (35, 10_000 * 4)  # 0.35 % a year (活期), per quarter


def _stable(text: str, mod: int) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % mod


def _unit_type(name: str) -> str:
    if name.endswith(("政府", "办公室", "教育局", "卫生健康局")):
        return "20"  # 机关
    if name.endswith(("医院", "学校")):
        return "30"  # 事业单位
    return "10"  # 企业


def _units_and_employment(engine: Engine, today: date) -> None:
    """Units from the registry's employers, employment for every active employee."""
    with engine.connect() as conn:
        employers = conn.execute(sa.text(
            "SELECT emp_no, MIN(emp_name) AS emp_name, MIN(insuplc_admdvs) AS admdvs"
            " FROM enrolment WHERE insutype = '310' AND emp_no <> '' GROUP BY emp_no ORDER BY 1"
        )).all()  # fmt: skip
        workers = conn.execute(sa.text(
            "SELECT p.psn_cert_type, p.certno, e.emp_no, e.flxempe_flag, e.psn_insu_date"
            " FROM enrolment e JOIN person p ON p.psn_no = e.psn_no"
            " WHERE e.insutype = '310' AND e.psn_type = '11' AND e.psn_insu_stas = '1'"
            " AND (e.emp_no <> '' OR e.flxempe_flag) ORDER BY p.psn_no"
        )).all()  # fmt: skip
    unit_rows = [
        (i, {"emp_no": u.emp_no, "uscc": compose("91", u.admdvs, f"D{i:07d}X"),
             "emp_name": u.emp_name, "emp_type": _unit_type(u.emp_name), "admdvs": u.admdvs})
        for i, u in enumerate(employers, start=2)
    ]  # fmt: skip
    jobs = []
    for i, w in enumerate(workers, start=2):
        wage = 4_000 + _stable(w.certno, 21_000)  # 申报工资 4,000–25,000 元 (演示值)
        jobs.append((i, {
            "psn_cert_type": w.psn_cert_type, "certno": w.certno,
            "emp_no": "" if w.flxempe_flag else w.emp_no,
            "begin_date": _text(min(w.psn_insu_date, today)), "wage_base": str(wage),
            "flxempe_flag": "1" if w.flxempe_flag else "0"}))  # fmt: skip
    with engine.begin() as conn:
        unit_import.import_units(conn, check_units(unit_rows), skip_bad=False, actor=ACTOR,
                                 source="demo-units")  # fmt: skip
        unit_import.import_employments(conn, check_employments(jobs), skip_bad=False,
                                       actor=ACTOR, source="demo-employment")  # fmt: skip


def _pay(engine: Engine, region: str, file_id: str, lines: list[PaymentLine], today: date) -> None:
    if lines:
        text = render_payments(file_id, region, today, lines)
        service.import_payments(engine, text, today=today, actor="demo-tax")


def _residents(engine: Engine, region: str, year: int) -> None:
    collect = date(year - 1, 11, 15)
    service.assess_residents(engine, region, year, on=collect, actor=ACTOR)
    with engine.connect() as conn:
        open_bills = conn.execute(sa.text(
            "SELECT b.bill_no, b.payer_id, b.amount FROM funds_bill b LEFT JOIN funds_payment p"
            " ON p.bill_no = b.bill_no WHERE b.region = :r AND b.scheme = 'resident'"
            " AND p.bill_no IS NULL ORDER BY b.bill_no"), {"r": region}).all()  # fmt: skip
        family = conn.execute(sa.text(
            "SELECT r.psn_no AS resident, m.psn_no AS payer FROM household_member r"
            " JOIN household_member m ON m.hh_no = r.hh_no AND m.gongji_flag AND m.psn_no <> r.psn_no"
            " JOIN personal_account a ON a.psn_no = m.psn_no AND a.balc >= 100000"
            " WHERE r.psn_no = ANY(:p) ORDER BY r.psn_no LIMIT 1"),
            {"p": [b.payer_id for b in open_bills]}).first()  # fmt: skip
    paid_day = date(year - 1, 11, 20)
    lines = []
    for i, b in enumerate(open_bills):
        if family is not None and b.payer_id == family.resident:
            service.pay_from_family_account(engine, b.bill_no, family.payer, today=paid_day,
                                            actor=ACTOR)  # fmt: skip
            continue
        lines.append(PaymentLine(0, b.bill_no, paid_day, b.amount, 0, f"R{region}{i:06d}"))
    _pay(engine, region, f"DEMO{region}R{year}", lines, paid_day)


def _months(engine: Engine, region: str, first: date, cur: date, today: date) -> None:
    p = first
    while p <= cur:
        service.assess_month(engine, region, p, actor=ACTOR, refresh=False)
        if month_end(p) < today:
            service.credit_retirees(engine, region, p, actor=ACTOR)
        p = add_months(p, 1)
    enterprises = _enterprises(engine, region)  # an enterprise defers; another unit pays late
    deferred = enterprises[-1] if enterprises else None
    if deferred is not None:
        try:
            service.approve(engine, "deferral", deferred, add_months(cur, -2), cur,
                            approved_by="demo-审批员", reference="粤医保发〔2022〕18号(演示)",
                            today=today)  # fmt: skip
        except FundsError:  # no deferral policy in the region (e.g. Hubei): nobody defers
            deferred = None
    service.export_tax_file(engine, region, today=today, actor=ACTOR)
    with engine.connect() as conn:
        bills = conn.execute(sa.text(
            "SELECT b.bill_no, b.payer_kind, b.payer_id, b.period, b.due_date, b.amount FROM funds_bill b"
            " LEFT JOIN funds_payment p ON p.bill_no = b.bill_no WHERE b.region = :r"
            " AND b.scheme <> 'resident' AND p.bill_no IS NULL ORDER BY b.period, b.bill_no"),
            {"r": region}).all()  # fmt: skip
    late = next(
        (b.payer_id for b in bills if b.payer_kind == "unit" and b.payer_id != deferred), None
    )
    lines = []
    for i, b in enumerate(bills):
        if b.due_date >= today or (b.payer_id == deferred and b.period >= add_months(cur, -2)):
            continue
        paid, fee = b.due_date, 0
        if b.payer_id == late and b.period == add_months(cur, -4):
            paid = b.due_date + timedelta(days=LATE_DAYS)
            fee = (b.amount * LATE_DAYS * 5 + 5_000) // 10_000  # 万分之五/日 (late_fee_daily_rate)
        lines.append(PaymentLine(0, b.bill_no, paid, b.amount, fee, f"T{region}{i:06d}"))
    _pay(engine, region, f"DEMO{region}M{cur:%Y%m}", lines, today)


def _enterprises(engine: Engine, region: str) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT emp_no FROM unit WHERE admdvs = :r AND emp_type = '10' ORDER BY emp_no"),
            {"r": region}).scalars())  # fmt: skip


def _interest(engine: Engine, region: str, first: date, today: date) -> None:
    q = first
    while True:
        q_end = month_end(add_months(q, 2))
        if q_end >= today:
            return
        with engine.connect() as conn:
            balances = fund_balances(conn, region, q_end)
        for fpt in (POOLED, RESIDENT):
            amount = balances.get(fpt, 0) * INTEREST_RATE[0] // INTEREST_RATE[1]
            if amount > 0:
                service.post_transfer(engine, region=region, fund_pay_type=fpt, kind="interest",
                                      amount=amount, value_date=q_end,
                                      ref=f"DEMO-{fpt}-{q_end:%Y%m}", actor=ACTOR)  # fmt: skip
        q = add_months(q, 3)


def seed(engine: Engine) -> None:
    """A year of contributions in every demo region; skipped when any bill exists."""
    with engine.connect() as conn:
        if conn.execute(sa.text("SELECT 1 FROM funds_bill LIMIT 1")).first() is not None:
            return
    today = datetime.now(CHINA).date()
    cur = month_start(today)
    first = add_months(cur, -11)
    _units_and_employment(engine, today)
    for region in REGIONS:
        service.carry_over_opening(engine, region, value_date=date(first.year - 1, 10, 31),
                                   actor=ACTOR)  # fmt: skip
        with engine.connect() as conn:
            assisted = conn.execute(sa.text(
                "SELECT COUNT(*) FROM person_identity i JOIN enrolment e ON e.psn_no = i.psn_no"
                " WHERE e.insuplc_admdvs = :r"), {"r": region}).scalar_one()  # fmt: skip
        budget = 20_000_000 + int(assisted) * 300_000  # 20万 + 3000 元 per assisted person (演示值)
        service.post_transfer(engine, region=region, fund_pay_type=ASSISTANCE,
                              kind="budget_transfer", amount=budget,
                              value_date=date(first.year - 1, 11, 1),
                              ref=f"DEMO-BUDGET-{first.year}", actor=ACTOR)  # fmt: skip
        for year in sorted({first.year, today.year}):
            _residents(engine, region, year)
        _months(engine, region, first, cur, today)
        _interest(engine, region, first, today)
        with engine.begin() as conn:
            benefits.refresh_region(conn, region)
    log.info("funds_demo_seeded", regions=len(REGIONS), first=str(first), last=str(cur))
