"""Amounts over HTTP and PostgreSQL checked against figures derived BY HAND, not by the engine.

One Shenzhen employee (深圳 职工, 在职, insured since 2015, 3000.00 in the personal account) goes
through every settlement kind in one year, carried across persistence:

1. a pharmacy purchase (2101/2102 at 深圳市福田区康民药房),
2. an outpatient visit (2201 → 2203 → 2204 → 2206 → 2207 at 深圳市人民医院, 三级),
3. an inpatient stay (2401 → 2301 → 2402 → 2303 → 2304, same hospital),
4. the cancellation of the outpatient settlement (2208), then of the stay (2305).

After every step the test checks the answer's amounts, the person's year accumulators (5206) and
the ledger (ledger service balances): which account moved, on which side (debit/credit), by how
much. A Huizhou employee treated in Shenzhen (省内异地, unfiled) checks the clearing accounts.

Policy figures used (policies/guangdong/440300.yaml, 441300.yaml, national 000000.yaml):
- 深圳 乙类先行自付 1 %; 药店购药 (med_type 41): personal account and cash only;
- 深圳 职工 普通门诊统筹: no deductible, 三级 55 %; 住院: 三级 起付线 600, 一档/在职 三级 90 %;
- 深圳 大额 (330100): 年度起付 10000 on 基数 = 个人自付 + 起付线 (not reached here);
- the personal account pays neither 全自费 nor 超限价 (account.pays_* = false);
- 惠州 职工 住院 95 %; 省内异地 unfiled: −20 个百分点, 异地起付线 1200.
Demo catalogue (catalogs/440000-guangdong, 440300-shenzhen): classes and price limits per line.
Rounding: every ratio × amount once, half up, to the fen.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from tests.e2e.assurance.conftest import ClientFactory
from tests.e2e.assurance.handmade import (
    ACCOUNT_CREDIT,
    FAR_FUTURE,
    admit,
    cancel,
    cumulative,
    discharge,
    fen,
    line,
    open_outpatient,
    patient,
    pharmacy,
    query_5203,
    register,
    settle_outpatient,
    settle_stay,
    upload_stay_fees,
)
from yibao.ledger import service as ledger

SZ, HZ = "440300", "441300"
HOSPITAL, PHARMACY = "H44030000001", "P44030000001"  # 深圳市人民医院 (hosp_lv 2: 三级); 康民药房

# -------------------------------------------------------------------------------- 1. 药店购药
# 阿莫西林胶囊          甲类 0.16 × 24 =   3.84  → 政策范围内 3.84
# 阿莫西林克拉维酸钾片  乙类 0.95 × 14 =  13.30  → 先行自付 13.30 × 1 % = 0.133 → 0.13; 范围内 13.17
# 西洋参                丙类 1.60 × 10 =  16.00  → 全自费 16.00
DRUGS = [
    line("1", "XJ01CAA007A002558977458", "0.16", 24),
    line("2", "XJ01CRA009A001764714089", "0.95", 14),
    line("3", "T106660078", "1.60", 10),
]
PHARMACY_SETL = {
    "medfee_sumamt": 3314, "fulamt_ownpay_amt": 1600, "overlmt_selfpay": 0,
    "preselfpay_amt": 13, "inscp_scp_amt": 1701, "act_pay_dedc": 0,
    "hifp_pay": 0, "fund_pay_sumamt": 0,
    "psn_part_amt": 3314,  # everything is the person's (41: no fund)
    "acct_pay": 1714,  # 33.14 − 全自费 16.00 = 17.14 from the account
    "psn_cash_pay": 1600,
    "balc": ACCOUNT_CREDIT - 1714,  # 3000.00 − 17.14 = 2982.86
}  # fmt: skip

# -------------------------------------------------------------------------------- 2. 门诊
# 主任医师诊查费  甲类 40.00 × 1, 支付标准 30.00 → 超限价 10.00, 范围内 30.00
# 阿莫西林克拉维酸钾片 乙类 0.95 × 20 = 19.00 → 先行自付 0.19, 范围内 18.81
# 阿莫西林胶囊    甲类 0.16 × 24 = 3.84  → 范围内 3.84
# 西洋参          丙类 1.60 × 10 = 16.00 → 全自费 16.00
OUTPATIENT_FEES = [
    line("1", "001102000030000", "40.00", 1),
    line("2", "XJ01CRA009A001764714089", "0.95", 20),
    line("3", "XJ01CAA007A002558977458", "0.16", 24),
    line("4", "T106660078", "1.60", 10),
]
OUTPATIENT_SPLIT = {
    "medfee_sumamt": 7884, "fulamt_ownpay_amt": 1600, "overlmt_selfpay": 1000,
    "preselfpay_amt": 19, "inscp_scp_amt": 5265,  # 30.00 + 18.81 + 3.84
}  # fmt: skip
OP_HIFP = 2896  # 52.65 × 55 % = 28.9575 → 28.96 (no deductible)
OP_ACCT = 7884 - OP_HIFP - 1600 - 1000  # 个人负担 49.88 − 全自费 − 超限价 = 23.88
OUTPATIENT_SETL = {
    **OUTPATIENT_SPLIT, "act_pay_dedc": 0, "hifp_pay": OP_HIFP, "hifob_pay": 0,
    "fund_pay_sumamt": OP_HIFP, "psn_part_amt": 7884 - OP_HIFP, "acct_pay": OP_ACCT,
    "psn_cash_pay": 7884 - OP_HIFP - OP_ACCT,  # 26.00 = 全自费 16.00 + 超限价 10.00
    "balc": ACCOUNT_CREDIT - 1714 - OP_ACCT,  # 2982.86 − 23.88 = 2958.98
}  # fmt: skip
OUTPATIENT_CUM = {"inscp.outpatient": 5265, "hifp.outpatient": OP_HIFP, "eligible.outpatient": 5265}

# -------------------------------------------------------------------------------- 3. 住院
# 单人间床位费  甲类 150.00 × 3 = 450.00, 深圳支付标准 80.00 × 3 = 240.00 → 超限价 210.00
# 阑尾切除术    甲类 1200.00     椎管内麻醉 甲类 350.00
# CT平扫        乙类 200.00 → 先行自付 2.00, 范围内 198.00
# 鹿茸片        丙类 20.00 × 5 = 100.00 → 全自费
STAY_FEES = [
    line("01", "001109000030000", "150.00", 3),
    line("02", "003310030010000", "1200.00", 1),
    line("03", "003301000020000", "350.00", 1),
    line("04", "002103000010000", "200.00", 1),
    line("05", "T106722582", "20.00", 5),
]
STAY_SPLIT = {
    "medfee_sumamt": 230000, "fulamt_ownpay_amt": 10000, "overlmt_selfpay": 21000,
    "preselfpay_amt": 200, "inscp_scp_amt": 198800,  # 240 + 1200 + 350 + 198
}  # fmt: skip
SZ_DEDC = 60000  # 三级 first admission of the year
IP_HIFP = 124920  # (1988.00 − 600.00) × 90 % = 1249.20
IP_SERIOUS_BASE = (198800 - IP_HIFP - SZ_DEDC) + SZ_DEDC  # 个人自付 138.80 + 起付线 600.00 = 738.80
IP_PSN = 230000 - IP_HIFP  # 1050.80
IP_ACCT = IP_PSN - 10000 - 21000  # 740.80 (account: not 全自费, not 超限价)
STAY_SETL = {
    **STAY_SPLIT, "act_pay_dedc": SZ_DEDC, "hifp_pay": IP_HIFP,
    "hifob_pay": 0,  # 大额: 738.80 < 年度起付 10000.00
    "fund_pay_sumamt": IP_HIFP, "psn_part_amt": IP_PSN, "acct_pay": IP_ACCT,
    "psn_cash_pay": IP_PSN - IP_ACCT,  # 310.00
    "balc": ACCOUNT_CREDIT - 1714 - OP_ACCT - IP_ACCT,  # 2958.98 − 740.80 = 2218.18
}  # fmt: skip
STAY_CUM = {
    "admissions": 1, "dedc.inpatient": SZ_DEDC, "inscp.inpatient": 198800,
    "hifp.inpatient": IP_HIFP, "eligible.inpatient": 198800 - SZ_DEDC,
    "serious_base": IP_SERIOUS_BASE,
}  # fmt: skip

Moves = dict[str, tuple[int, int]]  # account code → (debits, credits) in fen


def amounts(setlinfo: Mapping[str, object], expected: Mapping[str, int]) -> dict[str, int]:
    """The answer's amounts named in ``expected``, in fen (for one readable assert)."""
    return {k: fen(setlinfo[k]) for k in expected}


