"""``GET /api/staff/session`` (经办人员会话): who is signed in, what they may do, the CSRF token.

Staff authentication itself lives in :mod:`yibao.http.staff` (below the app and every
capability's router); its names are re-exported here for callers of the old path.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from yibao.http.staff import (
    CSRF_HEADER,
    ROLE_CAPABILITIES,
    SAFE_METHODS,
    SESSION_COOKIE,
    Capability,
    Staff,
    StaffAuthError,
    check_csrf_header,
    forbidden,
    not_signed_in,
    out_of_scope,
    staff_of,
)

__all__ = [
    "CSRF_HEADER",
    "ROLE_CAPABILITIES",
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "Capability",
    "Staff",
    "StaffAuthError",
    "check_csrf_header",
    "forbidden",
    "not_signed_in",
    "out_of_scope",
    "router",
    "staff_of",
]


router = APIRouter(prefix="/api/staff", tags=["staff 经办人员"])


@router.get("/session")
def session(request: Request) -> object:
    """Who is signed in, what they may do, and the CSRF token for ``X-CSRF-Token``."""
    try:
        staff = staff_of(request)
    except StaffAuthError as e:
        return JSONResponse({"error": e.key, "message": e.message}, e.status)
    p = staff.principal
    return {
        "username": p.username,
        "display_name": p.display_name,
        "role": p.role.value,
        "role_label": p.role.label,
        "admdvs": p.admdvs,
        "fixmedins_code": p.fixmedins_code,
        "scope": staff.scope.label,
        "capabilities": sorted(c.value for c in ROLE_CAPABILITIES[p.role]),
        "csrf_token": staff.csrf_token,
    }
