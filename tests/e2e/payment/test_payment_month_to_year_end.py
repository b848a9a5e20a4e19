"""End to end: a month of inpatient settlements with settlement lists through the gateway over HTTP
→ grouping → monthly advance → a 特例单议 approved by two reviewers → year-end clearing.

Everything goes through the real entry points: the HIS calls the national interface (2401 … 2304,
4101–4104, 3601–3607) over HTTP with CSB signatures; bureau staff act in the console over HTTP
(session, CSRF). The gateway runs on a business clock in July 2025 (``month_app``), the policy is
the shipped one except the 兴宁 DRG budget, which is scaled to this month's volume (a copy of
``policies/`` in a temporary folder). The ledger identities are checked at the end.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from time import monotonic
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests.e2e.payment.conftest import START
from tests.e2e.payment.lists import Scenario, setl_list
from tests.e2e.settlement.conftest import make
from tests.e2e.staff_login import create_staff, login
from yibao.checkout import demo as persons
from yibao.client import NhsaClient, NhsaResponse
from yibao.console.model import Role
from yibao.db.engine import make_engine
from yibao.hissim import flows

HOSPITAL = "H44148100001"  # 兴宁市人民医院 (二级甲等, 441481: DRG region of the shipped policy)
REGION = "441481"

SCENARIOS = (
    Scenario("肺炎", 5, ("J18.900",), expect="ES35"),
    Scenario("肺炎伴脓毒症(MCC)", 6, ("J18.900", "A41.900"), expect="ES31"),
    Scenario("肺炎伴流感(CC被排除表排除)", 5, ("J18.900", "J10.100"), expect="ES35"),
    Scenario("肺炎伴急性出血后贫血(CC)", 6, ("J18.900", "D62.x00"), expect="ES33"),
    Scenario("脑梗死", 7, ("I63.900",), expect="BR25"),
    Scenario("脑梗死伴蛛网膜下出血(MCC被排除)", 7, ("I63.900", "I60.000"), expect="BR25"),
    Scenario("上消化道出血", 4, ("K92.208",), expect="GS15"),
    Scenario("冠心病支架", 4, ("I25.103",), ("36.0601",), expect="FM19"),
    Scenario("不稳定型心绞痛", 5, ("I20.000",), expect="FR39"),
    Scenario("前列腺增生", 4, ("N40.x00",), sex="1", expect="MZ19"),
    Scenario("子宫腺肌病", 4, ("N80.001",), sex="2", expect="NZ19"),
    Scenario("髋关节置换", 9, ("M16.900",), ("81.5100",), expect="IC29"),
    Scenario("剖宫产", 5, ("O82.000", "Z37.000"), ("74.1x01",), sex="2", expect="OB19"),
    Scenario("新生儿黄疸", 3, ("P59.901",), newborn=True, expect="PU15"),
    Scenario("短期住院(2天, 按项目)", 2, ("J18.900",), expect="ES35"),
    Scenario("糖尿病(子集外, 无法入组)", 5, ("E11.900",)),
    Scenario("肺炎(清单未提交)", 5, ("J18.900",), expect="ES35", submit=False),
    Scenario("慢阻肺急性加重伴肺炎(MCC被排除)", 8, ("J18.900", "J44.100"), expect="ES31"),
    Scenario("脑梗死(长住院)", 12, ("I63.900",), expect="BR25"),
    Scenario("肺炎(长住院)", 14, ("J18.900",), expect="ES35"),
)


def _people(client: NhsaClient) -> dict[str, list[flows.Patient]]:
    """兴宁 insured by sex, and the newborn (born 2025-06-22) apart."""
    out: dict[str, list[flows.Patient]] = {"1": [], "2": [], "baby": []}
    for row in persons.demo_rows(200):
        if row["insuplc_admdvs"] != REGION or row["psn_insu_date"] > "2025-07-01":
            continue  # not insured in 兴宁 on the stay's dates
        if "2015-01-01" < row["brdy"] < "2025-06-01":
            continue  # children: the adult diagnoses go to adults
        key = "baby" if row["brdy"] >= "2025-06-01" else row["gend"]
        out[key].append(flows.lookup(client, row["certno"]))
    return out


def _ok(r: NhsaResponse) -> dict[str, Any]:
    return flows.ok(r)


def _form(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    token = client.headers["X-CSRF-Token"]
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def test_a_month_of_stays_to_year_end(server: str, db_url: str) -> None:
    rng = random.Random(2025)
    his = make(server, HOSPITAL)
    business = flows.his_clock.set(_clock())
    try:
        people = _people(his)
        stays = _play_stays(his, people, rng)
        _upload_lists(his, stays, db_url)
        _check_grouping_and_qc(his, stays)
        admin = _staff(server, db_url)
        _bureau_review(stays, db_url)
        _advance(admin[0], db_url)
        appy_id = _special_case(his, stays, db_url)
        _review(admin, appy_id, db_url)
        _year_end(admin[0], db_url)
    finally:
        flows.his_clock.reset(business)
        his.close()


# ------------------------------------------------------------------------------------ steps


def _clock() -> Callable[[], datetime]:
    """The HIS wall clock: the business month, a second behind the server's."""

    start, t0 = datetime.fromisoformat(START), monotonic()
    return lambda: start + timedelta(seconds=monotonic() - t0 - 1)