def ledger_totals(province: sa.Engine, codes: list[str]) -> Moves:
    with province.connect() as conn:
        rows = ledger.account_balances(conn, FAR_FUTURE)
    found = {b.account_code: (b.debits, b.credits) for b in rows}
    return {c: found.get(c, (0, 0)) for c in codes}


def moved(before: Moves, after: Moves) -> Moves:
    """What each account moved between two readings, zero movements left out."""
    out = {}
    for code in after:
        d = (after[code][0] - before[code][0], after[code][1] - before[code][1])
        if d != (0, 0):
            out[code] = d
    return out


def test_pharmacy_outpatient_inpatient_and_cancellations_for_one_person(
    province: sa.Engine, client: ClientFactory
) -> None:
    with province.begin() as conn:
        who = register(conn, SZ, name="深圳在职职工")
    shop, hosp = client(PHARMACY), client(HOSPITAL)
    fund, acct = f"FUND:{SZ}:310100", f"ACCT:{who.psn_no}"
    serious, pay_h, pay_p = f"FUND:{SZ}:330100", f"PAY:{HOSPITAL}", f"PAY:{PHARMACY}"
    codes = [fund, serious, acct, pay_h, pay_p]

    # 1. pharmacy: the account pays 17.14 to the pharmacy; no fund money, no accumulators
    before = ledger_totals(province, codes)
    sale = pharmacy(shop, patient(shop, who), DRUGS)
    assert amounts(sale.setlinfo, PHARMACY_SETL) == PHARMACY_SETL
    assert sale.funds() == {"310200": 1714}  # the account line (not a fund)
    assert moved(before, ledger_totals(province, codes)) == {acct: (1714, 0), pay_p: (0, 1714)}
    assert cumulative(shop, who.psn_no) == {}

    # 2. outpatient: 统筹 pays 28.96 and the account 23.88, both owed to the hospital
    p = patient(hosp, who)
    before = ledger_totals(province, codes)
    op = open_outpatient(hosp, p, OUTPATIENT_FEES)
    settle_outpatient(hosp, p, op, OUTPATIENT_SPLIT)
    assert amounts(op.setlinfo, OUTPATIENT_SETL) == OUTPATIENT_SETL
    assert op.funds() == {"310100": OP_HIFP, "310200": OP_ACCT}
    assert moved(before, ledger_totals(province, codes)) == {
        fund: (OP_HIFP, 0),
        acct: (OP_ACCT, 0),
        pay_h: (0, OP_HIFP + OP_ACCT),
    }
    assert cumulative(hosp, who.psn_no) == OUTPATIENT_CUM

    # 3. inpatient: the outpatient counters are kept next to the new inpatient ones
    before = ledger_totals(province, codes)
    stay = admit(hosp, p)
    upload_stay_fees(hosp, p, stay, STAY_FEES[:3])
    upload_stay_fees(hosp, p, stay, STAY_FEES[3:])
    discharge(hosp, p, stay)
    settle_stay(hosp, p, stay, STAY_SPLIT)
    assert amounts(stay.setlinfo, STAY_SETL) == STAY_SETL
    assert stay.funds() == {"310100": IP_HIFP, "310200": IP_ACCT}
    assert moved(before, ledger_totals(province, codes)) == {
        fund: (IP_HIFP, 0),
        acct: (IP_ACCT, 0),
        pay_h: (0, IP_HIFP + IP_ACCT),
    }
    assert cumulative(hosp, who.psn_no) == {**OUTPATIENT_CUM, **STAY_CUM}
    stored = query_5203(hosp, p.psn_no, stay)  # what PostgreSQL kept, read back by 5203
    assert amounts(stored, STAY_SETL) == STAY_SETL

    # 4. 2208: the outpatient settlement mirrored; only its counters go back to zero
    before = ledger_totals(province, codes)
    undo = cancel(hosp, p, op, "2208")
    mirrored = {k: -v for k, v in OUTPATIENT_SETL.items() if k != "balc"}
    assert amounts(undo, mirrored) == mirrored
    assert fen(undo["balc"]) == STAY_SETL["balc"] + OP_ACCT
    assert moved(before, ledger_totals(province, codes)) == {
        fund: (0, OP_HIFP),
        acct: (0, OP_ACCT),
        pay_h: (OP_HIFP + OP_ACCT, 0),
    }
    assert cumulative(hosp, who.psn_no) == STAY_CUM

    # 5. 2305: the stay mirrored; the year is as if only the pharmacy purchase had happened
    before = ledger_totals(province, codes)
    undo = cancel(hosp, p, stay, "2305")
    mirrored = {k: -v for k, v in STAY_SETL.items() if k != "balc"}
    assert amounts(undo, mirrored) == mirrored
    assert fen(undo["balc"]) == PHARMACY_SETL["balc"]
    assert moved(before, ledger_totals(province, codes)) == {
        fund: (0, IP_HIFP),
        acct: (0, IP_ACCT),
        pay_h: (IP_HIFP + IP_ACCT, 0),
    }
    assert cumulative(hosp, who.psn_no) == {}


