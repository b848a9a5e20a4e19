"""DRG grouper (按病组, CHS-DRG): MDC → ADRG → DRG with CC/MCC and exclusion tables. Pure.

The rules are data (:class:`DrgTables`, built from versioned table files by
:mod:`yibao.payment.tables`); this module only walks them (payment-reform.md §5):

1. **MDC** (主要诊断大类): in the scheme's order, the first MDC whose entry rule holds — the main
   procedure is in one of its ADRG procedure lists (MDCA 先期分组), or the principal diagnosis is
   in its principal-diagnosis table (主诊表), with its sex (MDCM 男 / MDCN 女) and age limits
   (MDCP 新生儿: 出生年龄 < 29 天).
2. **ADRG** (核心疾病诊断相关组): inside the MDC, the first ADRG (surgical, then non-OR, then
   medical, in table order) whose rule holds: ``main_dx`` 主要诊断, ``main_proc`` 主要手术或操作,
   ``main_dx+main_proc``, ``any_dx`` 主要或其他诊断, ``any_proc`` 任一手术操作, each optionally
   with a condition on newborn weight or age (``weight_g=0-1500``: 0 ≤ weight < 1500 g).
3. **DRG** (细分组): suffix 1 with an MCC, 3 with a CC (or an MCC when the ADRG has no "1"
   group), else 5; 9 when the ADRG is not split. An other diagnosis counts as CC/MCC only if the
   principal diagnosis is not in that CC's exclusion table (排除表 ``表 7-n``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from yibao.payment.model.case import GroupCase, Status

ENTRY_RULES = ("principal_dx", "main_proc")
ADRG_RULES = ("main_dx", "main_proc", "main_dx+main_proc", "any_dx", "any_proc")
#: the lists each ADRG rule reads (adrg_list.tsv ``list`` column)
RULE_LISTS: Mapping[str, tuple[str, ...]] = {
    "main_dx": ("main_dx",),
    "main_proc": ("main_proc",),
    "main_dx+main_proc": ("main_dx", "main_proc"),
    "any_dx": ("any_dx",),
    "any_proc": ("any_proc",),
}
LIST_NAMES = ("main_dx", "main_proc", "any_dx", "any_proc")
COND_FIELDS = ("weight_g", "age_days", "age_years")
SPLITS = ("mcc", "cc", "none")
#: ADRG type by the second letter of its code (payment-reform.md §5.3)
KIND_LETTERS: Mapping[str, str] = {
    **dict.fromkeys("ABCDEFGHIJ", "surgical"),
    **dict.fromkeys("KLMNOPQ", "non_or"),
    **dict.fromkeys("RSTUVWXYZ", "medical"),
}
KIND_LABELS = {"surgical": "外科手术组", "non_or": "非手术室操作组", "medical": "内科组"}


@dataclass(frozen=True, slots=True)
class Mdc:
    code: str  # MDCA … MDCZ
    name: str
    order: int
    entry: str  # principal_dx | main_proc
    sex: str = ""  # "" any, 1 男, 2 女
    max_age_days: int | None = None  # newborn MDC: age in days must be below this


@dataclass(frozen=True, slots=True)
class Cond:
    """A condition on a case figure: ``lo ≤ value < hi`` (value must be known)."""

    name: str  # weight_g | age_days | age_years
    lo: int
    hi: int

    def holds(self, case: GroupCase) -> bool:
        value = getattr(case, self.name)
        return value is not None and self.lo <= value < self.hi

    def __str__(self) -> str:
        return f"{self.name}∈[{self.lo},{self.hi})"


@dataclass(frozen=True, slots=True)
class Adrg:
    code: str  # e.g. ES3
    mdc: str
    name: str
    kind: str  # surgical | non_or | medical
    order: int
    rule: str
    conds: tuple[Cond, ...] = ()


@dataclass(frozen=True, slots=True)
class Drg:
    code: str  # e.g. ES31
    adrg: str
    name: str
    split: str  # mcc | cc | none


@dataclass(frozen=True, slots=True)
class CcEntry:
    level: str  # MCC | CC
    table: str  # exclusion table, e.g. "7-101"


@dataclass(frozen=True, slots=True)
class Manifest:
    """A table set's identity (清单): scheme, region, version, validity, source."""

    kind: str  # drg | dip
    scheme: str  # e.g. CHS-DRG-1.1
    region: str  # admdvs
    version: str
    effective_from: str  # ISO date
    effective_to: str  # ISO date or ""
    source: str
    assumed: bool = False
    reason: str = ""
    path: str = ""


