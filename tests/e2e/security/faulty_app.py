"""A Yibao app with one injected unexpected error (test-only fault injection).

Started by the log-redaction test as ``tests.e2e.security.faulty_app:app``: the production app
(``app_from_env``) in which 1101 for a person whose name starts with :data:`FAULTY_SURNAME`
raises :class:`RuntimeError` *after* the registry has read the person, so the frames of the
failing request hold the person's certificate number, name and phone and the institution's
decrypted secret — what a traceback with local variables would print. Production code carries no
such switch.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from fastapi import FastAPI

from yibao.api.app import app_from_env
from yibao.registry import service as registry

FAULTY_SURNAME = "欧阳"


def app() -> FastAPI:
    """``app_from_env`` whose 1101 fails unexpectedly for the :data:`FAULTY_SURNAME` person."""
    original = registry.person_info_1101

    def person_info_1101(
        conn: sa.Connection, psn_no: str, on_date: date, *, actor: str, purpose: str = "1101"
    ) -> dict[str, object]:
        person = registry.store.get_person(conn, psn_no)
        if person is not None and person.psn_name.startswith(FAULTY_SURNAME):
            raise RuntimeError(f"injected fault while answering 1101 for {person.psn_no}")
        return original(conn, psn_no, on_date, actor=actor, purpose=purpose)

    registry.person_info_1101 = person_info_1101  # type: ignore[assignment]
    return app_from_env()
