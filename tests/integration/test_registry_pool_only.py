"""单建统筹 (pool-only employee insurance) from the registry to the engine: the enrolment flag
(migration registry_0002, default 统账结合) reaches the settlement snapshot, both reads of it
(the ORM read and the one-round-trip settlement read) and the engine's person groups."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from yibao.checkout.model import engine_person
from yibao.registry import service, store
from yibao.registry.model import Enrolment
from yibao.settlement.engine import _group_chain

DAY = date(2025, 8, 1)


def _person(conn: object, certno_seq: int, pool_only: bool | None) -> str:
    from yibao.registry.certs import compose_id18, id18_gender

    certno = compose_id18("440402", date(1956, 4, 4), certno_seq)
    psn_no = service.register_person(
        conn,  # type: ignore[arg-type]
        psn_cert_type="01", certno=certno, psn_name="测试", gend=id18_gender(certno),
        brdy=date(1956, 4, 4), admdvs="440400",
    )  # fmt: skip
    kw = {} if pool_only is None else {"pool_only": pool_only}
    service.enrol(
        conn,  # type: ignore[arg-type]
        psn_no,
        Enrolment("310", "1", date(2000, 1, 1), "21", "440400", emp_no="E1", **kw),  # type: ignore[arg-type]
    )
    return psn_no


def test_pool_only_reaches_the_engine_and_defaults_to_combined(engine: Engine) -> None:
    with engine.begin() as conn:
        single = _person(conn, 11, True)
        combined = _person(conn, 12, None)
        for psn_no, want in ((single, True), (combined, False)):
            snap = service.snapshot_for_settlement(conn, psn_no, "310", DAY)
            assert snap.pool_only is want
            facts = store.settlement_facts(conn, psn_no)
            assert facts is not None and facts[1][0].pool_only is want
            person = engine_person(snap)
            assert person.pool_only is want
        assert _group_chain(
            engine_person(service.snapshot_for_settlement(conn, single, "310", DAY)), "employee"
        ) == ("retired_pool_only", "retired")
