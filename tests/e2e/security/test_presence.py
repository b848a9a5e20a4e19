"""Finding 2 (issue 10): every visit-opening and settling call is tied to the patient's credential.

Over HTTP against a live server: with only a ``psn_no`` and a wrong ``certno``/``psn_name`` (no
1101), 2101/2102 debited the personal account; 2201 with ``mdtrt_cert_type`` 01 and a made-up
ecToken opened a visit; 5206 confirmed 30 of 30 guessed ``psn_no``. Now each of 2201, 2401,
2101, 2102, 2206, 2207, 2303, 2304 checks the credential (01 ecToken of this institution and this
person, 02 ID number, 03 registered card and chip id, a given name), refuses naming the field and
writes nothing; 5201/5205/5206 answer only with a visit or a live proof of presence, and an
unknown ``psn_no`` gets the same refusal as a real one.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.conftest import new_database
from tests.e2e.conftest import ServerProcess
from tests.e2e.settlement.conftest import HOSPITAL, PERSONS, PHARMACY, make, seed_world
from yibao.checkout import demo as persons
from yibao.client import NhsaClient, NhsaError
from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine
from yibao.hissim import flows
from yibao.registry import service as registry
from yibao.voucher.service import VoucherService
from yibao.voucher.verifier import demo_evidence

OTHER_HOSPITAL = "H44030000002"
TABLES = ("encounter", "encounter_settlement", "personal_account_posting", "ledger_transfer")


@pytest.fixture(scope="module")
def world_url(pg: EmbeddedPostgres, template_url: str) -> Iterator[tuple[str, Engine]]:
    url = new_database(pg, template_url)
    engine = make_engine(url, pool_size=2)
    seed_world(engine)
    yield url, engine
    engine.dispose()


@pytest.fixture(scope="module")
def server(world_url: tuple[str, Engine]) -> Iterator[str]:
    s = ServerProcess(world_url[0])
    s.start()
    yield s.url
    s.stop()


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    """Demo persons insured in 深圳 (440300), employees first (they have a personal account)."""
    out = [r for r in persons.demo_rows(PERSONS) if r["insuplc_admdvs"] == "440300"]
    return sorted(out, key=lambda r: r["insutype"] != "310")


@pytest.fixture
def hospital(server: str) -> Iterator[NhsaClient]:
    c = make(server, HOSPITAL)
    yield c
    c.close()


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES
        }


def psn_no_of(engine: Engine, certno: str) -> str:
    with engine.connect() as conn:
        found = registry.find_psn_no_by_cert(conn, "01", certno)
    assert found
    return found


def ec_token(engine: Engine, row: dict[str, str], org: str, user: str) -> str:
    """A real ecToken: activation on a channel, a dynamic code, the institution's exchange."""
    svc = VoucherService(engine)
    svc.register_channel("wechat", "微信", "wechat", "secret-wechat-test")
    svc.activate("wechat", user, psn_name=row["psn_name"], psn_cert_type="01",
                 certno=row["certno"], evidence=demo_evidence(row["certno"]))  # fmt: skip
    code = str(svc.issue_code("wechat", user)["code"])
    return str(svc.exchange(code, org_id=org, business_type="01101")["ecToken"])


def refused(r: Any, field: str) -> str:
    assert r.infcode == -1, r.body
    assert r.err_msg.startswith(field + ":"), r.err_msg
    return str(r.err_msg)


def _pharmacy_input(row: dict[str, str], psn_no: str, **cred: str) -> dict[str, Any]:
    drugs = flows.pick_lines(random.Random(1), "440300", 2, list_types=("101", "102"))
    for d in drugs:
        d["fee_ocur_time"] = flows.now_text()
    total = sum(d["det_item_fee_sumamt"] for d in drugs)
    info = {"psn_no": psn_no, "mdtrt_cert_type": "02", "mdtrt_cert_no": row["certno"],
            "psn_cert_type": "01", "certno": row["certno"], "psn_name": row["psn_name"],
            "begntime": flows.now_text(), "medfee_sumamt": total, "insutype": row["insutype"],
            "acct_used_flag": "1", "med_type": "41", **cred}  # fmt: skip
    return flows.plain({"druginfo": info, "drugdetail": drugs})


