"""API documentation pages that work without internet (接口文档，离线可用).

- ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) load their scripts and styles from this server:
  the files shipped by the ``fastapi-offline`` package (Swagger UI and ReDoc builds, MIT), mounted
  at ``/docs/assets``. No CDN and no web fonts (ReDoc's Google Fonts link is left out; the
  system's fonts render the page), and Swagger UI's online validator badge is switched off.
- ``/docs/nhsa/`` serves the national-interface pages of ``docs/api/`` (README.md as the index),
  rendered from Markdown with ``markdown-it-py`` (raw HTML in the files is not passed through);
  relative links between the pages keep working because each page keeps its file name
  (``/docs/nhsa/outpatient.md``). ``?raw=1`` gives the Markdown text itself.

The Swagger UI page links to ``/docs/nhsa/`` from the API description.
"""

from __future__ import annotations

import html
import re
from functools import cache
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"
NHSA_DOCS = "/docs/nhsa/"
#: the repository's docs/api folder (next to src/, as the demo catalogues are)
API_DOCS_DIR = Path(__file__).resolve().parents[3] / "docs" / "api"
_PAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*\.md$")

DESCRIPTION_LINK = (
    f"\n\n国家接口文档 (national interface pages: envelope, transports, every transaction, the "
    f"front-end processor 医保前置机): [{NHSA_DOCS}]({NHSA_DOCS})"
)


def _assets_dir() -> str:
    return str(resources.files("fastapi_offline") / "static")


_SAME_ORIGIN_ONLY = "default-src 'self' 'unsafe-inline' blob: data:"


def install(app: FastAPI) -> None:
    """Mount the local assets and add /docs, /redoc and /docs/nhsa/ (the app is created with
    ``docs_url=None, redoc_url=None``)."""
    app.mount(ASSETS, StaticFiles(directory=_assets_dir()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - 接口文档",
            oauth2_redirect_url=oauth2_url,
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from the internet
        )

    @app.get(oauth2_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )
        # ReDoc's sidebar footer draws its logo from cdn.redoc.ly; the policy keeps the page on
        # this server (the browser does not even try, so nothing waits on a dead network).
        page.headers["Content-Security-Policy"] = _SAME_ORIGIN_ONLY
        return page

    @app.get("/docs/nhsa", include_in_schema=False)
    @app.get(NHSA_DOCS, include_in_schema=False)
    async def nhsa_index() -> Response:
        return HTMLResponse(_render("README.md"))

    @app.get(NHSA_DOCS + "{name}", include_in_schema=False)
    async def nhsa_page(name: str, raw: bool = False) -> Response:
        if not _PAGE.match(name) or not (API_DOCS_DIR / name).is_file():
            raise HTTPException(404, f"没有这一页接口文档：{name}")
        if raw:
            text = (API_DOCS_DIR / name).read_text(encoding="utf-8")
            return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")
        return HTMLResponse(_render(name))


@cache
def _markdown() -> object:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


_STYLE = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;
max-width:1100px;margin:0 auto;padding:1.5rem;line-height:1.6;color:#1f2933}
nav{margin-bottom:1rem;font-size:.9rem}a{color:#0b5cad}
pre{background:#f4f6f8;padding:.8rem;overflow-x:auto;font-size:.85rem}
code{font-family:"DejaVu Sans Mono",monospace;font-size:.9em}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .6rem;
vertical-align:top}th{background:#f4f6f8}
"""


def _render(name: str) -> str:
    """One page of docs/api as a whole HTML document."""
    from markdown_it import MarkdownIt

    path = API_DOCS_DIR / name
    if not path.is_file():
        raise HTTPException(404, f"没有这一页接口文档：{name}")
    text = path.read_text(encoding="utf-8")
    md = _markdown()
    assert isinstance(md, MarkdownIt)
    body = md.render(text)
    first = next((ln for ln in text.splitlines() if ln.startswith("# ")), name)
    title = html.escape(first.lstrip("# ").strip())
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{title}</title>"
        f'<link rel="icon" href="{ASSETS}/favicon.png"><style>{_STYLE}</style></head><body>'
        f'<nav><a href="{NHSA_DOCS}">国家接口文档目录</a> · <a href="/docs">接口调试 (Swagger UI)</a>'
        f' · <a href="/redoc">ReDoc</a> · <a href="{NHSA_DOCS}{name}?raw=1">Markdown 原文</a></nav>'
        f"<main>{body}</main></body></html>"
    )
