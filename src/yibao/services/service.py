"""Online service desk (网上服务大厅): the service catalogue and policy Q&A (边问边办).

:func:`catalogue` is the data in ``data/catalogue.yaml``. :func:`ask` answers a Chinese question
with the clause it rests on (document, number, date), the parameter in force for the asker's
region and date (from the same dated policy files the settlement engine uses, via
:func:`yibao.policy.resolve`) and the catalogue entry that does the matching action — or
"未找到依据" when no passage is a confident match. The index is built once per process.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from yibao.clock import CHINA
from yibao.policy import PolicyError, resolve
from yibao.policy.loader import policy_dir
from yibao.policy.schema import SPECS
from yibao.services.qa import Hit, Index, Passage, confident, passages_from

DATA = Path(__file__).parent / "data"
NOT_FOUND = "未找到依据"


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    name: str
    category: str
    channels: tuple[str, ...]
    inputs: tuple[str, ...]
    time_limit: str
    entry: str
    doc: str
    keywords: str
    limit_key: str = ""

    @property
    def method(self) -> str:
        return self.entry.split(" ", 1)[0] if " " in self.entry else "GET"

    @property
    def path(self) -> str:
        return self.entry.split(" ", 1)[-1]


@lru_cache(maxsize=1)
def catalogue() -> tuple[Service, ...]:
    raw = yaml.safe_load((DATA / "catalogue.yaml").read_text(encoding="utf-8"))
    return tuple(Service(id=s["id"], name=s["name"], category=s["category"],
                         channels=tuple(s["channels"]), inputs=tuple(s["inputs"]),
                         time_limit=s["time_limit"], entry=s["entry"], doc=s["doc"],
                         keywords=s.get("keywords", ""), limit_key=s.get("limit_key", ""))
                 for s in raw["services"])  # fmt: skip


def service_by_id(sid: str) -> Service | None:
    return next((s for s in catalogue() if s.id == sid), None)


def _param_passages() -> list[Passage]:
    """One passage per parameter key that a shipped policy file sets (text: its Chinese label
    and the files' descriptions); the answer resolves its value for the asker."""
    descs: dict[str, list[str]] = {}
    for f in sorted(policy_dir().rglob("*.yaml")):
        doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        for key, body in (doc.get("parameters") or {}).items():
            d = body.get("description") if isinstance(body, dict) else None
            descs.setdefault(key, [])
            if d and str(d) not in descs[key]:
                descs[key].append(str(d))
    out = []
    for key in sorted(descs):
        spec = SPECS.get(key)
        if spec is None:
            continue
        out.append(Passage(id=f"param:{key}", title=spec.label, text="；".join([spec.label, *descs[key]]),
                           doc="政策参数", keys=(key,)))  # fmt: skip
    return out


@lru_cache(maxsize=1)
def index() -> Index:
    raw = yaml.safe_load((DATA / "policy_texts.yaml").read_text(encoding="utf-8"))
    return Index.build([*passages_from(raw["passages"]), *_param_passages()])


def _parameters(p: Passage, admdvs: str, on: date) -> list[dict[str, Any]]:
    if not admdvs or not p.keys:
        return []
    try:
        pol = resolve(admdvs, on)
    except PolicyError:
        return []
    out = []
    for key in p.keys:
        if not pol.has(key):
            continue
        use = pol.use(key)
        out.append({"key": key, "label": use.label, "value": use.shown, "since": use.since.isoformat() if use.since else "",
                    "region": use.region, "reference": use.reference, "assumed": use.assumed})  # fmt: skip
    return out


def _service_for(hit: Hit, question: str) -> Service | None:
    if hit.passage.service:
        return service_by_id(hit.passage.service)
    words = {s.id: sum(1 for w in s.keywords.split() if w in question) for s in catalogue()}
    best = max(words.items(), key=lambda kv: kv[1])
    return service_by_id(best[0]) if best[1] else service_by_id("ask")


def ask(question: str, admdvs: str = "", on: date | None = None) -> dict[str, Any]:
    """The answer to ``question`` for an insured of ``admdvs`` on ``on`` (default today)."""
    q = question.strip()
    on = on or datetime.now(CHINA).date()  # the bureau's day (北京时间)
    if not q:
        return {"found": False, "message": "请输入问题"}
    hits = index().search(q, k=3)
    if not hits or not confident(hits[0]):
        return {"found": False, "message": f"{NOT_FOUND}：政策语料中没有与该问题相符的条文，请换一种问法或到医保经办窗口咨询。",
                "candidates": [h.passage.id for h in hits]}  # fmt: skip
    top = hits[0]
    p = top.passage
    params = _parameters(p, admdvs, on)
    svc = _service_for(top, q)
    source = " ".join(x for x in (p.doc, p.doc_no, p.date) if x) or "政策参数文件"
    if p.id.startswith("param:"):
        source = (
            "；".join(f"{x['reference']}" for x in params)
            or "政策参数文件（请选择参保地以显示在用参数）"
        )
    answer = (
        p.text
        if not params
        else p.text
        + " 您所选参保地在 "
        + on.isoformat()
        + " 执行："
        + "；".join(f"{x['label']} {x['value']}（自 {x['since']} 起）" for x in params)
    )
    return {
        "found": True, "answer": answer, "clause": p.text, "title": p.title,
        "source": {"doc": p.doc, "doc_no": p.doc_no, "date": p.date, "ref": p.ref, "text": source,
                   "region": p.region},
        "parameters": params, "passage": p.id, "score": round(top.score, 3),
        "service": asdict(svc) if svc else None, "alternatives": [h.passage.id for h in hits[1:]],
        "admdvs": admdvs, "on": on.isoformat(),
    }  # fmt: skip
