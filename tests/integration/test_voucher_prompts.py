"""Payment prompts (支付确认提示) on PostgreSQL: one per pre-settlement, with its amounts, replaced
by a later pre-settlement, superseded by a new code at the same institution, gone once settled."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.integration.test_voucher import FakeClock, _activate, clock, people, svc
from yibao.voucher import prompts
from yibao.voucher import queries as vouchers
from yibao.voucher.service import VoucherService

__all__ = ["clock", "people", "svc"]  # the fixtures of test_voucher


def _token(svc: VoucherService, org: str) -> str:
    code = str(svc.issue_code("wechat", "u1")["code"])
    return str(svc.exchange(code, org_id=org, business_type="01101")["ecToken"])


def test_one_prompt_per_pre_settlement_until_settled(
    engine: Engine, svc: VoucherService, people: list[dict[str, str]], clock: FakeClock
) -> None:
    p = people[3]
    _activate(svc, p)
    first = _token(svc, "H44010000001")

    def open_prompts() -> list[dict[str, object]]:
        with engine.connect() as conn:
            who = vouchers.channel_holder(conn, "wechat", "u1")
            return vouchers.pending_tokens(conn, who, clock.now)

    assert open_prompts() == []  # a scan alone asks nothing
    assert prompts.ask(engine, first, {"medfee_sumamt": 1484, "psn_cash_pay": 1484})
    assert [(r["ec_token"], r["prompt"]["medfee_sumamt"]) for r in open_prompts()] == [
        (first, 1484)
    ]
    # the same code pre-settled again: still one prompt, with the new amount
    assert prompts.ask(engine, first, {"medfee_sumamt": 2000, "psn_cash_pay": 2000})
    assert [r["prompt"]["medfee_sumamt"] for r in open_prompts()] == [2000]
    # a new code at the same counter supersedes the unsettled one; another institution's stays
    second = _token(svc, "H44010000001")
    other = _token(svc, "P44010000001")
    prompts.ask(engine, second, {"medfee_sumamt": 300})
    prompts.ask(engine, other, {"medfee_sumamt": 4500})
    assert {r["ec_token"] for r in open_prompts()} == {second, other}
    # settled: gone, and a settled token cannot be prompted again
    prompts.settled(engine, second)
    assert [r["ec_token"] for r in open_prompts()] == [other]
    assert not prompts.ask(engine, second, {"medfee_sumamt": 1})
    assert not prompts.ask(engine, "no-such-token", {"medfee_sumamt": 1})