def _play_stays(
    his: NhsaClient, people: dict[str, list[flows.Patient]], rng: random.Random
) -> list[tuple[Scenario, flows.Visit, str]]:
    pools = {k: list(v) for k, v in people.items()}
    stays = []
    for i, s in enumerate(SCENARIOS):
        key = "baby" if s.newborn else (s.sex or ("1" if i % 2 else "2"))
        pool = pools[key] or people[key]
        p = pool.pop(0) if pool else people[key][i % len(people[key])]
        v = flows.inpatient(his, p, rng, days=s.days)
        stays.append((s, v, p.psn_no))
    return stays


def _dates(s: Scenario) -> tuple[str, str]:
    end = date(2025, 7, 10)
    return (end - timedelta(days=s.days)).isoformat(), end.isoformat()


def _upload_lists(
    his: NhsaClient, stays: list[tuple[Scenario, flows.Visit, str]], db_url: str
) -> None:
    # a list that breaks a named rule is refused with the field and the rule, and nothing is kept
    s, v, _ = stays[0]
    bad = setl_list(v, s, begn=_dates(s)[0], end=_dates(s)[1])
    bad["diseinfo"].append({**bad["diseinfo"][0], "diag_code": "J18.000"})
    r = his.call("4101", bad)
    assert r.infcode == -1
    assert "input.diseinfo[1].maindiag_flag" in r.err_msg and "SL09" in r.err_msg, r.err_msg
    again = his.post(
        "4101", r.request
    )  # refused again, for the same reason (bad input is not logged)
    assert again.infcode == -1 and again.err_msg == r.err_msg
    engine = make_engine(db_url, pool_size=1)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM payment_setl_list")).scalar_one() == 0
    engine.dispose()
    for s, v, _ in stays:
        begn, end = _dates(s)
        body = setl_list(v, s, begn=begn, end=end, weight="3.10" if s.newborn else "")
        r = his.call("4101", body)
        out = _ok(r)
        assert re.fullmatch(r"\d{9}", str(out["setl_list_id"])), out
        assert his.post("4101", r.request).body == r.body  # exactly once on msgid
        if s.submit:
            r = his.call(
                "4102",
                {
                    "data": {
                        "stastinfo": [
                            {"psn_no": v.setlinfo["psn_no"], "setl_id": v.setl_id, "stas_type": "1"}
                        ]
                    }
                },
            )
            _ok(r)
    # a submitted list cannot be uploaded again nor submitted twice
    s, v, _ = stays[0]
    r = his.call("4101", setl_list(v, s, begn=_dates(s)[0], end=_dates(s)[1]))
    assert r.infcode == -1 and "已提交" in r.err_msg
    r = his.call(
        "4102", {"data": {"stastinfo": [{"psn_no": "", "setl_id": v.setl_id, "stas_type": "1"}]}}
    )
    assert r.infcode == -1 and "不允许" in r.err_msg


