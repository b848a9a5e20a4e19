"""What both training simulators share (培训模拟器公共部分): the demo channels and their public demo
secrets, a signed channel call, the e-voucher code exchange (``/api/voucher/ec/query``) and the
simulator's error (:class:`SimError`, shown on the page)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from decimal import Decimal
from typing import Any

import httpx

from yibao import clock

CHANNELS = {
    "wechat": "微信",
    "alipay": "支付宝",
    "nhsa_app": "国家医保服务平台",
    "unionpay": "云闪付",
}
CENT = Decimal("0.01")


class SimError(Exception):
    """A refused step, with the API's own message (shown to the trainee)."""


def _demo_channel_secret(chnl_id: str) -> str:
    if chnl_id not in CHANNELS:
        raise SimError(f"不支持的演示渠道：{chnl_id}")
    return f"demo-secret-{chnl_id}"  # public demo secret (yibao.voucher.demo, docs/voucher.md)


def channel_call(base_url: str, chnl_id: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One signed channel call (渠道接口), as a channel app makes it; returns ``data``."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    ts, nonce = str(int(time.time())), secrets.token_hex(8)
    msg = f"POST\n{path}\n{ts}\n{nonce}\n{hashlib.sha256(body).hexdigest()}".encode()
    sig = hmac.new(_demo_channel_secret(chnl_id).encode(), msg, hashlib.sha256).hexdigest()
    r = httpx.post(
        base_url.rstrip("/") + path,
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Yibao-Channel": chnl_id,
            "X-Yibao-Timestamp": ts,
            "X-Yibao-Nonce": nonce,
            "X-Yibao-Signature": sig,
        },
        timeout=30,
    )
    return answer(r)


def answer(r: httpx.Response) -> dict[str, Any]:
    try:
        data = r.json()
    except ValueError:
        raise SimError(f"接口返回了非 JSON 内容（HTTP {r.status_code}）") from None
    if r.status_code != 200 or data.get("code") not in (0, "0"):
        raise SimError(str(data.get("message") or data.get("detail") or f"HTTP {r.status_code}"))
    out = data.get("data")
    return out if isinstance(out, dict) else {"items": out}


def ec_query(
    base_url: str, org_id: str, qr_code: str, business_type: str, operator: str
) -> dict[str, Any]:
    """The institution's code exchange (电子凭证解码, like ec.query/6101)."""
    from yibao.institutions import demo as inst_demo
    from yibao.wire.transport import sign_tif

    require_demo_institution(org_id)
    out_biz_no = f"{org_id}-{clock.now():%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
    # signed like every institution call: the demo institution's public gateway credential
    headers = sign_tif(
        inst_demo.demo_app_key(org_id),
        inst_demo.demo_secret(org_id),
        int(time.time()),
        secrets.token_hex(8),
    )
    r = httpx.post(
        base_url.rstrip("/") + "/api/voucher/ec/query",
        headers=headers,
        json={
            "transType": "ec.query",
            "orgId": org_id,
            "data": {
                "qrCode": qr_code.strip(),
                "orgId": org_id,
                "businessType": business_type,
                "operatorId": "0001",
                "operatorName": operator,
                "officeId": "sfck",
                "officeName": "收费窗口",
                "outBizNo": out_biz_no,
            },
        },
        timeout=30,
    )
    return answer(r)


def require_demo_institution(fixmedins_code: str) -> None:
    """Only demo institutions can be driven: their credentials are published demo data."""
    from yibao.institutions import demo as inst_demo

    if not any(r[0] == fixmedins_code for r in inst_demo.DEMO_INSTITUTIONS):
        raise SimError(f"收费窗口模拟器只能使用演示定点机构：{fixmedins_code}")


# ----------------------------------------------------------------- step state in the address


SEAL_MAX_AGE = 4 * 3600  # a simulator page older than this starts again


def _fernet() -> Any:
    import base64

    from cryptography.fernet import Fernet

    from yibao.platform_secret import secret_key

    digest = hashlib.sha256(("yibao-sim-state:" + secret_key()).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(data: dict[str, Any]) -> str:
    """A step's state for the page address (``?s=``): compressed, encrypted and authenticated
    with the platform secret, so a refresh, the back button or another worker shows the same
    step, and the address reveals nothing (no ID number, no ecToken in an access log)."""
    import zlib

    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    token: bytes = _fernet().encrypt(zlib.compress(raw, 9))
    return token.decode()


def unseal(token: str) -> dict[str, Any]:
    """The state :func:`seal` wrote; :class:`SimError` when it is not ours or too old."""
    import zlib

    from cryptography.fernet import InvalidToken

    try:
        raw = _fernet().decrypt(token.encode(), ttl=SEAL_MAX_AGE)
        data = json.loads(zlib.decompress(raw))
    except (InvalidToken, ValueError, zlib.error):
        raise SimError("页面已过期或地址不完整，请重新开始") from None
    if not isinstance(data, dict):
        raise SimError("页面已过期或地址不完整，请重新开始")
    return data
