"""Case files (案例文件): one bill to check, written in YAML by a policy analyst.

Format (docs/cases.md has the full description and examples)::

    title: 深圳 职工 二级医院 住院
    region: "440300"            # insured region (参保地); its policy is applied
    date: 2025-07-01            # policy date; default: encounter begntime
    overrides: {}               # optional: key → value or {value, reference}
    person: {psn_no: P1, insutype: "310", psn_type: "11", age: 45, tier: "1"}
    encounter:
      med_type: "21"
      hosp_lv: "5"
      begntime: 2025-07-01
      items:
        - {sn: "1", name: 床位费, class: "01", amount: 800}
        - {sn: "2", name: 乙类药, class: "02", pric: 12.5, cnt: 4, first_pay: 0.1}
    accumulators: {admissions: 1}   # year-to-date, amounts in yuan
    expect: {hifp_pay: 1234.56}     # optional (golden tests): setlinfo fields in yuan

Amounts are yuan with at most 2 decimals. Unknown fields are refused with their path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from yibao.catalog.defaults import default_first_pay
from yibao.money import MoneyError, line_amount, parse_ratio, yuan_to_fen
from yibao.policy.loader import TextDateLoader, resolve
from yibao.policy.model import ASSISTANCE_CLASSES, ResolvedPolicy
from yibao.settlement.engine import settle
from yibao.settlement.model import (
    CLASS_B,
    Accumulators,
    AssistanceClass,
    Encounter,
    Item,
    Person,
    SettlementResult,
)


class CaseError(ValueError):
    """A case file that cannot be read (案例文件错误): names the field and the rule."""


_TOP = {
    "encounters", "title", "source", "region", "date", "overrides", "person", "encounter",
    "accumulators", "expect", "expect_funds", "note",
}  # fmt: skip
_PERSON = {
    "psn_no", "insutype", "psn_type", "insuplc_admdvs", "age", "cvlserv_flag", "tier",
    "enrol_months", "assistance", "pool_only",
}  # fmt: skip
_ENC = {
    "med_type", "hosp_lv", "level", "mdtrtarea_admvs", "begntime", "endtime", "admission_no",
    "filing", "dise_codg", "acct_used_flag", "psn_setlway", "items",
}  # fmt: skip
_ITEM = {
    "sn", "code", "name", "class", "amount", "pric", "cnt", "first_pay", "price_limit",
    "in_catalog", "limited_use", "approval", "list_type", "item_type", "nego",
}  # fmt: skip
_ACC_COUNTS = {"year", "admissions"}
_ACC_MAPS = {"dedc", "inscp", "hifp", "eligible", "chronic", "maf_base", "maf_pay"}
_ACC_AMOUNTS = {
    "serious_base",
    "serious_pay",
    "cvlserv_pay",
    "maf2_base",
    "maf2_pay",
    "acct_balc",
    "mulaid_balc",
}


@dataclass(frozen=True)
class Step:
    """One encounter of a case, with its own expectations."""

    encounter: Encounter
    expect: dict[str, int]
    expect_funds: dict[str, int]


@dataclass(frozen=True)
class Case:
    """A parsed case: everything ``settle`` needs, plus the optional expectations."""

    title: str
    source: str
    region: str
    on: date
    overrides: dict[str, Any]
    person: Person
    encounter: Encounter
    accumulators: Accumulators
    expect: dict[str, int] = field(default_factory=dict)  # setlinfo field → fen
    expect_funds: dict[str, int] = field(default_factory=dict)  # fund_pay_type → fen
    path: str = ""
    steps: tuple[Step, ...] = ()  # every encounter in order (the first is ``encounter``)

    def policy(self) -> ResolvedPolicy:
        return resolve(self.region, self.on, self.overrides or None)

    def run(self) -> SettlementResult:
        """Settle the (first) encounter."""
        return settle(self.person, self.encounter, self.accumulators, self.policy())

    def run_all(self) -> list[SettlementResult]:
        """Settle every encounter in order, carrying the accumulators from one to the next."""
        acc = self.accumulators
        out = []
        for step in self.steps or (Step(self.encounter, self.expect, self.expect_funds),):
            result = settle(
                self.person,
                step.encounter,
                acc,
                resolve(
                    self.region,
                    step.encounter.begntime if len(self.steps) > 1 else self.on,
                    self.overrides or None,
                ),
            )
            acc = acc.plus(result.deltas)
            out.append(result)
        return out


def _check(raw: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise CaseError(f"{where}: expected a mapping")
    extra = set(map(str, raw)) - allowed
    if extra:
        raise CaseError(
            f"{where}: unknown field(s) {sorted(extra)} (allowed: {', '.join(sorted(allowed))})"
        )
    return {str(k): v for k, v in raw.items()}


def _fen(v: Any, where: str) -> int:
    try:
        fen = yuan_to_fen(v, where)
    except MoneyError as exc:
        raise CaseError(str(exc)) from exc
    return fen


def _day(v: Any, where: str) -> date:
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v))
    except ValueError as exc:
        raise CaseError(f"{where}: {v!r} is not a date (YYYY-MM-DD)") from exc


def _code(v: Any) -> str:
    return str(v)


def _item(raw: Any, i: int, first_pay: Callable[[], Decimal]) -> Item:
    w = f"encounter.items[{i}]"
    d = _check(raw, _ITEM, w)
    sn = str(d.get("sn", i + 1))
    lv = _code(d.get("class", "01"))
    if lv not in ("01", "02", "03"):
        raise CaseError(f"{w}.class: {lv!r} must be 01 甲 / 02 乙 / 03 丙")
    cnt = Decimal(str(d.get("cnt", 1)))
    try:
        if "amount" in d:
            amount = _fen(d["amount"], f"{w}.amount")
            pric = Decimal(str(d.get("pric", Decimal(amount) / 100 / cnt if cnt else 0)))
        elif "pric" in d:
            pric = Decimal(str(d["pric"]))
            amount = line_amount(pric, cnt)
        else:
            raise CaseError(f"{w}: give 'amount' (yuan) or 'pric' and 'cnt'")
        prop = parse_ratio(d["first_pay"], f"{w}.first_pay") if "first_pay" in d else None
    except MoneyError as exc:
        raise CaseError(str(exc)) from exc
    if prop is None:
        prop = first_pay() if lv == CLASS_B else Decimal(0)
    limit = d.get("price_limit")
    return Item(
        feedetl_sn=sn,
        med_list_codg=str(d.get("code", f"CASE-{sn}")),
        name=str(d.get("name", "")),
        list_type=_code(d.get("list_type", "101")),
        chrgitm_lv=lv,
        med_chrgitm_type=_code(d.get("item_type", "09")),
        det_item_fee_sumamt=amount,
        cnt=cnt,
        pric=pric,
        selfpay_prop=prop,
        pric_uplmt_amt=None if limit is None else _fen(limit, f"{w}.price_limit"),
        lmt_used_flag="1" if d.get("limited_use") else "0",
        hosp_appr_flag=_code(d.get("approval", "0")),
        hi_nego_drug_flag="1" if d.get("nego") else "0",
        in_catalog=bool(d.get("in_catalog", True)),
    )


def _accumulators(raw: Any, year: int) -> Accumulators:
    d = _check(raw or {}, _ACC_COUNTS | _ACC_MAPS | _ACC_AMOUNTS, "accumulators")
    kw: dict[str, Any] = {"year": int(d.get("year", year))}
    if "admissions" in d:
        kw["admissions"] = int(d["admissions"])
    for k in _ACC_MAPS & set(d):
        m = d[k]
        if not isinstance(m, dict):
            raise CaseError(f"accumulators.{k}: expected a mapping (e.g. inpatient: 1000)")
        kw[k] = {str(s): _fen(v, f"accumulators.{k}.{s}") for s, v in m.items()}
    for k in _ACC_AMOUNTS & set(d):
        kw[k] = _fen(d[k], f"accumulators.{k}")
    return Accumulators(**kw)


def parse_case(raw: Any, path: str = "") -> Case:
    """Build a :class:`Case` from parsed YAML."""
    d = _check(raw, _TOP, "case")
    for req in ("region", "person"):
        if req not in d:
            raise CaseError(f"case: '{req}' is required")
    region = str(d["region"])
    p = _check(d["person"], _PERSON, "person")
    for req in ("insutype", "psn_type"):
        if req not in p:
            raise CaseError(f"person.{req}: required")
    assistance = []
    for i, a in enumerate(p.get("assistance") or []):
        a = _check(a, {"class", "from", "to"}, f"person.assistance[{i}]")
        if a.get("class") not in ASSISTANCE_CLASSES:
            raise CaseError(
                f"person.assistance[{i}].class: {a.get('class')!r} is not one of {', '.join(ASSISTANCE_CLASSES)}"
            )
        assistance.append(
            AssistanceClass(
                str(a["class"]),
                _day(a.get("from", "1900-01-01"), f"person.assistance[{i}].from"),
                None if a.get("to") is None else _day(a["to"], f"person.assistance[{i}].to"),
            )
        )
    person = Person(
        psn_no=str(p.get("psn_no", "CASE")),
        insutype=_code(p["insutype"]),
        psn_type=_code(p["psn_type"]),
        insuplc_admdvs=str(p.get("insuplc_admdvs", region)),
        age=int(p.get("age", 40)),
        cvlserv_flag=bool(p.get("cvlserv_flag", False)),
        tier=None if p.get("tier") is None else str(p["tier"]),
        enrol_months=int(p.get("enrol_months", 120)),
        assistance=tuple(assistance),
        pool_only=bool(p.get("pool_only", False)),
    )
    if ("encounter" in d) == ("encounters" in d):
        raise CaseError("case: give either 'encounter' or 'encounters' (a list, settled in order)")
    if "encounters" in d:
        if not isinstance(d["encounters"], list) or not d["encounters"]:
            raise CaseError("encounters: a non-empty list is required")
        if "expect" in d or "expect_funds" in d:
            raise CaseError("expect: with 'encounters', put expect under each encounter")
        raws = [(f"encounters[{i}]", x) for i, x in enumerate(d["encounters"])]
    else:
        raws = [
            (
                "encounter",
                {
                    **(d["encounter"] or {}),
                    **{k: d[k] for k in ("expect", "expect_funds") if k in d},
                },
            )
        ]
    first = raws[0][1] if isinstance(raws[0][1], dict) else {}
    if "begntime" not in first and "date" not in d:
        raise CaseError(f"{raws[0][0]}.begntime: required (or a case 'date')")
    begin = _day(first.get("begntime", d.get("date")), f"{raws[0][0]}.begntime")
    on = _day(d.get("date", begin), "date")
    overrides = dict(d.get("overrides") or {})
    resolve(region, on, overrides or None)  # refuses a bad region or override here
    steps = tuple(_step(w, raw, person, begin) for w, raw in raws)
    acc = _accumulators(d.get("accumulators"), begin.year)
    return Case(
        title=str(d.get("title", Path(path).stem if path else "case")),
        source=str(d.get("source", "")),
        region=region,
        on=on,
        overrides=overrides,
        person=person,
        encounter=steps[0].encounter,
        accumulators=acc,
        expect=steps[0].expect,
        expect_funds=steps[0].expect_funds,
        path=path,
        steps=steps,
    )


def _first_pay(where: str, admdvs: str, day: date) -> Callable[[], Decimal]:
    """The 乙类 default first-pay ratio of the treatment place's catalogue (就医地目录) on
    ``day``, read when an item needs it (catalogs/<region>/region.yaml ``selfpay_defaults``)."""

    def get() -> Decimal:
        d = default_first_pay(admdvs, day)
        if d is None:
            raise CaseError(
                f"{where}.first_pay: 乙类 item without first_pay, and the catalogue of {admdvs} "
                f"has no 乙类 default (selfpay_defaults) in force on {day.isoformat()}"
            )
        return d.selfpay_prop

    return get


def _step(where: str, raw: Any, person: Person, default_day: date) -> Step:
    e = _check(raw, _ENC | {"expect", "expect_funds"}, where)
    items_raw = e.get("items") or []
    if not isinstance(items_raw, list) or not items_raw:
        raise CaseError(f"{where}.items: a non-empty list of fee lines is required")
    area = str(e.get("mdtrtarea_admvs", person.insuplc_admdvs))
    day = _day(e.get("begntime", default_day), f"{where}.begntime")
    try:
        items = tuple(
            _item(x, i, _first_pay(f"{where}.items[{i}]", area, day))
            for i, x in enumerate(items_raw)
        )
    except CaseError as exc:
        raise CaseError(str(exc).replace("encounter.items", f"{where}.items", 1)) from exc
    encounter = Encounter(
        med_type=_code(e.get("med_type", "11")),
        mdtrtarea_admvs=area,
        begntime=day,
        items=items,
        hosp_lv=_code(e.get("hosp_lv", "11")),
        level=None if e.get("level") is None else _code(e["level"]),
        endtime=None if e.get("endtime") is None else _day(e["endtime"], f"{where}.endtime"),
        admission_no=None if e.get("admission_no") is None else int(e["admission_no"]),
        filing=str(e.get("filing", "unfiled")),
        dise_codg=None if e.get("dise_codg") is None else str(e["dise_codg"]),
        acct_used_flag=_code(e.get("acct_used_flag", "1")),
        psn_setlway=_code(e.get("psn_setlway", "01")),
    )
    expect: dict[str, int] = {}
    for k, v in (e.get("expect") or {}).items():
        if k == "pool_prop_selfpay":  # a ratio, kept in 1/10000 units
            try:
                expect[k] = int(parse_ratio(v, "expect.pool_prop_selfpay") * 10_000)
            except MoneyError as exc:
                raise CaseError(str(exc)) from exc
        else:
            expect[str(k)] = _fen(v, f"expect.{k}")
    expect_funds = {
        str(k): _fen(v, f"expect_funds.{k}") for k, v in (e.get("expect_funds") or {}).items()
    }
    return Step(encounter, expect, expect_funds)


def load_case(path: str | Path) -> Case:
    """Read one case file."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        raw = yaml.load(text, TextDateLoader)
    except yaml.YAMLError as exc:
        raise CaseError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return parse_case(raw, str(path))
    except CaseError as exc:
        raise CaseError(f"{path}: {exc}") from exc


def check_expectations(case: Case | Step, result: SettlementResult) -> list[str]:
    """Differences between the ``expect``/``expect_funds`` of a case (or one of its steps) and
    the result (empty = pass)."""
    problems = []
    for k, want in case.expect.items():
        got = getattr(result.setlinfo, k, None)
        if k == "pool_prop_selfpay" and got is not None:
            units = int(got * 10_000)
            if units != want:
                problems.append(f"{k}: expected {want / 10_000:.4f}, got {got:.4f}")
            continue
        if got is None:
            problems.append(f"expect.{k}: not a setlinfo amount field")
        elif got != want:
            problems.append(f"{k}: expected {want / 100:.2f}, got {got / 100:.2f}")
    funds: Mapping[str, int] = {d.fund_pay_type: d.fund_payamt for d in result.setldetail}
    for k, want in case.expect_funds.items():
        got = funds.get(k, 0)
        if got != want:
            problems.append(f"fund {k}: expected {want / 100:.2f}, got {got / 100:.2f}")
    return problems
