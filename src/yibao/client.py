"""A Python client for the national interface (国家接口客户端), as a HIS would call Yibao.

::

    from yibao.client import NhsaClient

    with NhsaClient("http://127.0.0.1:8000", fixmedins_code="H44030000001",
                    fixmedins_name="深圳市人民医院", mdtrtarea_admvs="440300",
                    app_key="…", app_secret="…", transport="csb") as c:
        c.sign_in("0001", mac="00-16-3E-00-00-01", ip="10.0.0.8")
        r = c.call("1201", {"medinsinfo": {"fixmedins_type": "1"}})
        r.raise_for_infcode()
        print(r.output["medinsinfo"])

``transport="csb"`` signs with the ``_api_*`` HMAC-SHA1 headers and posts to the single URL;
``transport="tif"`` signs with the ``x-tif-*`` SHA-256 headers and posts to the Guangdong
``…/hsa/hgs/{infno}`` path. msgids follow the national format: fixmedins_code(12) +
yyyyMMddHHmmss(14) + sequence(4).
"""

from __future__ import annotations

import itertools
import json
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

from yibao.clock import CHINA
from yibao.wire import envelope as env
from yibao.wire import transport as tr

SINGLE_URL = "/fsi/api/rsfComIfsService/callService"
TIF_BASE = "/ebus/gdyb_api/prd/hsa/hgs"

# One sequence per process (random start), shared by every client, so two clients of the same
# institution in one process never mint the same msgid within a second.
_SEQ = itertools.count(random.randrange(10000))
_SEQ_LOCK = threading.Lock()


def signed_headers(transport: str, app_key: str, app_secret: str, infno: str) -> dict[str, str]:
    """Fresh transport headers for one message: CSB ``_api_*`` (with the ``_api_nonce``
    extension) or TIF ``x-tif-*``. Used by :class:`NhsaClient` and the front-end processor."""
    if transport == tr.TIF:
        return tr.sign_tif(app_key, app_secret, int(time.time()), secrets.token_hex(16))
    return tr.sign_csb(
        app_key, app_secret, infno, int(time.time() * 1000), nonce=secrets.token_hex(16)
    )


class NhsaError(RuntimeError):
    """A transaction answered with infcode ≠ 0 (交易失败)."""

    def __init__(self, infno: str, err_msg: str) -> None:
        super().__init__(f"{infno}: {err_msg}")
        self.infno = infno
        self.err_msg = err_msg


@dataclass
class NhsaResponse:
    """One answer: the HTTP status, the raw body, and the decoded envelope (when JSON)."""

    infno: str
    msgid: str
    status_code: int
    body: bytes
    content_type: str
    request: dict[str, Any] = field(default_factory=dict)

    @property
    def is_json(self) -> bool:
        return self.content_type.startswith("application/json")

    @property
    def json(self) -> dict[str, Any]:
        data = json.loads(self.body) if self.is_json else {}
        return data if isinstance(data, dict) else {}

    @property
    def infcode(self) -> int | None:
        """0 success, -1 failure; ``None`` for a gateway refusal or a file body."""
        if self.status_code != 200 or not self.is_json:
            return 0 if self.status_code == 200 and not self.is_json else None
        return env.parse_infcode(self.json.get("infcode"))

    @property
    def ok(self) -> bool:
        return self.infcode == 0

    @property
    def output(self) -> Any:
        return self.json.get("output")

    @property
    def err_msg(self) -> str:
        data = self.json
        return str(data.get("err_msg") or data.get("message") or "")

    def raise_for_infcode(self) -> NhsaResponse:
        if not self.ok:
            raise NhsaError(self.infno, self.err_msg or f"HTTP {self.status_code}")
        return self


