"""The charging-counter simulator (收费窗口, HIS side): scan a 医保码, pick items, pre-settle, settle
and cancel over the national interface with a demo institution's published demo credentials
(:class:`yibao.client.NhsaClient`): pharmacy 2101/2102/2103, outpatient 2201/2203/2204/2206/2207/2208."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from yibao.web.sim_common import (
    CENT,
    SimError,
    ec_query,
    require_demo_institution,
)

# --------------------------------------------------------------------------- counter (HIS side)

#: the settlement amounts the counter shows (and keeps between steps), in the order shown
RESULT_KEYS = ("medfee_sumamt", "fulamt_ownpay_amt", "preselfpay_amt", "inscp_scp_amt",
               "act_pay_dedc", "hifp_pay", "hifmi_pay", "maf_pay", "fund_pay_sumamt", "acct_pay",
               "psn_cash_pay", "setl_id", "mdtrt_id")  # fmt: skip


@dataclass(slots=True)
class Line:
    """One fee line picked at the counter (HIS 收费明细)."""

    feedetl_sn: str
    med_list_codg: str
    name: str
    list_type: str
    pric: Decimal
    cnt: Decimal

    @property
    def amount(self) -> Decimal:
        return (self.pric * self.cnt).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class Counter:
    """What the counter screen carries between steps (hidden form fields)."""

    fixmedins_code: str
    psn_no: str = ""
    psn_name: str = ""
    certno: str = ""
    insutype: str = ""
    insuplc_admdvs: str = ""
    ec_token: str = ""
    mdtrt_id: str = ""
    chrg_bchno: str = ""
    setl_id: str = ""
    totals: dict[str, str] = field(default_factory=dict)  # the 2204 split sums (outpatient)
    pre: dict[str, str] = field(default_factory=dict)  # the last pre-settlement's amounts
    lines: list[Line] = field(default_factory=list)

    @property
    def pharmacy(self) -> bool:
        return self.fixmedins_code.startswith("P")

    def to_json(self) -> str:
        d: dict[str, Any] = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name != "lines"
        }
        d["lines"] = [
            {
                "sn": x.feedetl_sn,
                "code": x.med_list_codg,
                "name": x.name,
                "lt": x.list_type,
                "pric": str(x.pric),
                "cnt": str(x.cnt),
            }
            for x in self.lines
        ]
        return json.dumps(d, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Counter:
        d = json.loads(text)
        lines = [
            Line(x["sn"], x["code"], x["name"], x["lt"], Decimal(x["pric"]), Decimal(x["cnt"]))
            for x in d.pop("lines", [])
        ]
        return cls(**d, lines=lines)


def counter_client(base_url: str, fixmedins_code: str) -> Any:
    """A signed-in NhsaClient of a demo institution (public demo credentials)."""
    from yibao.hissim.sim import client_for

    require_demo_institution(fixmedins_code)
    return client_for(base_url.rstrip("/"), fixmedins_code)


def _ok(r: Any) -> dict[str, Any]:
    from yibao.hissim.flows import parse

    data = parse(r)
    if r.status_code != 200 or str(data.get("infcode")) != "0":
        raise SimError(f"{r.infno}：{data.get('err_msg') or data.get('message') or r.status_code}")
    out = data.get("output") or {}
    return out if isinstance(out, dict) else {}


def _plain(value: Any) -> Any:
    from yibao.hissim.flows import plain

    return plain(value)


def _now() -> str:
    from yibao.hissim.flows import now_text

    return now_text()


def scan(base_url: str, c: Counter, qr_code: str) -> dict[str, Any]:
    """扫码: exchange the code for an ecToken, then 1101 with mdtrt_cert_type 01."""
    biz = "02121" if c.pharmacy else "01101"  # 药店购药 / 挂号 (code_biz_type)
    ident = ec_query(base_url, c.fixmedins_code, qr_code, biz, "收费员")
    c.ec_token = str(ident["ecToken"])
    with counter_client(base_url, c.fixmedins_code) as client:
        out = _ok(
            client.call(
                "1101",
                {
                    "data": {
                        "mdtrt_cert_type": "01",
                        "mdtrt_cert_no": c.ec_token,
                        "card_sn": "",
                        "begntime": "",
                        "psn_cert_type": str(ident.get("idType") or "01"),
                        "certno": str(ident.get("idNo") or ""),
                        "psn_name": str(ident.get("userName") or ""),
                    }
                },
            )
        )
    base = out["baseinfo"]
    rows = [i for i in out["insuinfo"] if i["insutype"] in ("310", "390")] or out["insuinfo"]
    c.psn_no = str(base["psn_no"])
    c.psn_name = str(base["psn_name"])
    c.certno = str(base["certno"])
    c.insutype = str(rows[0]["insutype"])
    c.insuplc_admdvs = str(rows[0]["insuplc_admdvs"])
    return out


def _druginfo(c: Counter, total: Decimal) -> dict[str, Any]:
    return {
        "psn_no": c.psn_no,
        "mdtrt_cert_type": "01",
        "mdtrt_cert_no": c.ec_token,
        "psn_cert_type": "01",
        "certno": c.certno,
        "psn_type": "",
        "psn_name": c.psn_name,
        "begntime": _now(),
        "medfee_sumamt": total,
        "insutype": c.insutype,
        "acct_used_flag": "1" if c.insutype == "310" else "0",
        "med_type": "41",
    }


def _drugdetail(c: Counter) -> list[dict[str, Any]]:
    return [
        {
            "feedetl_sn": x.feedetl_sn,
            "rx_circ_flag": "0",
            "fee_ocur_time": _now(),
            "med_list_codg": x.med_list_codg,
            "medins_list_codg": f"HIS{x.feedetl_sn}",
            "det_item_fee_sumamt": x.amount,
            "cnt": x.cnt,
            "pric": x.pric,
        }
        for x in c.lines
    ]


def _total(c: Counter) -> Decimal:
    return sum((x.amount for x in c.lines), Decimal("0.00"))


def _outpatient_base(c: Counter, totals: dict[str, Decimal]) -> dict[str, Any]:
    return {
        "psn_no": c.psn_no,
        "mdtrt_cert_type": "01",
        "mdtrt_cert_no": c.ec_token,
        "med_type": "11",
        "medfee_sumamt": totals["medfee_sumamt"],
        "psn_setlway": "01",
        "mdtrt_id": c.mdtrt_id,
        "chrg_bchno": c.chrg_bchno,
        "insutype": c.insutype,
        "acct_used_flag": "1" if c.insutype == "310" else "0",
    }


def _register_and_upload(client: Any, c: Counter) -> dict[str, Decimal]:
    """Outpatient 2201 挂号 → 2203 就诊信息 → 2204 费用明细; returns the split totals."""
    from yibao.hissim.flows import split_totals

    region = c.insuplc_admdvs
    if not c.mdtrt_id:
        out = _ok(
            client.call(
                "2201",
                _plain(
                    {
                        "data": {
                            "psn_no": c.psn_no,
                            "insutype": c.insutype,
                            "begntime": _now(),
                            "mdtrt_cert_type": "01",
                            "mdtrt_cert_no": c.ec_token,
                            "ipt_otp_no": f"MZ{secrets.randbelow(10**10):010d}",
                            "atddr_no": "D001",
                            "dr_name": "王医生",
                            "dept_code": "A01",
                            "dept_name": "内科",
                            "caty": "A03",
                        }
                    }
                ),
                insuplc_admdvs=region,
            )
        )
        c.mdtrt_id = str(out["data"]["mdtrt_id"])
        _ok(
            client.call(
                "2203",
                {
                    "mdtrtinfo": {
                        "mdtrt_id": c.mdtrt_id,
                        "psn_no": c.psn_no,
                        "med_type": "11",
                        "begntime": _now(),
                        "main_cond_dscr": "咳嗽三天",
                        "dise_codg": "J06.900",
                        "dise_name": "急性上呼吸道感染",
                    },
                    "diseinfo": [
                        {
                            "diag_type": "1",
                            "diag_srt_no": "1",
                            "diag_code": "J06.900",
                            "diag_name": "急性上呼吸道感染",
                            "diag_dept": "内科",
                            "dise_dor_no": "D001",
                            "dise_dor_name": "王医生",
                            "diag_time": _now(),
                            "vali_flag": "1",
                        }
                    ],
                },
                insuplc_admdvs=region,
            )
        )
    c.chrg_bchno = f"{secrets.randbelow(10**8):08d}"
    fees = [
        {
            **d,
            "mdtrt_id": c.mdtrt_id,
            "psn_no": c.psn_no,
            "chrg_bchno": c.chrg_bchno,
            "hosp_appr_flag": "1",
            "bilg_dept_codg": "A01",
            "bilg_dept_name": "内科",
            "bilg_dr_codg": "D001",
            "bilg_dr_name": "王医生",
        }
        for d in _drugdetail(c)
    ]
    out = _ok(client.call("2204", _plain({"feedetail": fees}), insuplc_admdvs=region))
    return split_totals(out["result"])


def pre_settle(base_url: str, c: Counter) -> dict[str, Any]:
    """预结算: pharmacy 2101; outpatient 2201/2203/2204 then 2206. Returns ``setlinfo``."""
    if not c.lines:
        raise SimError("请先选择收费项目")
    with counter_client(base_url, c.fixmedins_code) as client:
        if c.pharmacy:
            out = _ok(
                client.call(
                    "2101",
                    _plain({"druginfo": _druginfo(c, _total(c)), "drugdetail": _drugdetail(c)}),
                    insuplc_admdvs=c.insuplc_admdvs,
                )
            )
        else:
            totals = _register_and_upload(client, c)
            c.totals = {k: str(v) for k, v in totals.items()}
            out = _ok(
                client.call(
                    "2206",
                    _plain({"data": _outpatient_base(c, totals)}),
                    insuplc_admdvs=c.insuplc_admdvs,
                )
            )
    info = out.get("setlinfo") or {}
    info = info if isinstance(info, dict) else {}
    c.pre = shown(info)
    return info


def shown(info: dict[str, Any]) -> dict[str, str]:
    """The amounts of a settlement answer the counter shows (:data:`RESULT_KEYS`), as text."""
    return {k: str(info[k]) for k in RESULT_KEYS if info.get(k) not in (None, "")}


def settle(base_url: str, c: Counter) -> dict[str, Any]:
    """结算: pharmacy 2102 (after the person confirmed the payment password); outpatient 2207."""
    with counter_client(base_url, c.fixmedins_code) as client:
        if c.pharmacy:
            payload = {
                "druginfo": {
                    **_druginfo(c, _total(c)),
                    "invono": f"YD{secrets.randbelow(10**8):08d}",
                },
                "drugdetail": _drugdetail(c),
            }
            out = _ok(client.call("2102", _plain(payload), insuplc_admdvs=c.insuplc_admdvs))
        else:
            if not c.mdtrt_id or not c.totals:
                raise SimError("请先预结算")
            totals = {k: Decimal(v) for k, v in c.totals.items()}
            data = {
                **_outpatient_base(c, totals),
                **totals,
                "invono": f"FP{secrets.randbelow(10**8):08d}",
            }
            out = _ok(client.call("2207", _plain({"data": data}), insuplc_admdvs=c.insuplc_admdvs))
    info = out.get("setlinfo") or {}
    c.setl_id = str(info.get("setl_id", ""))
    c.mdtrt_id = str(info.get("mdtrt_id", c.mdtrt_id))
    return info if isinstance(info, dict) else {}


def cancel(base_url: str, c: Counter) -> dict[str, Any]:
    """撤销结算: pharmacy 2103 / outpatient 2208 (a new negative settlement)."""
    if not c.setl_id:
        raise SimError("没有可撤销的结算")
    infno = "2103" if c.pharmacy else "2208"
    with counter_client(base_url, c.fixmedins_code) as client:
        out = _ok(
            client.call(
                infno,
                {"data": {"setl_id": c.setl_id, "mdtrt_id": c.mdtrt_id, "psn_no": c.psn_no}},
                insuplc_admdvs=c.insuplc_admdvs,
            )
        )
    info = out.get("setlinfo") or {}
    return info if isinstance(info, dict) else {}
