"""Training simulators (培训模拟器): the insured person's phone and the charging counter.

The phone's calls are here; the counter is :mod:`yibao.web.sim_counter` and the shared pieces
:mod:`yibao.web.sim_common`, both re-exported.

They use the **same public HTTP APIs** as real channel apps and HIS software, against this
server's own base URL:

- the phone (参保人手机) signs channel calls ``/api/voucher/channel/*`` with a demo channel's
  public demo secret (``docs/voucher.md``): activate, dynamic code, payment password;
- the counter (收费窗口) exchanges the scanned code at ``/api/voucher/ec/query`` (like 6101), then
  speaks the national interface through :class:`yibao.client.NhsaClient` with a demo
  institution's public demo credentials: 1101, pharmacy 2101/2102/2103, outpatient
  2201/2203/2204/2206/2207/2208.

Only demo channels and demo institutions can be driven: their secrets are published demo data.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from yibao.clock import CHINA as BEIJING
from yibao.web.sim_common import (
    CENT,
    CHANNELS,
    SimError,
    answer,
    channel_call,
    ec_query,
    require_demo_institution,
    seal,
    unseal,
)
from yibao.web.sim_counter import (
    Counter,
    Line,
    cancel,
    counter_client,
    pre_settle,
    scan,
    settle,
    shown,
)

__all__ = [
    "CENT",
    "CHANNELS",
    "Counter",
    "Line",
    "SimError",
    "activate",
    "answer",
    "cancel",
    "channel_call",
    "confirm_payment",
    "counter_client",
    "dynamic_code",
    "ec_query",
    "pre_settle",
    "scan",
    "seal",
    "set_password",
    "settle",
    "shown",
    "unseal",
]


# --------------------------------------------------------------------------- phone (channel side)


def activate(
    base_url: str, chnl_id: str, chnl_user_id: str, name: str, id_no: str, evidence: str
) -> dict[str, Any]:
    """激活: real-name (name + ID number) and the real-person step (demo verifier evidence)."""
    return channel_call(
        base_url,
        chnl_id,
        "/api/voucher/channel/activate",
        {
            "chnlUserId": chnl_user_id,
            "userName": name,
            "idType": "01",
            "idNo": id_no,
            "faceEvidence": evidence,
        },
    )


def dynamic_code(base_url: str, chnl_id: str, chnl_user_id: str) -> dict[str, Any]:
    """出示医保码: a fresh single-use code (≤ 60 s) with its QR as SVG."""
    return channel_call(
        base_url, chnl_id, "/api/voucher/channel/code", {"chnlUserId": chnl_user_id, "qr": "svg"}
    )


def set_password(base_url: str, chnl_id: str, chnl_user_id: str, password: str) -> dict[str, Any]:
    return channel_call(
        base_url,
        chnl_id,
        "/api/voucher/channel/password/set",
        {"chnlUserId": chnl_user_id, "password": password},
    )


def confirm_payment(
    base_url: str, chnl_id: str, chnl_user_id: str, password: str, ec_token: str
) -> dict[str, Any]:
    """确认支付: the payment password verified for the counter's ecToken."""
    return channel_call(
        base_url,
        chnl_id,
        "/api/voucher/channel/password/verify",
        {"chnlUserId": chnl_user_id, "password": password, "ecToken": ec_token},
    )


# --------------------------------------------------------------------------- online (移动支付)


def online_call(
    base_url: str, chnl_id: str, action: str, chnl_user_id: str, **body: str
) -> dict[str, Any]:
    """The phone's call to the mobile-payment centre (``/api/online/channel/*``)."""
    return channel_call(
        base_url, chnl_id, f"/api/online/channel/{action}", {"chnlUserId": chnl_user_id, **body}
    )


def _his(base_url: str, fixmedins_code: str) -> Any:
    from yibao.online.apps import demo_client_keys
    from yibao.online.client import OnlineClient

    require_demo_institution(fixmedins_code)
    return OnlineClient(base_url, demo_client_keys(fixmedins_code))


