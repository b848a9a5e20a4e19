"""The registry and e-voucher demo seeders: all shipped regions, idempotent, usable personas."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy import Engine

from yibao.registry import demo as registry_demo
from yibao.registry import service
from yibao.voucher import demo as voucher_demo
from yibao.voucher.service import VoucherService


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in (
                "person",
                "enrolment",
                "person_identity",
                "household_member",
                "ec_voucher",
                "ec_activation_event",
            )
        }


def test_demo_seed_is_idempotent_and_covers_regions(engine: Engine) -> None:
    registry_demo.seed(engine)
    voucher_demo.seed(engine)
    first = _counts(engine)
    registry_demo.seed(engine)
    voucher_demo.seed(engine)
    assert _counts(engine) == first
    assert first["person"] >= 3000 and first["ec_voucher"] > 1000
    with engine.connect() as conn:
        regions = set(
            conn.execute(sa.text("SELECT DISTINCT insuplc_admdvs FROM enrolment")).scalars()
        )
        types = set(conn.execute(sa.text("SELECT DISTINCT insutype FROM enrolment")).scalars())
        retirees = conn.execute(
            sa.text("SELECT count(*) FROM enrolment WHERE psn_type = '21'")
        ).scalar_one()
        civil = conn.execute(
            sa.text("SELECT count(*) FROM enrolment WHERE insutype = '320'")
        ).scalar_one()
        zhang = service.find_psn_no_by_cert(conn, "01", registry_demo.ZHANG)
        assert zhang is not None
        snap = service.snapshot_for_settlement(conn, zhang, "310", date(2026, 6, 1))
    assert regions == {"440100", "440300", "440400", "441300", "441481", "421381"}
    assert {"310", "320", "330", "390"} <= types and retirees > 0 and civil > 0
    assert snap.acct_balance_fen == 100_000 and snap.supplementary_insutypes == ("330",)
    svc = VoucherService(engine)
    rates = svc.activation_rates("region")
    assert all(0 < int(r["activated"]) <= int(r["insured"]) for r in rates)
    assert {r["key"] for r in svc.activation_rates("channel")} == {
        "nhsa_app",
        "wechat",
        "alipay",
        "unionpay",
    }
    # the documented persona can show a code for the bound child
    code = svc.issue_code(
        "wechat",
        "demo-openid-zhang",
        for_psn_no=svc.family("wechat", "demo-openid-zhang")[0]["psnNo"],
    )  # type: ignore[arg-type]
    assert str(code["code"]).startswith("YB1.")
