"""Quality control of settlement lists (结算清单质控, 4104/3607): rules as data. Pure.

One rule per row (payment-reform.md §2.7 *Design*): id, the field checked (``exam_data_fld``),
level (``err_lv``), whether it sends the list back (``retn_flag``) and the message
(``qltctrl_chk_rslt``); the offending value is reported in ``init_val``. The rule set is versioned
(``qltctrl_ver``). The code values of ``err_lv``, ``retn_flag`` and ``qltctrl_rslt`` are NOT FOUND
in the interface's dictionaries; Yibao uses: err_lv 1 严重 (blocks payment) / 2 提示;
retn_flag 1 退回 / 0 不退回; qltctrl_rslt 1 通过 / 0 不通过.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from yibao.payment.model.case import DX_CODE, PROC_CODE, Status
from yibao.payment.model.setl_list import SettlementList

QC_VERSION = "YB-QC-2025.1"
ERR_SEVERE, ERR_HINT = "1", "2"
ERR_LABELS = {ERR_SEVERE: "严重", ERR_HINT: "提示"}
RESULT_PASS, RESULT_FAIL = "1", "0"


@dataclass(frozen=True, slots=True)
class QcRule:
    rule_id: str
    field: str  # exam_data_fld
    err_lv: str
    retn_flag: str
    message: str  # qltctrl_chk_rslt


QC_RULES: Mapping[str, QcRule] = {
    r.rule_id: r
    for r in (
        QcRule("QC01", "diag_code", ERR_SEVERE, "1", "诊断编码不符合医保版ICD-10编码格式"),
        QcRule(
            "QC02", "oprn_oprt_code", ERR_SEVERE, "1", "手术操作编码不符合医保版ICD-9-CM-3编码格式"
        ),
        QcRule("QC03", "diag_code", ERR_SEVERE, "1", "主要诊断与患者性别不符"),
        QcRule("QC04", "nwb_adm_wt", ERR_SEVERE, "1", "新生儿病案缺少出生或入院体重"),
        QcRule("QC05", "fund_payamt", ERR_SEVERE, "1", "清单基金支付信息与结算记录不一致"),
        QcRule("QC06", "diag_code", ERR_HINT, "0", "主要诊断未能入组，按项目付费"),
        QcRule("QC07", "setl_end_date", ERR_HINT, "0", "结算日期与结算记录不一致"),
    )
}


@dataclass(frozen=True, slots=True)
class QcFinding:
    rule: QcRule
    init_val: str


@dataclass(frozen=True, slots=True)
class QcResult:
    findings: tuple[QcFinding, ...]

    @property
    def passed(self) -> bool:
        """通过: no severe finding (err_lv 1)."""
        return not any(f.rule.err_lv == ERR_SEVERE for f in self.findings)

    @property
    def result(self) -> str:
        return RESULT_PASS if self.passed else RESULT_FAIL

    @property
    def err_lv(self) -> str:
        levels = [f.rule.err_lv for f in self.findings]
        return min(levels) if levels else ""

    @property
    def retn_flag(self) -> str:
        return "1" if any(f.rule.retn_flag == "1" for f in self.findings) else "0"


@dataclass(frozen=True, slots=True)
class SettlementFacts:
    """What the stored settlement says, to compare the list with (结算记录)."""

    setl_date: str  # ISO
    fund_lines: Mapping[str, int]  # fund_pay_type → fen (setldetail)


def run(lst: SettlementList, group_status: Status | None, facts: SettlementFacts) -> QcResult:
    """Every QC rule over a checked list, its grouping status and its settlement."""
    out: list[QcFinding] = []

    def hit(rule_id: str, value: str) -> None:
        out.append(QcFinding(QC_RULES[rule_id], value[:60]))

    for r in lst.nodes.get("diseinfo", ()):
        if r.get("diag_type") == "1" and not DX_CODE.match(r["diag_code"]):
            hit("QC01", r["diag_code"])
    for r in lst.nodes.get("oprninfo", ()):
        if not PROC_CODE.match(r["oprn_oprt_code"]):
            hit("QC02", r["oprn_oprt_code"])
    main, _ = lst.diagnoses()
    if group_status is Status.SEX_MISMATCH:
        hit("QC03", main)
    if group_status is Status.NEWBORN:
        hit("QC04", lst.setlinfo.get("nwb_adm_wt", ""))
    if group_status in (Status.NO_MDC, Status.NO_GROUP):
        hit("QC06", main)
    if lst.payinfo:
        given = dict(lst.payinfo)
        stored = {k: v for k, v in facts.fund_lines.items() if v}
        if {k: v for k, v in given.items() if v} != stored:
            hit("QC05", ",".join(f"{k}:{v / 100:.2f}" for k, v in sorted(given.items())))
    if lst.setlinfo["setl_end_date"] != facts.setl_date:
        hit("QC07", lst.setlinfo["setl_end_date"])
    return QcResult(tuple(out))