@dataclass(frozen=True)
class DrgTables:
    """One DRG scheme version for a region, compiled for lookups."""

    manifest: Manifest
    mdcs: tuple[Mdc, ...]  # in order
    dx_mdcs: Mapping[str, frozenset[str]]  # principal dx → MDCs whose 主诊表 lists it
    adrgs_by_mdc: Mapping[str, tuple[Adrg, ...]]  # in order
    lists: Mapping[tuple[str, str], frozenset[str]]  # (adrg, list) → codes
    drgs_by_adrg: Mapping[str, Mapping[str, Drg]]  # adrg → split → DRG
    cc: Mapping[str, CcEntry]
    exclusions: Mapping[str, frozenset[str]]  # table → principal dx codes
    weights: Mapping[str, Decimal]  # drg → relative weight (RW)
    names: Mapping[str, str] = field(default_factory=dict)  # mdc/adrg/drg code → name
    mdc_procs: Mapping[str, frozenset[str]] = field(default_factory=dict)


def compile_tables(
    manifest: Manifest,
    mdcs: list[Mdc],
    mdc_dx: list[tuple[str, str]],
    adrgs: list[Adrg],
    adrg_lists: list[tuple[str, str, str]],
    drgs: list[Drg],
    cc: Mapping[str, CcEntry],
    exclusions: list[tuple[str, str]],
    weights: Mapping[str, Decimal],
) -> DrgTables:
    """Index checked rows for grouping (the loader has refused bad rows before this)."""
    dx_mdcs: dict[str, set[str]] = {}
    for mdc, dx in mdc_dx:
        dx_mdcs.setdefault(dx, set()).add(mdc)
    lists: dict[tuple[str, str], set[str]] = {}
    for adrg, name, code in adrg_lists:
        lists.setdefault((adrg, name), set()).add(code)
    by_mdc: dict[str, list[Adrg]] = {}
    kind_rank = {"surgical": 0, "non_or": 1, "medical": 2}
    for a in sorted(adrgs, key=lambda a: (kind_rank[a.kind], a.order, a.code)):
        by_mdc.setdefault(a.mdc, []).append(a)
    mdc_procs: dict[str, set[str]] = {}
    for a in adrgs:
        for name in ("main_proc", "any_proc"):
            mdc_procs.setdefault(a.mdc, set()).update(lists.get((a.code, name), set()))
    drgs_by: dict[str, dict[str, Drg]] = {}
    for d in drgs:
        drgs_by.setdefault(d.adrg, {})[d.split] = d
    excl: dict[str, set[str]] = {}
    for table, dx in exclusions:
        excl.setdefault(table, set()).add(dx)
    names = {m.code: m.name for m in mdcs}
    names.update({a.code: a.name for a in adrgs})
    names.update({d.code: d.name for d in drgs})
    return DrgTables(
        manifest=manifest,
        mdcs=tuple(sorted(mdcs, key=lambda m: (m.order, m.code))),
        dx_mdcs={k: frozenset(v) for k, v in dx_mdcs.items()},
        adrgs_by_mdc={k: tuple(v) for k, v in by_mdc.items()},
        lists={k: frozenset(v) for k, v in lists.items()},
        drgs_by_adrg=drgs_by,
        cc=dict(cc),
        exclusions={k: frozenset(v) for k, v in excl.items()},
        weights=dict(weights),
        names=names,
        mdc_procs={k: frozenset(v) for k, v in mdc_procs.items()},
    )


@dataclass(frozen=True, slots=True)
class DrgResult:
    """The grouping of one case (3605 分组结果) with the steps that led to it."""

    status: Status
    version: str
    mdc: str = ""
    adrg: str = ""
    drg: str = ""
    cc_level: str = ""  # MCC | CC | ""
    cc_code: str = ""  # the other diagnosis that set the level
    weight: Decimal | None = None
    steps: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