# -------------------------------------------------------------------------------- 省内异地
# A Huizhou employee (惠州 职工) in the same Shenzhen hospital, not filed (未备案):
# 惠州 职工住院 95 % − 20 个百分点 = 75 %; 异地起付线 1200.00; Huizhou has no 大额.
HZ_DEDC = 120000
HZ_HIFP = 59100  # (1988.00 − 1200.00) × 75 % = 591.00
HZ_PSN = 230000 - HZ_HIFP  # 1709.00
HZ_ACCT = HZ_PSN - 10000 - 21000  # 1399.00
HZ_SETL = {
    **STAY_SPLIT, "act_pay_dedc": HZ_DEDC, "hifp_pay": HZ_HIFP, "fund_pay_sumamt": HZ_HIFP,
    "psn_part_amt": HZ_PSN, "acct_pay": HZ_ACCT, "psn_cash_pay": HZ_PSN - HZ_ACCT,
    "balc": ACCOUNT_CREDIT - HZ_ACCT,
}  # fmt: skip


def test_cross_city_stay_goes_through_the_clearing_accounts(
    province: sa.Engine, client: ClientFactory
) -> None:
    with province.begin() as conn:
        who = register(conn, HZ, name="惠州在职职工")
    hosp = client(HOSPITAL)
    fund, acct, pay_h = f"FUND:{HZ}:310100", f"ACCT:{who.psn_no}", f"PAY:{HOSPITAL}"
    owed, advanced = f"CLR:{HZ}:{SZ}", f"CLR:{SZ}:{HZ}"  # Huizhou owes; Shenzhen advances
    codes = [fund, acct, pay_h, owed, advanced, f"FUND:{SZ}:310100"]
    p = patient(hosp, who)
    before = ledger_totals(province, codes)
    stay = admit(hosp, p)
    upload_stay_fees(hosp, p, stay, STAY_FEES)
    discharge(hosp, p, stay)
    settle_stay(hosp, p, stay, STAY_SPLIT)
    assert amounts(stay.setlinfo, HZ_SETL) == HZ_SETL
    total = HZ_HIFP + HZ_ACCT  # what the hospital is owed from Huizhou's money: 1990.00
    assert moved(before, ledger_totals(province, codes)) == {
        fund: (HZ_HIFP, 0),  # Huizhou's fund pays ...
        acct: (HZ_ACCT, 0),  # ... and the Huizhou account ...
        owed: (0, total),  # ... into what Huizhou owes Shenzhen,
        advanced: (total, 0),  # which Shenzhen advances ...
        pay_h: (0, total),  # ... to the hospital; Shenzhen's own fund does not move
    }
    assert cumulative(hosp, who.psn_no) == {
        "admissions": 1, "dedc.inpatient": HZ_DEDC, "inscp.inpatient": 198800,
        "hifp.inpatient": HZ_HIFP, "eligible.inpatient": 198800 - HZ_DEDC,
    }  # fmt: skip
    before = ledger_totals(province, codes)
    cancel(hosp, p, stay, "2305")
    assert moved(before, ledger_totals(province, codes)) == {
        fund: (0, HZ_HIFP), acct: (0, HZ_ACCT), owed: (total, 0), advanced: (0, total),
        pay_h: (total, 0),
    }  # fmt: skip
    assert cumulative(hosp, who.psn_no) == {}
