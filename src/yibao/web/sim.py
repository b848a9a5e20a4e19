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

from typing import Any

from yibao.web.sim_common import (
    CENT,
    CHANNELS,
    SimError,
    answer,
    channel_call,
    ec_query,
)
from yibao.web.sim_counter import (
    Counter,
    Line,
    cancel,
    counter_client,
    pre_settle,
    scan,
    settle,
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
    "set_password",
    "settle",
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
