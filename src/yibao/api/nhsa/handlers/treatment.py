"""2001 人员待遇享受检查 (reference §2.14): may the person draw on each fund on those dates?

Input ``data{psn_no(Y), insutype(Y), fixmedins_code, med_type, begntime(Y), endtime, dise_codg,
dise_name, oprn_oprt_code, oprn_oprt_name, matn_type, birctrl_type, exp_content}`` →
``trtinfo[]{psn_no, trt_chk_type, fund_pay_type, trt_enjymnt_flag, begndate, enddate,
trt_chk_rslt, exp_content}``.

One row per fund the person's enrolments give access to (``trt_chk_type`` 01 基金项检查), from the
registry: the chosen 险种 and its supplements (§3.7 mapping: 310 → 310100 统筹 + 310200 个人账户,
320 → 320100, 330 → 330100, 390 → 390100 + 390200 居民大病, 392 → 390200, …) and 610100 医疗救助
when an assistance identity (医疗救助身份) is valid. ``trt_enjymnt_flag`` is 1 when the enrolment is
in force over the whole period (begntime … endtime), else 0 with the reason in ``trt_chk_rslt``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from yibao import codes
from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import BusinessError, Context, transaction
from yibao.api.nhsa.fields import InputError
from yibao.registry import store as registry_store
from yibao.registry.model import AssistanceIdentity, Enrolment

WHERE = "input.data"

# 险种 → funds it gives access to (nhsa-interface.md §3.7 "Mapping to setlinfo").
FUNDS_OF_INSUTYPE: dict[str, tuple[str, ...]] = {
    "310": ("310100", "310200"),
    "320": ("320100",),
    "330": ("330100",),
    "340": ("340100",),
    "350": ("350100",),
    "370": ("370100",),
    "390": ("390100", "390200"),
    "392": ("390200",),
    "510": ("510100",),
}
# supplementary 险种 that ride on a main one
SUPPLEMENTS: dict[str, tuple[str, ...]] = {"310": ("320", "330", "370"), "390": ("392",)}
ASSISTANCE_FUND = "610100"


def _verdict(e: Enrolment | None, begn: date, end: date) -> tuple[str, str]:
    if e is None:
        return "0", "未参加该险种"
    stas = codes.label("psn_insu_stas", e.psn_insu_stas)
    if e.active_on(begn) and e.active_on(end):
        return "1", "正常享受待遇"
    if not e.active_on(begn):
        return "0", f"参保状态为{stas}，{begn.isoformat()}不享受待遇"
    return "0", f"{end.isoformat()}不在参保期内 (暂停参保日期 {e.paus_insu_date})"


def _row(
    psn_no: str, fund: str, flag: str, begn: str, end: str | None, rslt: str
) -> dict[str, Any]:
    return {
        "psn_no": psn_no,
        "trt_chk_type": "01",
        "fund_pay_type": fund,
        "trt_enjymnt_flag": flag,
        "begndate": begn,
        "enddate": end,
        "trt_chk_rslt": rslt,
        "exp_content": "",
    }


def _assistance(ids: list[AssistanceIdentity], begn: date) -> AssistanceIdentity | None:
    return next((i for i in ids if i.assistance_class and i.valid_on(begn)), None)


@transaction("2001", "人员待遇享受检查")
def check_treatment(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    psn_no = fields.text(data, "psn_no", WHERE, required=True, max_len=30, label="人员编号")
    insutype = fields.code(data, "insutype", WHERE, "insutype", required=True)
    code = fields.text(data, "fixmedins_code", WHERE, max_len=30)
    if code and code != ctx.institution.fixmedins_code:
        raise InputError(f"{WHERE}.fixmedins_code", "须为本机构的定点医药机构编号")
    fields.code(data, "med_type", WHERE, "med_type")
    begntime = fields.moment(data, "begntime", WHERE, required=True)
    endtime = fields.moment(data, "endtime", WHERE)
    assert begntime is not None
    begn = begntime.date()
    end = endtime.date() if endtime else begn
    if end < begn:
        raise InputError(f"{WHERE}.endtime", "结束时间不能早于开始时间")
    if registry_store.get_person(ctx.conn, psn_no) is None:
        raise BusinessError(f"{WHERE}.psn_no: 未查询到参保人员{psn_no}")
    enrolled = {e.insutype: e for e in registry_store.enrolments(ctx.conn, psn_no)}
    rows: list[dict[str, Any]] = []
    for t in (insutype, *SUPPLEMENTS.get(insutype, ())):
        e = enrolled.get(t)
        if e is None and t != insutype:
            continue
        flag, rslt = _verdict(e, begn, end)
        for fund in FUNDS_OF_INSUTYPE.get(t, ()):
            rows.append(
                _row(
                    psn_no,
                    fund,
                    flag,
                    e.psn_insu_date.isoformat() if e else "",
                    e.paus_insu_date.isoformat() if e and e.paus_insu_date else None,
                    rslt,
                )
            )
    main = enrolled.get(insutype)
    ident = _assistance(registry_store.identities(ctx.conn, psn_no), begn)
    if ident is not None and main is not None:
        flag, rslt = _verdict(main, begn, end)
        label = codes.label("psn_idet_type", ident.psn_idet_type)
        rows.append(
            _row(
                psn_no,
                ASSISTANCE_FUND,
                flag,
                ident.begntime.isoformat(),
                ident.endtime.isoformat() if ident.endtime else None,
                f"{rslt}（医疗救助身份：{label}）" if flag == "1" else rslt,
            )
        )
    return {"trtinfo": rows}
