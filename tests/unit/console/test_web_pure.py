"""Pure helpers of the console: simulator state, picked items, trace rows, labels."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yibao.web import sim
from yibao.web.labels import code_label, with_code
from yibao.web.routes_sim_counter import _picked
from yibao.web.sources.settlements import _fen, normalise_trace


def test_counter_state_round_trips_through_the_form() -> None:
    c = sim.Counter("P44010000001", psn_no="4401000000000001", ec_token="440100ec" + "0" * 32)
    c.lines = [
        sim.Line(
            "0001", "XJ01CAA007A002558977458", "阿莫西林胶囊", "101", Decimal("0.16"), Decimal("24")
        )
    ]
    c.totals = {"medfee_sumamt": "3.84"}
    back = sim.Counter.from_json(c.to_json())
    assert back == c
    assert back.pharmacy and back.lines[0].amount == Decimal("3.84")


def test_line_amount_rounds_half_up_to_the_fen() -> None:
    assert sim.Line("1", "X", "x", "101", Decimal("0.125"), Decimal("1")).amount == Decimal("0.13")


def test_picked_items_skip_empty_and_refuse_non_numbers() -> None:
    form = {
        "qty:A": "2",
        "name:A": "甲",
        "pric:A": "1.50",
        "lt:A": "101",
        "qty:B": "",
        "qty:C": "0",
    }
    lines = _picked(form)
    assert [(x.med_list_codg, x.cnt, x.amount) for x in lines] == [
        ("A", Decimal(2), Decimal("3.00"))
    ]
    with pytest.raises(sim.SimError, match="不是数字"):
        _picked({"qty:A": "两盒"})


def test_demo_channel_only() -> None:
    with pytest.raises(sim.SimError, match="不支持的演示渠道"):
        sim.channel_call("http://127.0.0.1:1", "evil", "/api/voucher/channel/code", {})


def test_trace_rows_from_the_engine_format() -> None:
    rows = normalise_trace(
        [
            {
                "step": "deductible",
                "label": "起付线",
                "amount": "1600.00",
                "detail": "起付标准 1600.00",
                "params": [
                    {
                        "key": "k",
                        "label": "起付线",
                        "value": "1600",
                        "since": "2022-12-01",
                        "source": "广州医保",
                        "assumed": False,
                    },
                    {
                        "key": "a",
                        "label": "假设参数",
                        "value": "1",
                        "since": "",
                        "source": "原因",
                        "assumed": True,
                    },
                ],
            },
            "junk",
        ]
    )
    assert rows == [
        {
            "step": "起付线",
            "amount": "1,600.00 元",
            "explain": "起付标准 1600.00",
            "params": [
                {
                    "name": "起付线",
                    "key": "k",
                    "value": "1600",
                    "reference": "广州医保",
                    "since": "2022-12-01 起",
                },
                {
                    "name": "假设参数",
                    "key": "a",
                    "value": "1",
                    "reference": "原因（假设值）",
                    "since": "",
                },
            ],
        }
    ]


def test_amounts_from_json_accept_fen_or_yuan_strings() -> None:
    assert _fen(12345) == 12345
    assert _fen("123.45") == 12345
    assert _fen(None) == 0 and _fen("") == 0


def test_code_labels() -> None:
    assert code_label("insutype", "310") == "职工基本医疗保险"
    assert code_label("gend", "2") == "女"  # shipped yibao.codes table
    assert with_code("med_type", "41") == "定点药店购药（41）"
    assert with_code("insutype", "") == "—"
