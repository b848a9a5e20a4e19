"""Public pages of the online service desk (网上服务大厅): the service catalogue and 边问边办.

No sign-in: they show no personal data. Same security headers as the console.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from yibao.config import deployment_province
from yibao.services import service
from yibao.web.render import templates
from yibao.web.sources import policy as policy_src

router = APIRouter(prefix="/services", include_in_schema=False)
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
}  # fmt: skip


@router.get("", response_class=HTMLResponse)
def catalogue(request: Request) -> Response:
    return templates.TemplateResponse(request, "public_services.html",
                                      {"services": service.catalogue()}, headers=HEADERS)  # fmt: skip


@router.get("/ask", response_class=HTMLResponse)
def ask(request: Request, q: str = "", admdvs: str = "", on: str = "") -> Response:
    day: date | None = None
    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        day = None
    own = deployment_province()  # one province per deployment (docs/adr/0019)
    regions = [r for r in policy_src.regions() if r[2:] != "0000" and r.startswith(own)]
    if admdvs not in regions:
        admdvs = ""
    answer = service.ask(q[:200], admdvs, day) if q.strip() else None
    return templates.TemplateResponse(request, "public_ask.html",
                                      {"q": q, "admdvs": admdvs, "on": on, "regions": regions,
                                       "answer": answer}, headers=HEADERS)  # fmt: skip