def online_bill(
    base_url: str, chnl_id: str, chnl_user_id: str, fixmedins_code: str
) -> dict[str, Any]:
    """The hospital's internet service bills a consultation online (6201), as its HIS would: the
    phone's code exchanged for an ecToken (医疗类APP线上结算), two items of the price list."""
    from yibao.hissim.flows import now_text, province_items
    from yibao.institutions import demo as inst_demo
    from yibao.online.client import OnlineRefused

    admdvs = next(r[3] for r in inst_demo.DEMO_INSTITUTIONS if r[0] == fixmedins_code)
    ident = ec_query(base_url, fixmedins_code, str(dynamic_code(base_url, chnl_id, chnl_user_id)["code"]),
                     "03132", "互联网医院")  # fmt: skip
    picked = [i for i in province_items(admdvs) if i.list_type in ("101", "201")][:2]
    lines = [{"feedetlSn": f"{k + 1:04d}", "medListCodg": i.med_list_codg, "medinsListCodg": f"HIS{k}",
              "detItemFeeSumamt": i.pric, "cnt": Decimal(1), "pric": i.pric, "chrgBchno": "B0001",
              "feeOcurTime": now_text(), "hospApprFlag": "1"} for k, i in enumerate(picked)]  # fmt: skip
    insured = str(ident.get("insuOrg") or admdvs)
    data = {"orgCodg": fixmedins_code, "psnNo": ident["psnNo"], "insutype": "310", "medOrgOrd": f"SIM{secrets.token_hex(6)}",
            "begntime": now_text(), "idNo": ident["idNo"], "userName": ident["userName"], "idType": ident["idType"],
            "ecToken": ident["ecToken"], "insuCode": insured, "iptOtpNo": f"HLW{secrets.randbelow(10**8):08d}",
            "deptName": "互联网医院内科", "caty": "A03", "mdtrtId": "", "medType": "11", "feeType": "05",
            "medfeeSumamt": sum((i.pric for i in picked), Decimal("0.00")), "acctUsedFlag": "0",
            "diseCodg": "J06.900", "diseName": "急性上呼吸道感染", "psnSetlway": "01", "chrgBchno": "B0001",
            "feedetailList": lines}  # fmt: skip
    with _his(base_url, fixmedins_code) as his:
        for insutype in ("310", "390"):
            try:
                return dict(his.call("mpc", "6201", {**data, "insutype": insutype,
                                                     "acctUsedFlag": "0"}))  # fmt: skip
            except OnlineRefused as e:
                if "insutype" not in e.message:
                    raise SimError(e.message) from None
    raise SimError("该参保人没有可用的险种")


def online_refund(base_url: str, order: dict[str, Any]) -> dict[str, Any]:
    """The hospital refunds an online order in full (6203 ALL): the fund and the cash provider."""
    from yibao.online.client import OnlineRefused

    yuan = {
        k: (Decimal(int(order[k])) / 100).quantize(CENT)
        for k in ("feeSumamt", "fundPay", "psnAcctPay", "ownPayAmt")
    }
    refund = {"payOrdId": order["payOrdId"], "appRefdSn": f"SIMRF{secrets.token_hex(5)}",
              "appRefdTime": datetime.now(BEIJING).strftime("%Y%m%d%H%M%S"), "totlRefdAmt": yuan["feeSumamt"],
              "psnAcctRefdAmt": yuan["psnAcctPay"], "fundRefdAmt": yuan["fundPay"],
              "cashRefdAmt": (Decimal(int(order["ownPayAmt"]) - int(order["cashRefunded"])) / 100).quantize(CENT),
              "ecToken": "online-refund", "refdType": "ALL"}  # fmt: skip
    with _his(base_url, str(order["orgCodg"])) as his:
        try:
            return dict(his.call("mpc", "6203", refund))
        except OnlineRefused as e:
            raise SimError(e.message) from None
