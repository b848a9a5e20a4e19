"""The presence check (就诊凭证核验) as the settlement handlers call it: one line each.

Not a transaction module: it registers nothing. The rule is :mod:`yibao.voucher.presence`; this
reads the credential from the request node, picks the local or the cross-province check, and turns
a refusal into an :class:`~yibao.api.nhsa.fields.InputError` naming the field (``infcode`` -1,
nothing written, the msgid stays usable once the HIS presents the right credential).

- :func:`require` — visit-opening calls (2201 ``data``, 2401 ``mdtrtinfo``, 2101/2102
  ``druginfo``): the person named by the node's ``psn_no``. Runs before any registry read, so an
  unknown ``psn_no`` and a wrong credential get the same answer.
- :func:`require_for_visit` — settling calls on an open visit (2206/2207 ``data``, 2303/2304
  ``data``): the visit's person.

Cross-province persons live in the insured province: their ecToken, card register and registry
are checked there through the hub when the visit is opened (:mod:`yibao.api.nhsa.handlers._across`);
here the ID number and name are compared with what that side confirmed, and an ecToken presented
at settlement is resolved by the insured side again (:mod:`yibao.hub.voucher_relay`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import Context
from yibao.api.nhsa.fields import InputError
from yibao.api.nhsa.handlers import _across as gateway_relay
from yibao.encounter import store as encounter_store
from yibao.encounter.model import Encounter
from yibao.hub import voucher_relay
from yibao.voucher import presence
from yibao.voucher.model import EcError
from yibao.voucher.presence import PresenceRefused, Presented

log = structlog.get_logger(__name__)


def presented(data: Mapping[str, Any], where: str) -> Presented:
    """The credential of a request node; for 02 an empty ``mdtrt_cert_no`` falls back to
    ``certno`` (2303/2304 carry ``certno`` as required and ``mdtrt_cert_no`` as optional)."""
    cert_type = fields.code(dict(data), "mdtrt_cert_type", where, "mdtrt_cert_type", required=True)
    cert_no = fields.text(dict(data), "mdtrt_cert_no", where, max_len=600, label="就诊凭证编号")
    if not cert_no and cert_type == presence.ID_CARD:
        cert_no = fields.text(dict(data), "certno", where, max_len=50, label="证件号码")
    return Presented(
        mdtrt_cert_type=cert_type,
        mdtrt_cert_no=cert_no,
        psn_name=fields.text(dict(data), "psn_name", where, max_len=50, label="人员姓名"),
        card_sn=fields.text(dict(data), "card_sn", where, max_len=64, label="卡识别码"),
        certno=fields.text(dict(data), "certno", where, max_len=50, label="证件号码"),
    )


def _refused(ctx: Context, psn_no: str, exc: PresenceRefused) -> InputError:
    log.warning(
        "presence_refused",
        fixmedins_code=ctx.institution.fixmedins_code,
        infno=ctx.envelope.infno,
        psn_no=psn_no,
        field=exc.field,
    )
    return InputError(exc.field, exc.rule)


def require(ctx: Context, data: Mapping[str, Any], where: str) -> None:
    """The node's credential proves its ``psn_no`` is at this institution's counter."""
    psn_no = fields.text(dict(data), "psn_no", where, required=True, max_len=30, label="人员编号")
    cred = presented(data, where)
    try:
        if gateway_relay.applies(ctx.envelope.insuplc_admdvs):
            # the insured side checks the ecToken or certificate when the visit is opened; an
            # ID number here must be the certificate that side is asked about
            given = str(data.get("certno") or "")
            if given:
                presence.check_relayed(cred, {"certno": given}, where=where)
            return
        presence.verify(ctx.conn, cred, psn_no=psn_no,
                        fixmedins_code=ctx.institution.fixmedins_code, now=ctx.now, where=where)  # fmt: skip
    except PresenceRefused as exc:
        raise _refused(ctx, psn_no, exc) from exc


def require_for_visit(ctx: Context, data: Mapping[str, Any], where: str, enc: Encounter) -> None:
    """The node's credential proves the visit's person is at the counter (2206/2207/2303/2304)."""
    cred = presented(data, where)
    try:
        if not gateway_relay.applies(enc.insuplc_admdvs):
            presence.verify(ctx.conn, cred, psn_no=enc.psn_no,
                            fixmedins_code=ctx.institution.fixmedins_code, now=ctx.now,
                            where=where)  # fmt: skip
            return
        info = encounter_store.encounter_info(ctx.conn, enc.mdtrt_id).get("info") or {}
        person = info.get(gateway_relay.PERSON_KEY) or {}
        presence.check_relayed(cred, person, where=where)
        if cred.mdtrt_cert_type == presence.EC_TOKEN:
            _relayed_token(ctx, cred.mdtrt_cert_no, enc, where)
    except PresenceRefused as exc:
        raise _refused(ctx, enc.psn_no, exc) from exc


def _relayed_token(ctx: Context, token: str, enc: Encounter, where: str) -> None:
    """An ecToken of a cross-province visit, resolved by the insured side for this institution."""
    region = voucher_relay.token_region(token) or enc.insuplc_admdvs
    try:
        out = voucher_relay.identity_elsewhere(
            region, token, ctx.institution.fixmedins_code, ctx.now.date()
        )
    except EcError as exc:
        raise PresenceRefused(f"{where}.mdtrt_cert_no", exc.message) from exc
    base = out.get("baseinfo")
    if not isinstance(base, dict) or base.get("psn_no") != enc.psn_no:
        raise PresenceRefused(f"{where}.mdtrt_cert_no", f"就诊凭证与人员编号 {enc.psn_no} 不符")