def _check_grouping_and_qc(his: NhsaClient, stays: list[tuple[Scenario, flows.Visit, str]]) -> None:
    r = his.call("3605", {"data": {"setl_ym": "202507", "page_num": 1, "page_size": 100}})
    rows = {row["setl_id"]: row for row in _ok(r)["data"]}  # type: ignore[index]
    for s, v, _ in stays:
        row = rows[v.setl_id]
        if s.expect:
            assert row["drg_code"] == s.expect, (s.name, row)
            assert row["grp_rslt"] == "1"
        else:
            assert row["grp_rslt"] != "1" and row["err_info"], (s.name, row)
    r = his.call("4104", {"data": {"setl_ym": "202507", "page_num": 1, "page_size": 100}})
    qc = {row["setl_id"]: row for row in _ok(r)["data"]}  # type: ignore[index]
    assert all(row["qltctrl_rslt"] == "1" for row in qc.values())  # hints only, none severe
    ungrouped = next(v for s, v, _ in stays if not s.expect)
    assert [d["exam_data_fld"] for d in qc[ungrouped.setl_id]["detailinfo"]] == ["diag_code"]
    r = his.call(
        "4103", {"data": {"psn_no": stays[1][1].setlinfo["psn_no"], "setl_id": stays[1][1].setl_id}}
    )
    out = _ok(r)
    assert out["setlinfo"]["stas_type"] == "1" and out["diseinfo"][1]["diag_code"] == "A41.900"  # type: ignore[index]


def _staff(server: str, db_url: str) -> tuple[httpx.Client, httpx.Client]:
    create_staff(db_url, "prov_expert", Role.PROVINCE_ADMIN, admdvs="440000")
    create_staff(db_url, "mz_expert", Role.CITY_ADMIN, admdvs="441400")
    return login(server, "prov_expert"), login(server, "mz_expert")


def _bureau_review(stays: list[tuple[Scenario, flows.Visit, str]], db_url: str) -> None:
    """The bureau approves a submitted list; an unsubmitted one cannot be approved (all or none)."""
    from yibao.payment import service
    from yibao.payment.errors import PaymentRefused

    submitted = stays[1][1].setl_id
    unsubmitted = next(v.setl_id for s, v, _ in stays if not s.submit)
    engine = make_engine(db_url, pool_size=1)
    try:
        with pytest.raises(PaymentRefused, match="不允许的状态变更"):
            service.review_lists(
                engine, [submitted, unsubmitted], approve=True, actor="prov_expert"
            )
        service.review_lists(engine, [submitted], approve=True, actor="prov_expert")
        with engine.connect() as conn:
            states = dict(
                conn.execute(sa.text("SELECT setl_id, state FROM payment_setl_list")).all()
            )
    finally:
        engine.dispose()
    assert states[submitted] == "2" and states[unsubmitted] == "0"


def _advance(admin: httpx.Client, db_url: str) -> None:
    r = _form(admin, "/console/payment/advance", {"admdvs": REGION, "month": "2025-07"})
    assert r.status_code == 303 and "msg=" in r.headers["location"], r.headers.get("location")
    page = admin.get(r.headers["location"])
    assert "月度预结算完成" in page.text
    engine = make_engine(db_url, pool_size=1)
    with engine.connect() as conn:
        adv = conn.execute(sa.text("SELECT * FROM payment_advance")).mappings().one()
        cases = conn.execute(sa.text("SELECT COUNT(*) FROM payment_case")).scalar_one()
        chain = conn.execute(
            sa.text("SELECT SUM(amount) FROM ledger_entry WHERE chain_id = :c"),
            {"c": adv["chain_id"]},
        ).scalar_one()
    engine.dispose()
    assert adv["fixmedins_code"] == HOSPITAL and adv["cases"] == cases == len(SCENARIOS) - 1
    assert adv["advance"] == (adv["fund_due"] * 9000 + 5000) // 10000  # 90 % (shipped policy)
    assert chain == 0


