"""The insured's phone and the counter's scanner (医保码): activate, show a dynamic code, scan it.

- as a channel app (e.g. the demo ``wechat`` channel): ``/api/voucher/channel/activate`` and
  ``/api/voucher/channel/code``, signed with the channel secret (HMAC-SHA256 over
  ``METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nsha256(body)``, docs/voucher.md);
- as the HIS: ``/api/voucher/ec/query`` exchanges the scanned code for an ecToken that is valid
  for this institution only; 1101 then runs with ``mdtrt_cert_type`` 01 and that token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from typing import Any

import httpx

from yibao.voucher.verifier import demo_evidence

DEMO_CHANNEL = "wechat"
DEMO_CHANNEL_SECRET = "demo-secret-wechat"  # public demo secret (docs/voucher.md)


class VoucherError(RuntimeError):
    """An e-voucher API answer with ``code`` ≠ 0."""


class Wallet:
    """A channel app holding activated insured persons (channel user id per ID number)."""

    def __init__(
        self, base_url: str, chnl_id: str = DEMO_CHANNEL, secret: str = DEMO_CHANNEL_SECRET
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.chnl_id = chnl_id
        self.secret = secret
        self.activated: set[str] = set()
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=30)

    def _post(
        self,
        path: str,
        payload: dict[str, Any],
        *,
        signed: bool = True,
        extra_headers: dict[str, str] | None = None,
    ) -> Any:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", **(extra_headers or {})}
        if signed:
            ts, nonce = str(int(time.time())), secrets.token_hex(8)
            text = f"POST\n{path}\n{ts}\n{nonce}\n{hashlib.sha256(body).hexdigest()}"
            headers.update(
                {
                    "X-Yibao-Channel": self.chnl_id,
                    "X-Yibao-Timestamp": ts,
                    "X-Yibao-Nonce": nonce,
                    "X-Yibao-Signature": hmac.new(
                        self.secret.encode(), text.encode(), hashlib.sha256
                    ).hexdigest(),
                }
            )
        r = self._http.post(self.base_url + path, content=body, headers=headers)
        data = r.json()
        if data.get("code") != 0:
            raise VoucherError(f"{path}: {data.get('error')} {data.get('message')}")
        return data.get("data")

    @staticmethod
    def user_id(certno: str) -> str:
        return f"sim-{hashlib.sha256(certno.encode()).hexdigest()[:16]}"

    def activate(self, certno: str, psn_name: str) -> None:
        """Activate the person's e-voucher on this channel (idempotent)."""
        with self._lock:
            if certno in self.activated:
                return
        self._post(
            "/api/voucher/channel/activate",
            {
                "chnlUserId": self.user_id(certno),
                "userName": psn_name,
                "idType": "01",
                "idNo": certno,
                "faceEvidence": demo_evidence(certno),
            },
        )
        with self._lock:
            self.activated.add(certno)

    def show_code(self, certno: str) -> str:
        """A fresh dynamic QR code text (≤ 60 s, single use)."""
        data = self._post("/api/voucher/channel/code", {"chnlUserId": self.user_id(certno)})
        return str(data["code"])

    def scan(self, code: str, org_id: str, business_type: str = "01101") -> str:
        """The counter's exchange of a scanned code for an ecToken (like ec.query / 6101).

        Signed as the institution with its (demo) gateway credential (x-tif-* headers).
        """
        from yibao.institutions import demo as inst_demo
        from yibao.wire.transport import sign_tif

        auth = sign_tif(
            inst_demo.demo_app_key(org_id),
            inst_demo.demo_secret(org_id),
            int(time.time()),
            secrets.token_hex(8),
        )
        data = self._post(
            "/api/voucher/ec/query",
            {
                "transType": "ec.query",
                "orgId": org_id,
                "data": {
                    "qrCode": code,
                    "orgId": org_id,
                    "businessType": business_type,
                    "operatorId": "0001",
                    "operatorName": "收费员",
                    "officeId": "mz",
                    "officeName": "门诊",
                    "outBizNo": f"{org_id}-{secrets.token_hex(8)}",
                },
            },
            signed=False,
            extra_headers=auth,
        )
        return str(data["ecToken"])

    def close(self) -> None:
        self._http.close()
