"""How the registry API answers a refusal (参保登记接口错误): staff authentication, not found, bad
input and not enrolled, as ``{"error", "field", "message"}`` with a 4xx status."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from yibao.http.staff import StaffAuthError
from yibao.registry import service
from yibao.registry.model import NotEnrolled


class RegistryRoute(APIRoute):
    """Turns registry errors into ``{"error", "field", "message"}`` with a 4xx status."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except StaffAuthError as e:
                return JSONResponse({"error": e.key, "field": "", "message": e.message}, e.status)
            except service.PersonNotFound as e:
                return JSONResponse({"error": e.code, "field": e.field, "message": str(e)}, 404)
            except service.RegistryError as e:
                return JSONResponse({"error": e.code, "field": e.field, "message": str(e)}, 400)
            except NotEnrolled as e:
                return JSONResponse(
                    {"error": "NOT_ENROLLED", "field": "insutype", "message": str(e)}, 404
                )

        return wrapped