def _special_case(
    his: NhsaClient, stays: list[tuple[Scenario, flows.Visit, str]], db_url: str
) -> str:
    _, v, _ = next(x for x in stays if x[0].expect == "IC29")
    r = his.call(
        "3602",
        {
            "data": {
                "setl_id": v.setl_id,
                "appy_exit_type": "1",
                "exit_rea": "使用新纳入目录的人工关节，费用远高于病组标准",
                "drgAppySpcasItemDTOList": [
                    {
                        "hilistCode": "C0001",
                        "hilistName": "人工髋关节假体",
                        "cnt": "1",
                        "pric": "1000.00",
                        "detItemFeeSumamt": "1000.00",
                        "exitDetlItemFeeSumamt": "1000.00",
                    }
                ],
            }
        },
    )
    appy_id = str(_ok(r)["appy_chk_setl_list_id"])
    other = next(x for x in stays if x[0].expect == "FM19")[1]
    r = his.call(
        "3602",
        {
            "data": {
                "setl_id": other.setl_id,
                "appy_exit_type": "2",
                "exit_rea": "复杂病例",
                "spcas_exit_wt": "3.5",
            }
        },
    )
    assert r.infcode == -1 and "上限" in r.err_msg, r.err_msg  # 5 % of 19 cases = 0.95 → 0? see cap
    r = his.call("3601", {"data": {"fixmedins_code": HOSPITAL, "pageNum": 1, "pageSize": 10}})
    assert [a["appy_chk_setl_list_id"] for a in _ok(r)["data"]] == [appy_id]  # type: ignore[index]
    return appy_id


def _review(admins: tuple[httpx.Client, httpx.Client], appy_id: str, db_url: str) -> None:
    a, b = admins
    r = _form(
        a,
        f"/console/payment/special/{appy_id}",
        {"decision": "approve", "opinion": "符合特例单议条件"},
    )
    assert "msg=" in r.headers["location"]
    r = _form(
        a, f"/console/payment/special/{appy_id}", {"decision": "approve", "opinion": "再次同意"}
    )
    assert "err=" in r.headers["location"]  # the same expert cannot review twice
    r = _form(
        b,
        f"/console/payment/special/{appy_id}",
        {"decision": "approve", "opinion": "同意按项目付费", "deducted": "200.00"},
    )
    assert "msg=" in r.headers["location"]
    engine = make_engine(db_url, pool_size=1)
    with engine.connect() as conn:
        app = (
            conn.execute(
                sa.text("SELECT * FROM payment_special WHERE appy_id = :a"), {"a": appy_id}
            )
            .mappings()
            .one()
        )
        case = (
            conn.execute(
                sa.text("SELECT * FROM payment_case WHERE setl_id = :s"), {"s": app["setl_id"]}
            )
            .mappings()
            .one()
        )
    engine.dispose()
    assert (
        app["state"] == "approved"
        and app["deducted"] == 20000
        and app["chain_id"] == f"psc:{appy_id}"
    )
    assert case["mode"] == "special_item" and case["value"] == case["medfee_sumamt"] - 20000


