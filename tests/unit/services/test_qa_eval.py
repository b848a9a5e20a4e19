"""The policy Q&A on its evaluation set (≥ 50 questions): hit@1, hit@3 and refusals (docs/qa.md)."""

from __future__ import annotations

from datetime import date

import yaml

from yibao.services import service
from yibao.services.evaluation import evaluate


def test_evaluation_set_is_large_enough_and_scores() -> None:
    rows = yaml.safe_load((service.DATA / "qa_eval.yaml").read_text(encoding="utf-8"))["questions"]
    assert sum(1 for r in rows if r["expect"] != "none") >= 50
    ids = {p.id for p in service.index().passages}
    for r in rows:
        for want in [r["expect"]] if isinstance(r["expect"], str) else r["expect"]:
            assert want == "none" or want in ids, want
    s = evaluate()
    print(s.line())
    assert s.hit1 / s.asked >= 0.85 and s.hit3 / s.asked >= 0.90
    assert s.refused_ok == s.negatives


def test_answer_quotes_source_parameter_and_service() -> None:
    a = service.ask("深圳住院起付线是多少钱？", "440300", date(2026, 6, 1))
    assert a["found"] and a["source"]["doc_no"] == "深圳市人民政府令第358号"
    assert a["parameters"] and a["parameters"][0]["key"] == "employee.inpatient.deductible"
    assert a["service"] is not None
    none = service.ask("火车票怎么退票", "440300")
    assert not none["found"] and none["message"].startswith("未找到依据")


def test_every_catalogue_entry_names_channels_inputs_limit_and_entry() -> None:
    for s in service.catalogue():
        assert s.name and s.channels and s.inputs and s.time_limit and s.entry
