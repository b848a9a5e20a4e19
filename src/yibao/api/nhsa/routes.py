"""HTTP face of the gateway (thin): the single URL, per-transaction paths, CORS.

Paths (reference §1.5):

- ``POST /fsi/api/rsfComIfsService/callService`` — the CSB single URL (every infno);
- ``POST /ebus/gdyb_inf/poc/hsa/hgs/{infno}`` and ``/ebus/gdyb_api/prd/hsa/hgs/{infno}`` —
  Guangdong's per-infno form (test and production bases);
- ``POST /fsi/api/<service>/<method>`` (also under ``/ebus/rio_fsi``) — Hebei's per-service paths.

Any path accepts either transport's headers. 9101 uploads are ``multipart/form-data`` with the
envelope in the text part ``jsonStr`` and the ZIP in ``file`` (or ``in``).
"""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from yibao.api.nhsa import jsonio
from yibao.api.nhsa.pipeline import Gateway, HttpAnswer
from yibao.api.nhsa.settings import GatewaySettings

router = APIRouter(tags=["national interface 国家接口"])
log = structlog.get_logger(__name__)
_UNAVAILABLE = jsonio.dumps(
    {"infcode": -1, "err_msg": "医保网关暂不可用，交易未办理，请稍后重试", "output": None}
).encode("utf-8")

SINGLE_URL = "/fsi/api/rsfComIfsService/callService"
TIF_BASES = ("/ebus/gdyb_inf/poc/hsa/hgs", "/ebus/gdyb_api/prd/hsa/hgs")
HEBEI_PREFIXES = ("", "/ebus/rio_fsi")

# Hebei per-service paths (reference §1.5 item 4; spellings such as "Rregistration" are original).
HEBEI_PATHS: dict[str, str] = {
    "/fsi/api/signInSignOutService/signIn": "9001",
    "/fsi/api/fsiPsnInfoService/queryPsnInfo": "1101",
    "/fsi/api/catalogqueryservice/queryHilist": "1312",
    "/fsi/api/outpatientDocInfoService/outpatientRregistration": "2201",
    "/fsi/api/outpatientDocInfoService/outpatientFeeListUp": "2204",
    "/fsi/api/outpatientSettleService/preSettletment": "2206",
    "/fsi/api/outpatientSettleService/saveSettletmentV2": "2207",
    "/fsi/api/outpatientSettleService/cancleSettletment": "2208",
    "/fsi/api/hospFeeDtlService/feeDtlUp": "2301",
    "/fsi/api/hospSettService/preSett": "2303",
    "/fsi/api/hospSettService/settV2": "2304",
    "/fsi/api/hospSettService/settCl": "2305",
    "/fsi/api/hospitalRegisterService/hospitalRegisterSave": "2401",
    "/fsi/api/dscgService/dischargeProcess": "2402",
    "/fsi/api/reverseService/revsMethod": "2601",
    "/fsi/api/ybSettlementStmtService/stmtTotal": "3201",
    "/fsi/api/ybSettlementStmtService/stmtDetail": "3202",
    "/fsi/api/fsiIntegratedQueryService/querySetlInfo": "5203",
    "/fsi/api/fsiIntegratedQueryService/queryFeeList": "5204",
    "/fsi/api/fileupload/upload": "9101",
    "/fsi/api/fileupload/download": "9102",
}

_ALLOWED_HEADERS = (
    "content-type, _api_name, _api_version, _api_timestamp, _api_access_key, _api_signature, "
    "x-tif-paasid, x-tif-timestamp, x-tif-nonce, x-tif-signature"
)


def _settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings | None = getattr(request.app.state, "nhsa_settings", None)
    if settings is None:
        settings = GatewaySettings()
        request.app.state.nhsa_settings = settings
    return settings


def _gateway(request: Request) -> Gateway:
    gw: Gateway | None = getattr(request.app.state, "nhsa_gateway", None)
    if gw is None:
        gw = Gateway(request.app.state.engine, _settings(request))
        request.app.state.nhsa_gateway = gw
    return gw


def _cors(request: Request, settings: GatewaySettings, response: Response) -> Response:
    origin = request.headers.get("origin", "").rstrip("/")
    if origin and origin in settings.cors_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Content-Disposition"
        response.headers["Vary"] = "Origin"
    return response


def _to_response(answer: HttpAnswer) -> Response:
    return Response(
        content=answer.body,
        status_code=answer.status,
        media_type=answer.content_type,
        headers=answer.headers,
    )


async def _read(request: Request) -> tuple[bytes, bytes | None]:
    """(envelope bytes, uploaded file or None); multipart bodies carry ``jsonStr`` + file."""
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        return await request.body(), None
    form = await request.form(max_files=2, max_fields=20)
    json_part = form.get("jsonStr")
    if json_part is None:
        return b"", None
    envelope = json_part.encode("utf-8") if isinstance(json_part, str) else await json_part.read()
    upload: bytes | None = None
    for name in ("file", "in"):
        part = form.get(name)
        if part is not None and not isinstance(part, str):
            upload = await part.read()
            break
    return envelope, upload


async def _serve(request: Request, path_infno: str = "") -> Response:
    try:
        gw = _gateway(request)
        try:
            body, upload = await _read(request)
        except Exception:  # malformed multipart: answered as an envelope error below
            body, upload = b"\x00", None
        answer = await run_in_threadpool(
            gw.handle, body, dict(request.headers), path_infno=path_infno, upload=upload
        )
        return _cors(request, gw.settings, _to_response(answer))
    except Exception:  # the pipeline never raises; this guards its construction
        log.exception("nhsa_gateway_unavailable")
        return Response(content=_UNAVAILABLE, media_type="application/json; charset=utf-8")


async def _preflight(request: Request) -> Response:
    response = Response(status_code=204)
    _cors(request, _settings(request), response)
    if "Access-Control-Allow-Origin" in response.headers:
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = _ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    return response


@router.post(SINGLE_URL, summary="CSB single URL (every infno)")
async def call_service(request: Request) -> Response:
    return await _serve(request)


@router.options(SINGLE_URL, include_in_schema=False)
async def call_service_preflight(request: Request) -> Response:
    return await _preflight(request)


def _add_fixed(path: str, infno: str) -> None:
    async def endpoint(request: Request) -> Response:
        return await _serve(request, infno)

    async def preflight(request: Request) -> Response:
        return await _preflight(request)

    router.add_api_route(path, endpoint, methods=["POST"], summary=f"{infno} (per-service path)")
    router.add_api_route(path, preflight, methods=["OPTIONS"], include_in_schema=False)


for _prefix in HEBEI_PREFIXES:
    for _path, _infno in HEBEI_PATHS.items():
        _add_fixed(_prefix + _path, _infno)


def _add_tif(base: str) -> None:
    async def endpoint(request: Request, infno: str) -> Response:
        return await _serve(request, infno)

    async def preflight(request: Request, infno: str) -> Response:
        return await _preflight(request)

    router.add_api_route(
        base + "/{infno}", endpoint, methods=["POST"], summary="TIF per-infno path"
    )
    router.add_api_route(base + "/{infno}", preflight, methods=["OPTIONS"], include_in_schema=False)


for _base in TIF_BASES:
    _add_tif(_base)