def _mdc_of(t: DrgTables, case: GroupCase, steps: list[str]) -> tuple[Mdc | None, Status]:
    listed = t.dx_mdcs.get(case.principal_dx, frozenset())
    sex_blocked = False
    for m in t.mdcs:
        if m.entry == "main_proc":
            if case.main_proc and case.main_proc in t.mdc_procs.get(m.code, frozenset()):
                steps.append(f"{m.code}：主要手术操作 {case.main_proc} 属先期分组")
                return m, Status.OK
            continue
        if m.code not in listed:
            continue
        if m.sex and case.sex != m.sex:
            sex_blocked = True
            continue
        if m.max_age_days is not None and not (
            case.age_days is not None and case.age_days < m.max_age_days and not case.age_years
        ):
            continue
        steps.append(f"{m.code}：主要诊断 {case.principal_dx} 在{m.name}主诊表内")
        return m, Status.OK
    if sex_blocked:
        return None, Status.SEX_MISMATCH
    return None, Status.NO_MDC


def _rule_holds(t: DrgTables, a: Adrg, case: GroupCase) -> bool:
    lists = t.lists
    if a.rule == "main_dx":
        hit = case.principal_dx in lists.get((a.code, "main_dx"), frozenset())
    elif a.rule == "main_proc":
        hit = bool(case.main_proc) and case.main_proc in lists.get(
            (a.code, "main_proc"), frozenset()
        )
    elif a.rule == "main_dx+main_proc":
        hit = case.principal_dx in lists.get((a.code, "main_dx"), frozenset()) and (
            case.main_proc in lists.get((a.code, "main_proc"), frozenset())
        )
    elif a.rule == "any_dx":
        wanted = lists.get((a.code, "any_dx"), frozenset())
        hit = any(d in wanted for d in case.diagnoses)
    else:  # any_proc
        wanted = lists.get((a.code, "any_proc"), frozenset())
        hit = any(p in wanted for p in case.procedures)
    return hit and all(c.holds(case) for c in a.conds)


def cc_level(t: DrgTables, case: GroupCase, steps: list[str] | None = None) -> tuple[str, str]:
    """The highest CC/MCC level among the other diagnoses, skipping excluded ones (排除表)."""
    level, code = "", ""
    for dx in case.other_dx:
        entry = t.cc.get(dx)
        if entry is None or dx == case.principal_dx:
            continue
        if case.principal_dx in t.exclusions.get(entry.table, frozenset()):
            if steps is not None:
                steps.append(
                    f"{dx} 为{entry.level}，但主要诊断 {case.principal_dx} 在其排除表"
                    f" 表{entry.table} 内，不计"
                )
            continue
        if entry.level == "MCC":
            if level != "MCC":
                level, code = "MCC", dx
        elif not level:
            level, code = "CC", dx
    if steps is not None and level:
        steps.append(
            f"{code} 计为{'严重并发症或合并症(MCC)' if level == 'MCC' else '并发症或合并症(CC)'}"
        )
    return level, code


def _split(groups: Mapping[str, Drg], level: str) -> Drg | None:
    if level == "MCC" and "mcc" in groups:
        return groups["mcc"]
    if level in ("MCC", "CC") and "cc" in groups:
        return groups["cc"]
    return groups.get("none")


def group(t: DrgTables, case: GroupCase) -> DrgResult:
    """Group one case (DRG分组); never raises for bad clinical data, answers a status instead."""
    version = t.manifest.version
    if not case.principal_dx:
        return DrgResult(Status.INVALID, version, steps=("主要诊断为空",))
    steps: list[str] = []
    mdc, status = _mdc_of(t, case, steps)
    if mdc is None:
        return DrgResult(status, version, steps=(status.label,))
    if mdc.max_age_days is not None and case.weight_g is None:
        steps.append("新生儿病案缺少出生或入院体重")
        return DrgResult(Status.NEWBORN, version, mdc=mdc.code, steps=tuple(steps))
    for a in t.adrgs_by_mdc.get(mdc.code, ()):
        if _rule_holds(t, a, case):
            steps.append(f"{a.code} {a.name}（{KIND_LABELS[a.kind]}，规则 {a.rule}）")
            level, code = cc_level(t, case, steps)
            drg = _split(t.drgs_by_adrg.get(a.code, {}), level)
            if drg is None:  # the loader guarantees a fallback; kept total for safety
                return DrgResult(Status.NO_GROUP, version, mdc.code, a.code, steps=tuple(steps))
            steps.append(f"{drg.code} {drg.name}")
            return DrgResult(
                Status.OK,
                version,
                mdc.code,
                a.code,
                drg.code,
                level,
                code,
                t.weights.get(drg.code),
                tuple(steps),
            )
    steps.append(f"{mdc.code} 内无匹配的ADRG（无法入组）")
    return DrgResult(Status.NO_GROUP, version, mdc.code, steps=tuple(steps))
