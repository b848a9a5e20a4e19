"""Browser cross-origin rules (CORS) shared by the gateway and the front-end processor: which
origins may call (listed, or matching a listed ``*`` pattern) and the headers that say so.
Pure: no framework, so the processor can use it without the server's dependencies."""

from __future__ import annotations

import fnmatch


def origin_allowed(origin: str, origins: tuple[str, ...]) -> bool:
    """A browser origin that is listed or matches a listed pattern (``http://*.hospital.example``)."""
    origin = origin.rstrip("/")
    return bool(origin) and any(
        origin == o or ("*" in o and fnmatch.fnmatchcase(origin, o)) for o in origins
    )


def cors_headers(
    origin: str, origins: tuple[str, ...], allowed_headers: str, preflight: bool
) -> list[tuple[bytes, bytes]]:
    """The CORS response headers for ``origin`` (none when it is not allowed); a preflight also
    names the methods and request headers allowed."""
    if not origin_allowed(origin, origins):
        return []
    headers = [
        (b"access-control-allow-origin", origin.rstrip("/").encode("latin-1")),
        (b"access-control-expose-headers", b"Content-Disposition"),
        (b"vary", b"Origin"),
    ]
    if preflight:
        headers += [
            (b"access-control-allow-methods", b"POST, OPTIONS"),
            (b"access-control-allow-headers", allowed_headers.encode("ascii")),
            (b"access-control-max-age", b"600"),
        ]
    return headers
