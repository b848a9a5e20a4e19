"""The gateway's paths in ``/openapi.json`` (they are served by plain ASGI, not FastAPI routes)."""

from __future__ import annotations

from typing import Any

from yibao.api.nhsa import asgi

_ENVELOPE = {
    "type": "object",
    "description": "请求报文 (reference §1.1): infno, msgid, mdtrtarea_admvs, insuplc_admdvs, "
    "recer_sys_code, infver, opter_type, opter, opter_name, inf_time, fixmedins_code, "
    "fixmedins_name, sign_no, input{节点: …}",
    "required": ["infno", "msgid", "mdtrtarea_admvs", "fixmedins_code", "input"],
    "properties": {
        "infno": {"type": "string"},
        "msgid": {"type": "string"},
        "mdtrtarea_admvs": {"type": "string"},
        "insuplc_admdvs": {"type": "string"},
        "fixmedins_code": {"type": "string"},
        "input": {"type": "object"},
    },
}
_HEADERS = [
    {"name": n, "in": "header", "required": False, "schema": {"type": "string"}}
    for n in (
        "_api_access_key",
        "_api_name",
        "_api_timestamp",
        "_api_version",
        "_api_signature",
        "_api_nonce",
        "x-tif-paasid",
        "x-tif-timestamp",
        "x-tif-nonce",
        "x-tif-signature",
    )
]
_RESPONSES = {
    "200": {"description": "应答报文: infcode 0 成功 / -1 失败, err_msg, output"},
    "401": {"description": '服务网关拒绝: {"code":401,"message":"签名不一致!"…}'},
}


def _post(summary: str) -> dict[str, Any]:
    return {
        "post": {
            "tags": ["national interface 国家接口"],
            "summary": summary,
            "parameters": _HEADERS,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": _ENVELOPE},
                    "application/x-www-form-urlencoded": {
                        "schema": {"type": "object", "properties": {"jsonStr": {"type": "string"}}}
                    },
                },
            },
            "responses": _RESPONSES,
        }
    }


def gateway_paths() -> dict[str, Any]:
    """Path items of the single URL, the TIF per-infno paths and the Hebei per-service paths."""
    paths: dict[str, Any] = {asgi.SINGLE_URL: _post("CSB single URL (every infno)")}
    for base in asgi.TIF_BASES:
        item = _post("TIF per-infno path")
        item["post"]["parameters"] = [
            {"name": "infno", "in": "path", "required": True, "schema": {"type": "string"}},
            *_HEADERS,
        ]
        paths[base + "{infno}"] = item
    for prefix in asgi.HEBEI_PREFIXES:
        for path, infno in asgi.HEBEI_PATHS.items():
            paths[prefix + path] = _post(f"{infno} (per-service path)")
    return paths