def test_pharmacy_needs_the_patients_credential(
    server: str, world_url: tuple[str, Engine], rows: list[dict[str, str]]
) -> None:
    _, engine = world_url
    victim, other = rows[0], rows[1]
    psn_no = psn_no_of(engine, victim["certno"])
    before = counts(engine)
    with make(server, PHARMACY) as c:
        wrong_no = _pharmacy_input(victim, psn_no, mdtrt_cert_no=other["certno"], certno="")
        for infno in ("2101", "2102"):
            refused(c.call(infno, wrong_no), "input.druginfo.mdtrt_cert_no")
        wrong_name = _pharmacy_input(victim, psn_no, psn_name="冒名顶替")
        refused(c.call("2102", wrong_name), "input.druginfo.psn_name")
        wrong_certno = _pharmacy_input(victim, psn_no, certno=other["certno"])
        refused(c.call("2102", wrong_certno), "input.druginfo.certno")
        assert counts(engine) == before  # nothing written: no sale, no debit
        ok = c.call("2102", _pharmacy_input(victim, psn_no))
        assert ok.infcode == 0, ok.body


def test_ectoken_must_be_live_bound_to_this_institution_and_this_person(
    server: str, world_url: tuple[str, Engine], rows: list[dict[str, str]], hospital: NhsaClient
) -> None:
    _, engine = world_url
    p, q = rows[2], rows[3]
    psn_no = psn_no_of(engine, p["certno"])
    mine = ec_token(engine, p, HOSPITAL, "u-p")
    theirs = ec_token(engine, q, HOSPITAL, "u-q")
    elsewhere = ec_token(engine, p, OTHER_HOSPITAL, "u-p")

    def register(token: str) -> Any:
        data = {"psn_no": psn_no, "insutype": p["insutype"], "begntime": flows.now_text(),
                "mdtrt_cert_type": "01", "mdtrt_cert_no": token,
                "ipt_otp_no": f"MZ{random.randrange(10**10):010d}", "atddr_no": "D1",
                "dr_name": "王医生", "dept_code": "A01", "dept_name": "内科", "caty": "A03"}  # fmt: skip
        return hospital.call("2201", {"data": data})

    before = counts(engine)
    made_up = "440300ec" + "0" * 32
    assert "无效" in refused(register(made_up), "input.data.mdtrt_cert_no")
    assert "本机构" in refused(register(elsewhere), "input.data.mdtrt_cert_no")
    assert psn_no in refused(register(theirs), "input.data.mdtrt_cert_no")
    assert counts(engine) == before
    assert register(mine).infcode == 0


def _visit(c: NhsaClient, p: flows.Patient) -> tuple[flows.Visit, dict[str, Any]]:
    """An outpatient visit up to the fee upload, and the 2206/2207 data the HIS would send."""
    v = flows.outpatient(c, p, random.Random(3), settle=False)
    data = flows.plain({**v.calls[-1].request["input"]["data"]})
    totals = flows.split_totals(flows.ok(v.calls[2])["result"])
    return v, {**data, **flows.plain(totals), "invono": "FP1"}


def test_outpatient_settlement_checks_the_credential_again(
    world_url: tuple[str, Engine], rows: list[dict[str, str]], hospital: NhsaClient
) -> None:
    _, engine = world_url
    p = flows.lookup(hospital, rows[4]["certno"])
    other = rows[5]
    _, data = _visit(hospital, p)
    before = counts(engine)
    for infno in ("2206", "2207"):
        r = hospital.call(infno, {"data": {**data, "mdtrt_cert_no": other["certno"]}})
        refused(r, "input.data.mdtrt_cert_no")
        r = hospital.call(infno, {"data": {**data, "psn_name": "别人"}})
        refused(r, "input.data.psn_name")
    assert counts(engine) == before
    assert hospital.call("2207", {"data": data}).infcode == 0


