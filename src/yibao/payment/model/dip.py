"""DIP grouper (按病种分值付费): core and comprehensive disease groups. Pure.

A DIP group is a "diagnosis + treatment" combination (疾病诊断+治疗方式) found in a region's own
case history, not a national tree (payment-reform.md §6.1). The tables (:class:`DipTables`) are
data; grouping is a lookup:

1. **Core groups (核心病种)**: the principal diagnosis's key (a prefix of the code, e.g. ``J18.9``,
   longest key first) with a procedure set. A group matches when each of its procedure keys is a
   prefix of one of the case's procedures; the group with the most procedures wins, then the
   higher treatment type. A group with no procedures (保守治疗) matches only a case without a
   counted procedure.
2. **Comprehensive groups (综合病种)**: the principal diagnosis's category (first 3 characters)
   with the case's treatment type — the highest type among its procedures as classified by the
   procedure-type table (相关手术 > 治疗性操作 > 诊断性操作; none: 保守治疗).
3. Nothing matches: 无法入组 (paid by item; settled by 特例单议 if the region says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from yibao.payment.model.case import GroupCase, Status
from yibao.payment.model.drg import Manifest

TREAT_TYPES = ("conservative", "diagnostic", "therapeutic", "surgery")
TREAT_LABELS: Mapping[str, str] = {
    "conservative": "保守治疗",
    "diagnostic": "诊断性操作",
    "therapeutic": "治疗性操作",
    "surgery": "相关手术",
}
TREAT_RANK: Mapping[str, int] = {t: i for i, t in enumerate(TREAT_TYPES)}
KINDS = ("core", "comprehensive")
KIND_LABELS = {"core": "核心病种", "comprehensive": "综合病种"}
LEVELS = ("1", "2", "3")  # 一级 / 二级 / 三级 (institution level for the average cost)


@dataclass(frozen=True, slots=True)
class DipGroup:
    code: str
    name: str
    kind: str  # core | comprehensive
    dx_key: str
    procs: tuple[str, ...]  # procedure keys (prefixes of ICD-9-CM-3 codes)
    treat_type: str
    score: Decimal  # 病种分值
    avg_cost: Mapping[str, int]  # level → previous year's average cost of the group (fen)


@dataclass(frozen=True)
class DipTables:
    manifest: Manifest
    core_by_dx: Mapping[str, tuple[DipGroup, ...]]
    comprehensive: Mapping[tuple[str, str], DipGroup]  # (3-char category, treat type)
    proc_types: tuple[tuple[str, str], ...]  # (procedure prefix, treat type), longest first
    key_lengths: tuple[int, ...]  # distinct core dx_key lengths, longest first
    groups: Mapping[str, DipGroup]


def compile_tables(
    manifest: Manifest, groups: list[DipGroup], proc_types: list[tuple[str, str]]
) -> DipTables:
    core: dict[str, list[DipGroup]] = {}
    comp: dict[tuple[str, str], DipGroup] = {}
    for g in groups:
        if g.kind == "core":
            core.setdefault(g.dx_key, []).append(g)
        else:
            comp[(g.dx_key, g.treat_type)] = g
    ordered = {
        k: tuple(sorted(v, key=lambda g: (-len(g.procs), -TREAT_RANK[g.treat_type], g.code)))
        for k, v in core.items()
    }
    return DipTables(
        manifest=manifest,
        core_by_dx=ordered,
        comprehensive=comp,
        proc_types=tuple(sorted(proc_types, key=lambda p: (-len(p[0]), p[0]))),
        key_lengths=tuple(sorted({len(k) for k in core}, reverse=True)),
        groups={g.code: g for g in groups},
    )


@dataclass(frozen=True, slots=True)
class DipResult:
    """The grouping of one case (3606 分组结果)."""

    status: Status
    version: str
    code: str = ""
    kind: str = ""
    treat_type: str = ""
    score: Decimal | None = None
    grp_diag_code: str = ""
    oprn_grp_code: str = ""
    steps: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


def treat_type_of(t: DipTables, procs: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The case's treatment type and the procedures that count (classified by the table)."""
    best, counted = "conservative", []
    for p in procs:
        for prefix, kind in t.proc_types:
            if p.startswith(prefix):
                counted.append(p)
                if TREAT_RANK[kind] > TREAT_RANK[best]:
                    best = kind
                break
    return best, tuple(counted)


def _covers(group: DipGroup, procs: tuple[str, ...]) -> bool:
    return all(any(p.startswith(k) for p in procs) for k in group.procs)


def group(t: DipTables, case: GroupCase) -> DipResult:
    """Group one case (DIP分组)."""
    version = t.manifest.version
    dx = case.principal_dx
    if not dx:
        return DipResult(Status.INVALID, version, steps=("主要诊断为空",))
    treat, counted = treat_type_of(t, case.procedures)
    steps = [f"治疗方式：{TREAT_LABELS[treat]}" + (f"（{'、'.join(counted)}）" if counted else "")]
    for n in t.key_lengths:
        candidates = t.core_by_dx.get(dx[:n])
        if not candidates:
            continue
        for g in candidates:
            if (g.procs and _covers(g, counted)) or (not g.procs and not counted):
                steps.append(f"核心病种 {g.code} {g.name}")
                return DipResult(
                    Status.OK,
                    version,
                    g.code,
                    g.kind,
                    g.treat_type,
                    g.score,
                    g.dx_key,
                    "+".join(g.procs),
                    tuple(steps),
                )
    comp = t.comprehensive.get((dx[:3], treat))
    if comp is not None:
        steps.append(f"无匹配核心病种，入综合病种 {comp.code} {comp.name}")
        return DipResult(
            Status.OK,
            version,
            comp.code,
            comp.kind,
            comp.treat_type,
            comp.score,
            comp.dx_key,
            "",
            tuple(steps),
        )
    steps.append(f"主要诊断 {dx} 无匹配的核心或综合病种（无法入组）")
    return DipResult(Status.NO_GROUP, version, steps=tuple(steps))