class NhsaClient:
    """Signs, numbers and posts envelopes for one institution and operator."""

    def __init__(
        self,
        base_url: str,
        *,
        fixmedins_code: str,
        fixmedins_name: str,
        mdtrtarea_admvs: str,
        app_key: str,
        app_secret: str,
        transport: str = "csb",
        opter: str = "0001",
        opter_name: str = "收费员",
        opter_type: str = "1",
        recer_sys_code: str = "YBXT",
        infver: str = "V1.0",
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        if transport not in (tr.CSB, tr.TIF):
            raise ValueError("transport must be 'csb' or 'tif'")
        self.base_url = base_url.rstrip("/")
        self.fixmedins_code = fixmedins_code
        self.fixmedins_name = fixmedins_name
        self.mdtrtarea_admvs = mdtrtarea_admvs
        self.app_key = app_key
        self.app_secret = app_secret
        self.transport = transport
        self.opter = opter
        self.opter_name = opter_name
        self.opter_type = opter_type
        self.recer_sys_code = recer_sys_code
        self.infver = infver
        self.sign_no = ""
        self._http = http or httpx.Client(timeout=timeout)
        self._own_http = http is None

    # ---- envelopes ---------------------------------------------------------------------

    def new_msgid(self) -> str:
        """A msgid in the national format (机构编号12 + 时间14 + 顺序号4)."""
        with _SEQ_LOCK:
            seq = next(_SEQ)
        return env.make_msgid(self.fixmedins_code, datetime.now(CHINA), seq)

    def envelope(
        self,
        infno: str,
        input: dict[str, Any],
        *,
        msgid: str | None = None,
        insuplc_admdvs: str = "",
    ) -> dict[str, Any]:
        """The request envelope (§1.1) around ``input``."""
        return {
            "infno": infno,
            "msgid": msgid or self.new_msgid(),
            "mdtrtarea_admvs": self.mdtrtarea_admvs,
            "insuplc_admdvs": insuplc_admdvs,
            "recer_sys_code": self.recer_sys_code,
            "dev_no": "",
            "dev_safe_info": "",
            "cainfo": "",
            "signtype": "",
            "infver": self.infver,
            "opter_type": self.opter_type,
            "opter": self.opter,
            "opter_name": self.opter_name,
            "inf_time": f"{datetime.now(CHINA):%Y-%m-%d %H:%M:%S}",
            "fixmedins_code": self.fixmedins_code,
            "fixmedins_name": self.fixmedins_name,
            "sign_no": self.sign_no,
            "input": input,
        }

    def headers(self, infno: str) -> dict[str, str]:
        """Fresh signed transport headers."""
        return signed_headers(self.transport, self.app_key, self.app_secret, infno)

    def url(self, infno: str) -> str:
        if self.transport == tr.TIF:
            return f"{self.base_url}{TIF_BASE}/{infno}"
        return f"{self.base_url}{SINGLE_URL}"

    # ---- calls -------------------------------------------------------------------------

    def post(
        self,
        infno: str,
        body: dict[str, Any] | bytes | str,
        *,
        headers: dict[str, str] | None = None,
        files: dict[str, Any] | None = None,
    ) -> NhsaResponse:
        """Post a prepared envelope (or raw bytes) with fresh signed headers."""
        hdrs = self.headers(infno)
        hdrs.update(headers or {})
        request: dict[str, Any] = body if isinstance(body, dict) else {}
        if files is not None:
            text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
            r = self._http.post(self.url(infno), headers=hdrs, data={"jsonStr": text}, files=files)
        else:
            content = (
                body
                if isinstance(body, bytes)
                else (body if isinstance(body, str) else json.dumps(body, ensure_ascii=False))
            )
            hdrs.setdefault("Content-Type", "application/json;charset=utf-8")
            r = self._http.post(
                self.url(infno),
                headers=hdrs,
                content=content.encode("utf-8") if isinstance(content, str) else content,
            )
        return NhsaResponse(
            infno=infno,
            msgid=str(request.get("msgid", "")),
            status_code=r.status_code,
            body=r.content,
            content_type=r.headers.get("content-type", ""),
            request=request,
        )

    def call(
        self,
        infno: str,
        input: dict[str, Any],
        *,
        msgid: str | None = None,
        insuplc_admdvs: str = "",
    ) -> NhsaResponse:
        """Build, sign and post one transaction."""
        return self.post(
            infno, self.envelope(infno, input, msgid=msgid, insuplc_admdvs=insuplc_admdvs)
        )

    def sign_in(
        self, opter_no: str | None = None, *, mac: str = "00-00-00-00-00-00", ip: str = "127.0.0.1"
    ) -> str:
        """9001 签到; remembers and returns the sign_no."""
        r = self.call(
            "9001", {"signIn": {"opter_no": opter_no or self.opter, "mac": mac, "ip": ip}}
        ).raise_for_infcode()
        self.sign_no = str(r.output["signinoutb"]["sign_no"])
        return self.sign_no

    def sign_out(self, opter_no: str | None = None) -> NhsaResponse:
        """9002 签退 of the remembered sign_no."""
        r = self.call(
            "9002", {"signOut": {"sign_no": self.sign_no, "opter_no": opter_no or self.opter}}
        )
        if r.ok:
            self.sign_no = ""
        return r

    def upload_file(self, content: bytes, filename: str) -> NhsaResponse:
        """9101 文件上传 (multipart: ``jsonStr`` + ``file``)."""
        e = self.envelope(
            "9101", {"fsUploadIn": {"filename": filename, "fixmedins_code": self.fixmedins_code}}
        )
        return self.post("9101", e, files={"file": (filename, content, "application/zip")})

    def download_file(self, file_qury_no: str, filename: str) -> NhsaResponse:
        """9102 文件下载: ``body`` is the ZIP when ``ok`` and not JSON."""
        return self.call(
            "9102",
            {
                "fsDownloadIn": {
                    "file_qury_no": file_qury_no,
                    "filename": filename,
                    "fixmedins_code": self.fixmedins_code,
                }
            },
        )

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def __enter__(self) -> NhsaClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