def test_inpatient_admission_and_settlement_check_the_credential(
    world_url: tuple[str, Engine], rows: list[dict[str, str]], hospital: NhsaClient
) -> None:
    p = flows.lookup(hospital, rows[6]["certno"])
    bad = dataclasses.replace(p, mdtrt_cert_no=rows[7]["certno"])
    with pytest.raises(NhsaError, match=r"2401: input\.mdtrtinfo\.mdtrt_cert_no"):
        flows.inpatient(hospital, bad, random.Random(4), days=1)
    v = flows.inpatient(hospital, p, random.Random(4), days=1, settle=False)
    data = flows.plain(v.calls[-1].request["input"]["data"])
    for infno in ("2303", "2304"):
        wrong = {**data, "mdtrt_cert_no": rows[7]["certno"], "certno": rows[7]["certno"]}
        refused(hospital.call(infno, {"data": wrong}), "input.data.mdtrt_cert_no")
    assert hospital.call("2304", {"data": {**data, "invono": "ZY1"}}).infcode == 0


def test_social_security_card_is_checked_against_the_card_register(
    world_url: tuple[str, Engine], rows: list[dict[str, str]], hospital: NhsaClient
) -> None:
    _, engine = world_url
    row = rows[8]
    psn_no = psn_no_of(engine, row["certno"])
    with engine.begin() as conn:
        registry.issue_card(conn, psn_no, "D44030088", "639900D15600000500BF7C7A48FB4966")

    def register(card_no: str, card_sn: str) -> Any:
        data = {"psn_no": psn_no, "insutype": row["insutype"], "begntime": flows.now_text(),
                "mdtrt_cert_type": "03", "mdtrt_cert_no": card_no, "card_sn": card_sn,
                "ipt_otp_no": f"MZ{random.randrange(10**10):010d}", "atddr_no": "D1",
                "dr_name": "王医生", "dept_code": "A01", "dept_name": "内科", "caty": "A03"}  # fmt: skip
        return hospital.call("2201", {"data": data})

    refused(register("D44030099", "639900D15600000500BF7C7A48FB4966"), "input.data.mdtrt_cert_no")
    refused(register("D44030088", "639900D15600000500BF7C7A48FB0000"), "input.data.card_sn")
    info = {"mdtrt_cert_type": "03", "mdtrt_cert_no": "D44030088",
            "card_sn": "639900D15600000500BF7C7A48FB4966"}  # fmt: skip
    assert hospital.call("1101", {"data": info}).output["baseinfo"]["psn_no"] == psn_no
    assert register("D44030088", "639900D15600000500BF7C7A48FB4966").infcode == 0


def test_unknown_and_real_person_numbers_get_the_same_refusal(
    world_url: tuple[str, Engine], rows: list[dict[str, str]], hospital: NhsaClient
) -> None:
    _, engine = world_url
    real = psn_no_of(engine, rows[9]["certno"])
    unknown = real[:-4] + "9999"

    def register(psn_no: str) -> str:
        data = {"psn_no": psn_no, "insutype": "310", "begntime": flows.now_text(),
                "mdtrt_cert_type": "02", "mdtrt_cert_no": rows[10]["certno"],
                "ipt_otp_no": "MZ1", "atddr_no": "D1", "dr_name": "王医生",
                "dept_code": "A01", "dept_name": "内科", "caty": "A03"}  # fmt: skip
        msg = refused(hospital.call("2201", {"data": data}), "input.data.mdtrt_cert_no")
        return msg.replace(psn_no, "<psn_no>")

    assert register(real) == register(unknown)


def test_queries_answer_only_with_a_visit_or_a_proof_of_presence(
    server: str, world_url: tuple[str, Engine], rows: list[dict[str, str]]
) -> None:
    _, engine = world_url
    row = rows[11]
    real = psn_no_of(engine, row["certno"])
    with make(server, "H44030000003") as c:  # an institution the person never visited

        def cum(psn_no: str) -> Any:
            return c.call("5206", {"data": {"psn_no": psn_no, "cum_ym": "202601"}})

        prefix, number = real[:6], int(real[6:])
        guesses = [f"{prefix}{n:0{len(real) - 6}d}" for n in range(number - 15, number + 15)]
        answers = {cum(g).err_msg.replace(g, "<psn_no>") for g in guesses}
        assert len(answers) == 1 and "就诊记录或有效就诊凭证" in answers.pop()  # 30 of 30 refused
        r = c.call("5201", {"data": {"psn_no": real, "begntime": "2026-01-01",
                                     "endtime": "2026-12-31", "med_type": ""}})  # fmt: skip
        refused(r, "input.data.psn_no")
        flows.lookup(c, row["certno"])  # 1101 by ID card: the person is at this counter
        assert cum(real).infcode == 0
