"""Scoring the Q&A against ``data/qa_eval.yaml``: hit@1, hit@3 and correct refusals."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from yibao.services.qa import confident
from yibao.services.service import DATA, index


@dataclass(slots=True)
class Score:
    asked: int = 0  # questions with an expected source
    hit1: int = 0
    hit3: int = 0
    negatives: int = 0  # questions that must be refused
    refused_ok: int = 0
    wrongly_refused: int = 0
    misses: list[tuple[str, list[str], list[str]]] = field(default_factory=list)

    def line(self) -> str:
        return (f"hit@1 {self.hit1}/{self.asked} = {self.hit1 / self.asked:.1%}, "
                f"hit@3 {self.hit3}/{self.asked} = {self.hit3 / self.asked:.1%}, "
                f"refusals {self.refused_ok}/{self.negatives}, wrongly refused {self.wrongly_refused}")  # fmt: skip


def evaluate() -> Score:
    rows = yaml.safe_load((DATA / "qa_eval.yaml").read_text(encoding="utf-8"))["questions"]
    s = Score()
    for r in rows:
        expect = r["expect"]
        hits = index().search(r["q"], k=3)
        ok = bool(hits) and confident(hits[0])
        if expect == "none":
            s.negatives += 1
            s.refused_ok += not ok
            if ok:
                s.misses.append((r["q"], ["none"], [h.passage.id for h in hits]))
            continue
        want = [expect] if isinstance(expect, str) else list(expect)
        s.asked += 1
        got = [h.passage.id for h in hits] if ok else []
        s.wrongly_refused += not ok
        if got[:1] and got[0] in want:
            s.hit1 += 1
        if any(g in want for g in got[:3]):
            s.hit3 += 1
        else:
            s.misses.append((r["q"], want, [h.passage.id for h in hits]))
    return s
