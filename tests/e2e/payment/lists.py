"""Building 医疗保障基金结算清单 (4101) inputs the way a hospital's 病案 system would."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from yibao.hissim.flows import Visit


@dataclass(frozen=True)
class Scenario:
    """One stay: how long, its diagnoses and procedures, and what the grouper should say."""

    name: str
    days: int
    dx: tuple[str, ...]  # principal first
    procs: tuple[str, ...] = ()  # main first
    sex: str = ""  # "" any, else the person must have this sex
    newborn: bool = False
    expect: str = ""  # expected DRG code ("" = not grouped / not paid by group)
    submit: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def setl_list(v: Visit, s: Scenario, *, begn: str, end: str, weight: str = "") -> dict[str, Any]:
    """The 4101 ``input`` for a settled stay."""
    info = v.setlinfo
    setlinfo: dict[str, Any] = {
        "psn_no": info["psn_no"],
        "mdtrt_id": v.mdtrt_id,
        "setl_id": v.setl_id,
        "medcasno": f"BA{v.setl_id[-8:]}",
        "ntly": "CHN",
        "prfs": "90",
        "dscg_caty": "A02",
        "adm_way": "2",
        "trt_type": "10",
        "adm_time": f"{begn} 09:00:00",
        "dscg_time": f"{end} 10:00:00",
        "dscg_way": "1",
        "bill_code": "44000025",
        "bill_no": f"N{v.setl_id[-10:]}",
        "biz_sn": v.settle_msgid,
        "setl_begn_date": begn,
        "setl_end_date": end,
        "medins_fill_dept": "病案室",
        "medins_fill_psn": "王病案",
        "hi_paymtd": "4",
        **s.extra,
    }
    if weight:
        setlinfo["nwb_adm_type"] = "1"
        setlinfo["nwb_adm_wt"] = weight
    diseinfo = [
        {
            "diag_type": "1",
            "diag_code": code,
            "diag_name": f"诊断{code}",
            "adm_cond_type": "1",
            "maindiag_flag": "1" if i == 0 else "0",
        }
        for i, code in enumerate(s.dx)
    ]
    oprninfo = [
        {
            "oprn_oprt_type": "1" if i == 0 else "2",
            "oprn_oprt_name": f"手术{code}",
            "oprn_oprt_code": code,
            "oper_dr_code": "D002",
            "oprn_oprt_begntime": f"{begn} 14:00:00",
            "oprn_oprt_endtime": f"{begn} 15:30:00",
        }
        for i, code in enumerate(s.procs)
    ]
    return {"setlinfo": setlinfo, "diseinfo": diseinfo, "oprninfo": oprninfo}
