"""1101 人员信息获取 (reference §2.2, §4.2) over the registry and the e-voucher.

Input ``data{mdtrt_cert_type(Y), mdtrt_cert_no(Y), card_sn, begntime, psn_cert_type, certno,
psn_name}`` → ``baseinfo{}``, ``insuinfo[]`` (one row per 险种), ``idetinfo[]`` — built by
:func:`yibao.registry.service.person_info_1101` (which audits the disclosure of ``certno``).

- ``01`` 医保电子凭证: ``mdtrt_cert_no`` is the ecToken, valid only for the institution it was
  issued to (:func:`yibao.voucher.service.resolve_ec_token`, ``orgId`` = fixmedins_code);
- ``02`` 居民身份证: ``mdtrt_cert_no`` is the ID number;
- ``03`` 社会保障卡: ``mdtrt_cert_no`` is the card number (卡号), found in the card register
  (``social_security_card``); ``card_sn`` (卡识别码) required and, when registered, checked.

The credential, a given ``certno`` and a given ``psn_name`` are checked by
:func:`yibao.voucher.presence.verify` before anything is disclosed; a successful local 1101 is
recorded as a proof of presence (:func:`yibao.voucher.presence.record`), which lets the
institution query the person (5201–5206) while it lasts.

"异地就医必填": when ``insuplc_admdvs`` ≠ ``mdtrtarea_admvs``, ``psn_cert_type``, ``certno`` and
``psn_name`` are required. A given ``psn_name`` must match the registry.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import BusinessError, Context, transaction
from yibao.api.nhsa.fields import InputError
from yibao.api.nhsa.handlers import _across as gateway_relay
from yibao.institutions.service import business_day
from yibao.registry import service as registry
from yibao.voucher import presence
from yibao.voucher.base import VoucherSettings
from yibao.voucher.model import EcError
from yibao.voucher.presence import Presented
from yibao.voucher.service import resolve_ec_token

WHERE = "input.data"


def _find(ctx: Context, cert_type: str, cert_no: str) -> str:
    if cert_type == "01":
        try:
            return resolve_ec_token(ctx.conn, cert_no, ctx.institution.fixmedins_code, ctx.now)
        except EcError as exc:
            raise BusinessError(f"mdtrt_cert_no: {exc.message}") from exc
    if cert_type == "02":
        psn_no = registry.find_psn_no_by_cert(ctx.conn, "01", cert_no)
    else:
        psn_no = registry.find_psn_no_by_card(ctx.conn, cert_no)
    if psn_no is None:
        raise BusinessError(f"未查询到参保人员信息 (就诊凭证类型{cert_type})")
    return psn_no


@transaction("1101", "人员信息获取")
def person_info(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    cert_type = fields.code(data, "mdtrt_cert_type", WHERE, "mdtrt_cert_type", required=True)
    cert_no = fields.text(
        data, "mdtrt_cert_no", WHERE, required=True, max_len=64, label="就诊凭证编号"
    )
    card_sn = fields.text(data, "card_sn", WHERE, max_len=32)
    begntime = fields.moment(data, "begntime", WHERE)
    cross = ctx.envelope.is_cross_region
    relayed = cross and gateway_relay.applies(ctx.envelope.insuplc_admdvs)
    need = cross and not (relayed and cert_type == "01")  # 跨省医保码: the insured side knows
    # 人员证件类型 is padded ("1" → "01"); when the lookup does not use it (local care), a value
    # that is no code at all is ignored with a warning instead of refusing the lookup
    psn_cert_type = fields.code(data, "psn_cert_type", WHERE, "psn_cert_type", required=need,
                                pad=True, unused=not need)  # fmt: skip
    if not need and data.get("psn_cert_type") not in (None, "") and not psn_cert_type:
        ctx.warn(f"{WHERE}.psn_cert_type: 不是人员证件类型字典中的值，本交易未使用，已忽略")
    certno = fields.text(data, "certno", WHERE, required=need, max_len=50, label="证件号码")
    psn_name = fields.text(data, "psn_name", WHERE, required=need, max_len=50, label="人员姓名")
    if cert_type == "03" and not card_sn:
        raise InputError(f"{WHERE}.card_sn", "就诊凭证类型为03(社会保障卡)时卡识别码必填")
    on = begntime.date() if begntime else business_day(ctx.now).date()
    if relayed:  # 跨省: ask the insured side (by certificate, or the ecToken it issued)
        return numeric_1101(gateway_relay.person_info(
            ctx, certno=certno, psn_cert_type=psn_cert_type, psn_name=psn_name, on=on,
            mdtrt_cert_type=cert_type, mdtrt_cert_no=cert_no,
        ))  # fmt: skip
    psn_no = _find(ctx, cert_type, cert_no)
    org = ctx.institution.fixmedins_code
    try:  # the card's chip id, a given certno and name: checked before anything is disclosed
        presence.verify(ctx.conn, Presented(cert_type, cert_no, psn_name, card_sn, certno),
                        psn_no=psn_no, fixmedins_code=org, now=ctx.now, where=WHERE)  # fmt: skip
    except presence.PresenceRefused as exc:
        raise BusinessError(str(exc)) from exc
    actor = f"nhsa:{org}/{ctx.operator.opter_no}"
    try:
        out = registry.person_info_1101(ctx.conn, psn_no, on, actor=actor)
    except registry.PersonNotFound as exc:
        raise BusinessError(str(exc)) from exc
    # the person proved their presence here: 5201–5206 about them may be answered (issue 10)
    presence.record(ctx.conn, fixmedins_code=org, psn_no=psn_no, mdtrt_cert_type=cert_type,
                    now=ctx.now, ttl=timedelta(seconds=VoucherSettings().token_ttl))  # fmt: skip
    return numeric_1101(out)


def _decimal(value: object, places: str) -> object:
    """A numeric text ("35.0", "1234.56") as a JSON number with the spec's decimals; anything
    else (a number already, or an unexpected text) unchanged."""
    if isinstance(value, str) and value.strip():
        try:
            return Decimal(value.strip()).quantize(Decimal(places))
        except InvalidOperation:
            return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value).quantize(Decimal(places))
    return value


def numeric_1101(out: dict[str, Any]) -> dict[str, Any]:
    """The 1101 output with its 数值型 fields as JSON numbers, as 2206/2207 answer amounts:
    ``baseinfo.age`` (4,1) and ``insuinfo[].balc`` (16,2). Other fields are untouched."""
    out = dict(out)
    base = out.get("baseinfo")
    if isinstance(base, dict) and "age" in base:
        out["baseinfo"] = {**base, "age": _decimal(base["age"], "0.1")}
    rows = out.get("insuinfo")
    if isinstance(rows, list):
        out["insuinfo"] = [
            {**r, "balc": _decimal(r["balc"], "0.01")} if isinstance(r, dict) and "balc" in r
            else r
            for r in rows
        ]  # fmt: skip
    return out