def _year_end(admin: httpx.Client, db_url: str) -> None:
    r = _form(admin, "/console/payment/year-end", {"admdvs": REGION, "year": "2025"})
    assert "msg=" in r.headers["location"], r.headers["location"]
    x = admin.get("/console/payment/statement.xlsx", params={"admdvs": REGION, "year": 2025})
    assert x.status_code == 200
    wb = load_workbook(io.BytesIO(x.content))
    assert wb.sheetnames == ["汇总", "机构清算", "病例明细", "特例单议", "医共体"]
    engine = make_engine(db_url, pool_size=1)
    with engine.connect() as conn:
        ye = conn.execute(sa.text("SELECT * FROM payment_year_end")).mappings().one()
        ry = conn.execute(sa.text("SELECT * FROM payment_region_year")).mappings().one()
        modes = dict(
            conn.execute(sa.text("SELECT final_mode, COUNT(*) FROM payment_case GROUP BY 1")).all()
        )
        finals = conn.execute(
            sa.text(
                "SELECT SUM(final_fund_due), SUM(final_value), SUM(by_item), SUM(item_fund) FROM payment_case"
            )
        ).one()
        adjust = conn.execute(
            sa.text(
                "SELECT COALESCE(SUM(CASE WHEN credit_account = :pay THEN amount ELSE -amount END), 0) FROM ledger_transfer"
                " WHERE code IN ('payment_adjust', 'special_case', 'annual_clearing')"
                " AND (credit_account = :pay OR debit_account = :pay)"
            ),
            {"pay": f"PAY:{HOSPITAL}"},
        ).scalar_one()
        pay = conn.execute(
            sa.text("SELECT COALESCE(-SUM(amount), 0) FROM ledger_entry WHERE account_code = :p"),
            {"p": f"PAY:{HOSPITAL}"},
        ).scalar_one()
        counter = conn.execute(
            sa.text(
                "SELECT COALESCE(SUM(amount), 0) FROM ledger_transfer WHERE code IN ('fund_pay', 'acct_pay', 'acct_mulaid_pay') AND credit_account = :p"
            ),
            {"p": f"PAY:{HOSPITAL}"},
        ).scalar_one()
        hold = conn.execute(
            sa.text("SELECT COALESCE(SUM(amount), 0) FROM ledger_entry WHERE account_code = :h"),
            {"h": f"HOLD:{HOSPITAL}"},
        ).scalar_one()
        total = conn.execute(
            sa.text("SELECT COALESCE(SUM(amount), 0) FROM ledger_entry")
        ).scalar_one()
        from yibao.ledger import service as ledger

        report = ledger.verify(conn)
    engine.dispose()
    final_due, _, _, item_fund = (int(x or 0) for x in finals)
    assert modes.get("group", 0) >= 5 and modes["special_item"] == 1 and modes["excluded"] >= 2
    # what the fund finally owes = advances + released deposit + forfeited + year-end payment
    # − what the institution owes back
    assert ye["final_fund_due"] == final_due
    paid = ye["advanced"] + ye["released"] + ye["forfeited"] + ye["final_payment"]
    assert paid - ye["receivable"] == final_due
    # the counter's basic-fund payments plus every adjustment posted equal the final amounts
    assert item_fund + adjust == final_due
    assert hold == 0 and total == 0 and report.ok, report
    # on the payable there remains what the counter charged outside DRG/DIP (other funds, cases
    # not in payment) less what the institution owes back
    assert pay == counter - item_fund - ye["receivable"]
    # the DRG budget is spent exactly (to the fen of rounding per case)
    assert abs(int(ry["cost_budget"]) - final_value_of_group_cases(db_url)) <= ry["cases"]
    # the year's actual weight is what was planned, the by-item cases cost more: the rate falls
    assert Decimal(ry["provisional_unit_value"]) == Decimal("10893.2463")
    assert 0 < Decimal(ry["final_unit_value"]) < Decimal(ry["provisional_unit_value"])


def final_value_of_group_cases(db_url: str) -> int:
    engine = make_engine(db_url, pool_size=1)
    with engine.connect() as conn:
        v = conn.execute(
            sa.text(
                "SELECT COALESCE(SUM(final_value), 0) FROM payment_case WHERE final_mode <> 'excluded'"
            )
        ).scalar_one()
    engine.dispose()
    return int(v)
