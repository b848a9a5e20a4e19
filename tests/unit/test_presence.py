"""The presence rule (就诊凭证核验), pure: each credential type against the facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yibao.voucher.presence import Facts, PresenceRefused, Presented, check, check_relayed

NOW = datetime(2026, 10, 23, 9, 0, tzinfo=UTC)
ORG = "H44030000001"
PSN = "4403000000000001"
CERTNO = "44030519880714357X"
PERSON = Facts(psn_no=PSN, psn_cert_type="01", certno=CERTNO, psn_name="欧阳明轩")


def refusal(presented: Presented, facts: Facts, psn_no: str = PSN) -> PresenceRefused:
    with pytest.raises(PresenceRefused) as e:
        check(presented, facts, psn_no=psn_no, fixmedins_code=ORG, now=NOW, where="input.data")
    return e.value


def passes(presented: Presented, facts: Facts) -> None:
    check(presented, facts, psn_no=PSN, fixmedins_code=ORG, now=NOW, where="input.data")


def test_id_card() -> None:
    passes(Presented("02", CERTNO.lower()), PERSON)
    passes(Presented("02", CERTNO, psn_name="欧阳明轩", certno=CERTNO), PERSON)
    assert (
        refusal(Presented("02", "440305198807143571"), PERSON).field == "input.data.mdtrt_cert_no"
    )
    assert refusal(Presented("02", ""), PERSON).field == "input.data.mdtrt_cert_no"
    assert refusal(Presented("02", CERTNO, psn_name="别人"), PERSON).field == "input.data.psn_name"
    assert refusal(Presented("02", CERTNO, certno="X1"), PERSON).field == "input.data.certno"
    passport = Facts(psn_no=PSN, psn_cert_type="08", certno=CERTNO, psn_name="A")
    assert refusal(Presented("02", CERTNO), passport).field == "input.data.mdtrt_cert_no"


def test_an_unknown_person_reads_like_a_wrong_credential() -> None:
    wrong = refusal(Presented("02", "440305198807143571"), PERSON)
    unknown = refusal(Presented("02", "440305198807143571"), Facts(), psn_no=PSN)
    assert str(wrong) == str(unknown)


def test_ec_token() -> None:
    token = {"token_psn_no": PSN, "token_org_id": ORG,
             "token_expires_at": NOW + timedelta(hours=1), "voucher_active": True}  # fmt: skip
    ok = Facts(**{**_facts(PERSON), **token})
    passes(Presented("01", "tok"), ok)
    assert "无效" in refusal(Presented("01", "tok"), PERSON).rule  # no such token
    expired = Facts(**{**_facts(ok), "token_expires_at": NOW})
    assert "过期" in refusal(Presented("01", "tok"), expired).rule
    other_org = Facts(**{**_facts(ok), "token_org_id": "H44030000002"})
    assert "本机构" in refusal(Presented("01", "tok"), other_org).rule
    other_person = Facts(**{**_facts(ok), "token_psn_no": "4403000000000002"})
    assert PSN in refusal(Presented("01", "tok"), other_person).rule
    revoked = Facts(**{**_facts(ok), "voucher_active": False})
    assert "注销" in refusal(Presented("01", "tok"), revoked).rule


def _facts(f: Facts) -> dict[str, object]:
    return {name: getattr(f, name) for name in Facts.__slots__}


def test_social_security_card() -> None:
    card = Facts(
        **{**_facts(PERSON), "card_psn_no": PSN, "card_sn": "ABCDEF12", "card_valid": True}
    )
    passes(Presented("03", "D44030088", card_sn="abcdef12"), card)
    passes(Presented("03", "D44030088"), card)
    assert refusal(Presented("03", "D44030088", card_sn="00000000"), card).field.endswith("card_sn")
    invalid = Facts(**{**_facts(card), "card_valid": False})
    assert refusal(Presented("03", "D44030088"), invalid).field.endswith("mdtrt_cert_no")
    someone_elses = Facts(**{**_facts(card), "card_psn_no": "4403000000000002"})
    assert refusal(Presented("03", "D44030088"), someone_elses).field.endswith("mdtrt_cert_no")


def test_relayed_person_is_compared_with_what_the_insured_side_confirmed() -> None:
    person = {"certno": CERTNO, "psn_cert_type": "01", "psn_name": "欧阳明轩"}
    check_relayed(Presented("02", CERTNO, psn_name="欧阳明轩"), person, where="w")
    check_relayed(Presented("01", "tok"), person, where="w")
    with pytest.raises(PresenceRefused, match=r"w\.mdtrt_cert_no"):
        check_relayed(Presented("02", "440305198807143571"), person, where="w")
    with pytest.raises(PresenceRefused, match=r"w\.psn_name"):
        check_relayed(Presented("01", "tok", psn_name="别人"), person, where="w")
    with pytest.raises(PresenceRefused, match=r"w\.certno"):
        check_relayed(Presented("03", "D1", certno="440305198807143571"), person, where="w")
