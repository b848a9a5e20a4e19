"""The fund side end to end over HTTP and the CLI, on the embedded PostgreSQL (issue 13 "Must show").

One live server and the ``yibao`` command line against the same database:

- a unit with 100 employees assessed for 12 months; the tax-file round trip — export, the tax
  bureau's 到账 file imported, the same file re-sent (nothing changes), a malformed file and a
  file that does not match the bills (both refused whole, nothing changes);
- a unit granted 3 months of deferral whose worker settles normally meanwhile, whose arrears are
  then paid without a late fee;
- a flexible worker whose arrears suspend benefits: the settlement is refused with a clear
  err_msg, then restored once the arrears and the late fee are paid;
- a 低保 resident enrolled by 资助参保 mid-year who settles with no contribution of his own;
- relief months at half the employer rate (粤医保函〔2020〕62号, Feb–Jun 2020), approved per unit;
- the ledger still sums to zero, income − spending = balance change per fund, the 1101 ``balc``
  equals the ledger, and the analyst sees aggregates but not units.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.e2e.settlement.conftest import make
from tests.e2e.staff_login import staff_client
from tests.funds_world import World
from yibao.catalog import service as catalog
from yibao.client import NhsaError
from yibao.console.model import Role
from yibao.funds.model import add_months, month_start
from yibao.funds.taxfile import PaymentLine, render_payments
from yibao.hissim import flows
from yibao.institutions import demo as institutions

pytestmark = pytest.mark.slow
SZ, HZ = "440300", "441300"
PHARMACY = "P44030000001"
TODAY = datetime.now(timezone(timedelta(hours=8))).date()
CUR = month_start(TODAY)
FIRST = add_months(CUR, -11)


def cli(db_url: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, YIBAO_DATABASE_URL=db_url)
    r = subprocess.run(
        [sys.executable, "-m", "yibao.cli", *args], env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert (r.returncode == 0) == ok, r.stdout + r.stderr
    return r


def ym(d: date) -> str:
    return f"{d:%Y-%m}"


def expected_fee(principal: int, due: date, paid: date) -> int:
    """0.05 % a day (万分之五) from the day after the due date, half up to the fen."""
    days = (paid - due).days
    if days <= 0:
        return 0
    fee = Decimal(principal) * Decimal("0.0005") * days
    return int(fee.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def counts(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
            for t in ("funds_payment", "ledger_transfer", "personal_account_posting",
                      "funds_tax_file", "benefit_block")
        )  # fmt: skip


def bills(engine: Engine, where: str, **params: object) -> list[sa.Row[tuple[object, ...]]]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT b.*, p.paid_date, p.late_fee FROM funds_bill b LEFT JOIN funds_payment"
                    f" p ON p.bill_no = b.bill_no WHERE {where} ORDER BY b.period, b.bill_no"
                ),
                params,
            )
        )


def settle(url: str, certno: str) -> dict[str, object]:
    """1101 then a pharmacy purchase (2101 → 2102) at a Shenzhen pharmacy; the setlinfo."""
    client = make(url, PHARMACY)
    try:
        p = flows.lookup(client, certno)
        return flows.pharmacy(client, p, random.Random(certno)).setlinfo
    finally:
        client.close()


def write(tmp: Path, name: str, data: bytes | str) -> str:
    path = tmp / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return str(path)


def test_fund_side_end_to_end(
    engine: Engine, db_url: str, live_server: str, tmp_path: Path
) -> None:
    institutions.seed(engine)
    catalog.seed_demo(engine)
    world = World()
    world.unit("U440300A", "深圳示范电子有限公司")
    staff_a = world.employees("U440300A", "深圳示范电子有限公司", 100)
    world.unit("U440300D", "深圳示范物流有限公司")
    staff_d = world.employees("U440300D", "深圳示范物流有限公司", 3)
    flex = world.flexible(wage=6000)
    world.unit("U441300R", "惠州示范餐饮有限公司", region=HZ)
    world.employees("U441300R", "惠州示范餐饮有限公司", 3, wage=8000)
    world.persons[-3:] = [{**p, "insuplc_admdvs": HZ} for p in world.persons[-3:]]

    # registry import through the CLI: persons, units, employment (each all-or-nothing)
    cli(db_url, "registry", "import", write(tmp_path, "persons.csv", world.persons_csv()))
    cli(db_url, "registry", "import-units", write(tmp_path, "units.csv", world.units_csv()))
    cli(db_url, "registry", "import-employment",
        write(tmp_path, "employment.csv", world.employment_csv()))  # fmt: skip

    admin = staff_client(live_server, db_url, "fund_admin", Role.PROVINCE_ADMIN)
    # the same import over HTTP refuses a file with one bad row whole (统一社会信用代码 check digit)
    bad_units = world.units_csv().replace(world.units[0]["uscc"].encode(), b"91440300MA5X00000X")
    r = admin.post("/api/registry/units/import", files={"file": ("units.csv", bad_units)})
    assert r.status_code == 422 and r.json()["written"] is False, r.text
    assert r.json()["errors"][0]["field"] == "uscc"
    # the budget funds the assistance fund (财政预算拨入医疗救助基金) before it pays for anyone
    r = admin.post("/api/funds/transfers", json={
        "admdvs": SZ, "fund_pay_type": "610100", "kind": "budget_transfer", "amount": "50000.00",
        "value_date": FIRST.isoformat(), "ref": "SZ-MA-BUDGET-1"})  # fmt: skip
    assert r.status_code == 200, r.text

    # ---- relief: approved per unit, then assessed at half the employer rate (Feb–Jun 2020)
    r = admin.post("/api/funds/units/U441300R/approvals", json={
        "kind": "relief", "period_from": "2020-02", "period_to": "2020-06",
        "reference": "粤医保函〔2020〕62号"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["approved_by"] == "fund_admin"
    r = admin.post("/api/funds/assess", json={"admdvs": HZ, "month": "2020-01", "to": "2020-12"})
    assert r.status_code == 200, r.text
    relief = {b.period.month: b.employer for b in bills(engine, "b.payer_id = 'U441300R'")}
    assert len(relief) == 12
    for m in range(1, 13):
        assert relief[m] == (relief[1] // 2 if 2 <= m <= 6 else relief[1]), (m, relief)
    late = admin.post(
        "/api/funds/units/U441300R/approvals",
        json={"kind": "relief", "period_from": "2020-07", "period_to": "2020-08", "reference": "x"},
    )
    assert late.status_code == 400 and late.json()["error"] == "NO_RELIEF_POLICY"  # fmt: skip

    # ---- 12 months for the Shenzhen units and the flexible worker (CLI); a re-run adds nothing
    out = cli(db_url, "funds", "assess", "--region", SZ, "--month", ym(FIRST), "--to", ym(CUR))
    assert out.stdout.count("第1批 核定104人") == 12
    again = cli(db_url, "funds", "assess", "--region", SZ, "--month", ym(CUR))
    assert "无新增核定" in again.stdout
    unit_a = bills(engine, "b.payer_id = 'U440300A'")
    assert len(unit_a) == 12 and all(b.persons == 100 for b in unit_a)

    # ---- deferral for unit D: the last 3 months (缓缴), approved by the signed-in admin
    r = admin.post("/api/funds/units/U440300D/approvals", json={
        "kind": "deferral", "period_from": ym(add_months(CUR, -2)), "period_to": ym(CUR),
        "reference": "粤医保发〔2022〕18号"})  # fmt: skip
    assert r.status_code == 200, r.text
    too_long = admin.post("/api/funds/units/U440300A/approvals", json={
        "kind": "deferral", "period_from": ym(add_months(CUR, -5)), "period_to": ym(CUR),
        "reference": "x"})  # fmt: skip
    assert too_long.status_code == 400 and too_long.json()["error"] == "DEFERRAL_TOO_LONG"

    # ---- export to the tax bureau (HTTP) and its answer
    exp = admin.post("/api/funds/tax/export", json={"admdvs": SZ})
    assert exp.status_code == 200, exp.text
    file_id = exp.headers["X-File-Id"]
    assert exp.text.startswith(f"#YIBAO-TAX,1,ASSESSMENT,{file_id},{SZ},")
    assert exp.text.count("\n") == 2 + 36 + 1  # header, columns, 12 × (A, D, F), trailer
    replay = admin.post("/api/funds/tax/export", json={"admdvs": SZ, "file_id": file_id})
    assert replay.content == exp.content

    open_bills = bills(engine, "b.region = :r AND p.paid_date IS NULL", r=SZ)
    paid_now = [
        b for b in open_bills
        if b.due_date < TODAY and not (b.payer_id == "U440300D" and b.period >= add_months(CUR, -2))
        and not (b.scheme == "flexible" and b.period >= add_months(CUR, -3))
    ]  # fmt: skip
    lines = [PaymentLine(0, b.bill_no, b.due_date, b.amount, 0, f"SP{i:05d}")
             for i, b in enumerate(paid_now)]  # fmt: skip
    pay_text = render_payments("TAX440300R0001", SZ, TODAY, lines)
    pay_file = write(tmp_path, "pay1.csv", pay_text)

    before = counts(engine)
    malformed = pay_text.replace(f"#END,{len(lines)},", f"#END,{len(lines) + 1},")
    bad = cli(db_url, "funds", "import", write(tmp_path, "bad.csv", malformed), ok=False)
    assert "结束行的行数" in bad.stderr and "未做任何变更" in bad.stderr
    wrong = render_payments("TAX440300R0002", SZ, TODAY, [*lines[:-1], PaymentLine(
        0, lines[-1].bill_no, lines[-1].paid_date, lines[-1].principal + 1, 0, "SPX")])  # fmt: skip
    refused = admin.post("/api/funds/tax/import", content=wrong.encode("utf-8"))
    assert refused.status_code == 422 and refused.json()["error"] == "FILE_REFUSED"
    assert "与核定金额" in refused.json()["errors"][0]["reason"]
    assert counts(engine) == before  # refused whole: nothing written

    done = cli(db_url, "funds", "import", pay_file)
    assert f"已导入TAX440300R0001：{len(lines)}张核定单到账" in done.stdout
    after = counts(engine)
    assert after[0] == before[0] + len(lines)
    resent = cli(db_url, "funds", "import", pay_file)
    assert "已导入过，未做任何变更" in resent.stdout
    assert counts(engine) == after

    # ---- benefits follow payment
    ok_d = settle(live_server, staff_d[0])  # deferral: benefits continue (不影响当期待遇)
    assert Decimal(str(ok_d["medfee_sumamt"])) > 0
    with pytest.raises(NhsaError) as refused_flex:
        settle(live_server, flex)
    assert "欠费暂停待遇" in str(refused_flex.value) and "缴清欠费后恢复" in str(refused_flex.value)

    arrears = bills(engine, "b.scheme = 'flexible' AND p.paid_date IS NULL AND b.due_date < :d",
                    d=TODAY)  # fmt: skip
    cur_due = next(b.due_date for b in arrears + bills(engine, "b.scheme = 'flexible'")
                   if b.period == CUR)  # fmt: skip
    assert len(arrears) == 3 + (cur_due < TODAY)
    deferred = bills(engine, "b.payer_id = 'U440300D' AND p.paid_date IS NULL")
    assert len(deferred) == 3
    second = [PaymentLine(0, b.bill_no, TODAY, b.amount, expected_fee(b.amount, b.due_date, TODAY),
                          f"SQ{i:05d}") for i, b in enumerate(arrears)]  # fmt: skip
    second += [PaymentLine(0, b.bill_no, TODAY, b.amount, 0, f"SD{i:05d}")
               for i, b in enumerate(deferred)]  # fmt: skip
    r = admin.post("/api/funds/tax/import",
                   content=render_payments("TAX440300R0003", SZ, TODAY, second).encode())  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["late_fee"] == sum(x.late_fee for x in second) > 0
    restored = settle(live_server, flex)  # restored on payment
    assert Decimal(str(restored["medfee_sumamt"])) > 0

    # ---- 低保 resident enrolled by 资助参保 mid-year: no contribution of his own
    certno = world.resident(born=date(1958, 8, 8), since=TODAY.isoformat())
    person = world.persons[-1]
    reg = admin.post("/api/registry/persons", json={
        "psn_cert_type": "01", "certno": certno, "psn_name": "低保测试", "gend": person["gend"],
        "brdy": person["brdy"], "admdvs": SZ})  # fmt: skip
    assert reg.status_code == 200, reg.text
    psn_no = reg.json()["psn_no"]
    for path, body in (
        (f"/api/registry/persons/{psn_no}/enrolments", {"insutype": "390", "psn_insu_date":
            TODAY.isoformat(), "psn_type": "60", "insuplc_admdvs": SZ}),
        (f"/api/registry/persons/{psn_no}/identities", {"psn_idet_type": "239903",
            "begntime": TODAY.isoformat(), "endtime": date(TODAY.year, 12, 31).isoformat()}),
    ):  # fmt: skip
        assert admin.post(path, json=body).status_code == 200
    r = admin.post("/api/funds/residents/assess",
                   json={"admdvs": SZ, "year": TODAY.year, "on": TODAY.isoformat(),
                         "psn_no": psn_no})  # fmt: skip
    assert r.status_code == 200 and r.json()["rows"] == 1 and r.json()["bills"] == 0, r.text
    assert settle(live_server, certno)["psn_no"] == psn_no
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT personal, assisted, own, assist_class, assist_chain FROM"
            " funds_resident_assessment WHERE psn_no = :p"), {"p": psn_no}).one()  # fmt: skip
        assert row.own == 0 and row.assisted == row.personal > 0 and row.assist_class == "dibao"
        moved = conn.execute(sa.text(
            "SELECT debit_account, credit_account, amount FROM ledger_transfer"
            " WHERE chain_id = :c AND code = 'assistance_subsidy'"), {"c": row.assist_chain}).one()  # fmt: skip
        assert (moved.debit_account, moved.credit_account) == (
            f"FUND:{SZ}:610100",
            f"FUND:{SZ}:390100",
        )
        assert not conn.execute(sa.text("SELECT 1 FROM funds_bill WHERE payer_id = :p"),
                                {"p": psn_no}).first()  # fmt: skip

    # ---- ledger identities, account balances, 1101 balc = ledger
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT SUM(amount) FROM ledger_entry")).scalar_one() == 0
    cli(db_url, "ledger", "verify")
    cli(db_url, "funds", "check-accounts")
    series = admin.get("/api/funds/series", params={"admdvs": SZ, "date_from": "2000-01-01",
                                                     "date_to": TODAY.isoformat()}).json()  # fmt: skip
    position = {x["fund_pay_type"]: x for x in admin.get(
        "/api/funds/position", params={"admdvs": SZ}).json()}  # fmt: skip
    for fpt, line in position.items():
        moved_sum = sum(p["income"] - p["spending"] + p["opening"] for p in series
                        if p["fund_pay_type"] == fpt)  # fmt: skip
        assert moved_sum == line["balance"], fpt
        assert line["balance"] >= 0, (fpt, line)
    assert position["310100"]["income_12m"] > 0 and position["310200"]["balance"] > 0
    client = make(live_server, PHARMACY)
    try:
        info = flows.ok(client.call("1101", {"data": {"mdtrt_cert_type": "02",
                        "mdtrt_cert_no": staff_a[0], "psn_cert_type": "01", "certno": staff_a[0],
                        "psn_name": "", "card_sn": "", "begntime": ""}}))  # fmt: skip
    finally:
        client.close()
    balc = next(i["balc"] for i in info["insuinfo"] if i["insutype"] == "310")
    psn_a = info["baseinfo"]["psn_no"]
    with engine.connect() as conn:
        ledger_balc = conn.execute(sa.text(
            "SELECT COALESCE(SUM(amount), 0) FROM ledger_entry WHERE account_code = :a"),
            {"a": f"ACCT:{psn_a}"}).scalar_one()  # fmt: skip
    assert Decimal(str(balc)) * 100 == -ledger_balc > 0

    # ---- roles: the analyst sees aggregates, never units or persons; a city admin its region
    analyst = staff_client(live_server, db_url, "fund_analyst", Role.ANALYST)
    assert analyst.get("/api/funds/position", params={"admdvs": SZ}).status_code == 200
    assert analyst.get("/api/funds/units", params={"admdvs": SZ}).status_code == 403
    assert (
        analyst.post("/api/funds/assess", json={"admdvs": SZ, "month": ym(CUR)}).status_code == 403
    )
    hz_admin = staff_client(live_server, db_url, "hz_admin", Role.CITY_ADMIN, admdvs=HZ)
    assert hz_admin.get("/api/funds/units", params={"admdvs": HZ}).status_code == 200
    assert hz_admin.get("/api/funds/units", params={"admdvs": SZ}).status_code == 403
