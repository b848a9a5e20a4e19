"""Policy Q&A retrieval (边问边办): Okapi BM25 over jieba tokens, offline, on the CPU.

The corpus is built at start from package data (quoted clauses with their sources,
``data/policy_texts.yaml``) and from the policy files' parameter catalogue (one passage per
parameter key that some region sets, answered with the value in force for the asker). No network,
no model download: jieba ships its dictionary in the wheel. An answer needs a passage that shares
enough of the question's terms (:data:`MIN_SCORE`, :data:`MIN_TERMS`); otherwise "未找到依据".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import bm25s

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

K1, B = 1.5, 0.75
MIN_SCORE = 1.6  # tuned on data/qa_eval.yaml (docs/qa.md), Lucene scale: below it no passage is a source
MIN_TERMS = 2  # distinct question terms the best passage must contain (one if it is a domain term)
DOMAIN = [
    "零星报销",
    "零报",
    "手工报销",
    "医保码",
    "医保电子凭证",
    "电子凭证",
    "起付线",
    "起付标准",
    "异地就医",
    "备案",
    "大病保险",
    "医疗救助",
    "家庭共济",
    "个人账户",
    "可支付月数",
    "滞纳金",
    "缓缴",
    "减征",
    "减半",
    "先行自付",
    "乙类",
    "等待期",
    "灵活就业",
    "激活率",
    "镇办",
    "医共体",
    "总额付费",
    "一站式",
    "支付比例",
    "支付限额",
    "门诊统筹",
    "亲情账户",
    "支付密码",
    "资助参保",
    "财政补助",
    "特困",
    "低保",
    "低保边缘",
    "急诊",
    "转诊",
    "临时外出",
    "长期居住",
    "异地安置",
    "统筹基金",
    "重大疾病",
    "激活",
    "发票",
    "办结",
    "缴费基数",
    "广水",
    "深圳",
    "广州",
    "珠海",
    "兴宁",
    "惠州",
    "汕尾",
    "梅州",
    "退休",
    "在职",
    "居民",
    "职工",
]
SYNONYMS = {
    "零报": ["零星报销"], "手工报销": ["零星报销"], "垫付": ["零星报销", "垫付"],
    "医保码": ["电子凭证"], "医保电子凭证": ["电子凭证"], "起付线": ["起付标准", "起付线"],
    "起付标准": ["起付线"], "报销比例": ["支付比例"], "封顶线": ["支付限额"], "封顶": ["支付限额"],
    "外地": ["异地"], "跨省": ["异地"], "救助": ["医疗救助"], "大病": ["大病保险"],
    "多久": ["时间", "办结"], "几天": ["时间", "办结"], "滞纳": ["滞纳金"], "延期": ["缓缴"],
}  # fmt: skip
STOP = set(
    [
        "的",
        "了",
        "是",
        "吗",
        "呢",
        "吧",
        "啊",
        "么",
        "怎么",
        "怎样",
        "怎么样",
        "多少",
        "什么",
        "我",
        "我们",
        "你",
        "在",
        "可以",
        "可",
        "如何",
        "能",
        "能否",
        "要",
        "和",
        "与",
        "及",
        "或",
        "有",
        "有没有",
        "没有",
        "这",
        "那",
        "哪些",
        "哪",
        "个",
        "把",
        "被",
        "就",
        "都",
        "还",
        "也",
        "后",
        "前",
        "时",
        "里",
        "对",
        "给",
        "为",
        "按",
        "请问",
        "一下",
        "需要",
        "应该",
        "会",
        "是否",
        "去",
        "到",
        "从",
        "上",
        "下",
        "中",
        "等",
        "及其",
        "以及",
        "其",
        "之",
        "每",
        "该",
        "本",
        "如果",
        "一个",
        "现在",
        "今年",
        "自己",
        "想",
        "问",
        "好",
    ]
)
_TOKEN_OK = re.compile(r"[\u4e00-\u9fff]|[A-Za-z0-9]{2,}")
_jieba_ready = False


def _jieba() -> object:
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        jieba.setLogLevel(logging.WARNING)
        for w in DOMAIN:
            jieba.add_word(w, freq=20000)
        _jieba_ready = True
    return jieba


def tokens(text: str) -> list[str]:
    """Search-mode jieba tokens without stop words and punctuation, with domain synonyms."""
    jieba = _jieba()
    out: list[str] = []
    for t in jieba.lcut_for_search(text):  # type: ignore[attr-defined]
        t = t.strip()
        if not t or t in STOP or not _TOKEN_OK.search(t):
            continue
        out.append(t)
        out.extend(SYNONYMS.get(t, ()))
    return out


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrievable clause (条文) with where it comes from."""

    id: str
    title: str
    text: str
    doc: str = ""
    doc_no: str = ""
    date: str = ""
    ref: str = ""
    region: str = ""
    keys: tuple[str, ...] = ()
    service: str = ""


@dataclass(frozen=True, slots=True)
class Hit:
    passage: Passage
    score: float
    matched: tuple[str, ...]


@dataclass(slots=True)
class Index:
    """BM25 over :func:`tokens` (bm25s, Lucene variant, k1 = 1.5, b = 0.75).

    Lucene's term weight leaves out BM25's constant ``k1 + 1`` factor, so its scores are the
    classic Okapi scores divided by 2.5; the ranking is the same (:data:`MIN_SCORE` is on
    Lucene's scale).
    """

    passages: list[Passage]
    terms: list[frozenset[str]]
    ranker: bm25s.BM25

    @classmethod
    def build(cls, passages: Iterable[Passage]) -> Index:
        ps = list(passages)
        docs = [tokens(f"{p.title} {p.title} {p.text} {p.doc}") for p in ps]
        ranker = bm25s.BM25(k1=K1, b=B, method="lucene")
        ranker.index(docs, show_progress=False)
        return cls(ps, [frozenset(d) for d in docs], ranker)

    def search(self, question: str, k: int = 3) -> list[Hit]:
        q = list(dict.fromkeys(tokens(question)))
        if not q or not self.passages:
            return []
        scores = self.ranker.get_scores(q)
        scored = [
            Hit(p, float(s), tuple(t for t in q if t in terms))
            for p, terms, s in zip(self.passages, self.terms, scores, strict=True)
            if s > 0
        ]
        scored.sort(key=lambda h: (-h.score, h.passage.id))
        return scored[:k]


def confident(hit: Hit) -> bool:
    """Whether the best hit may be quoted as the answer's source (else 未找到依据)."""
    domain = any(t in DOMAIN and len(t) >= 2 for t in hit.matched)
    return hit.score >= MIN_SCORE and (len(set(hit.matched)) >= MIN_TERMS or domain)


def passages_from(rows: Sequence[dict[str, object]]) -> list[Passage]:
    out = []
    for r in rows:
        out.append(Passage(
            id=str(r["id"]), title=str(r["title"]), text=str(r["text"]), doc=str(r.get("doc") or ""),
            doc_no=str(r.get("doc_no") or ""), date=str(r.get("date") or ""), ref=str(r.get("ref") or ""),
            region=str(r.get("region") or ""), keys=tuple(str(k) for k in (r.get("keys") or ())),  # type: ignore[attr-defined]
            service=str(r.get("service") or ""),
        ))  # fmt: skip
    return out
