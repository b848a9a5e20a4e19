"""1101 人员信息获取 (nhsa-interface.md §2.2).

``data{mdtrt_cert_type, mdtrt_cert_no, card_sn, psn_cert_type, certno, psn_name}`` →
``baseinfo{}`` + ``insuinfo[]`` + ``idetinfo[]`` (the registry's builder). The certificate:

- 01 医保电子凭证: ``mdtrt_cert_no`` is the ecToken from the scanned QR code (voucher capability);
- 02 居民身份证: the 18-digit ID number;
- 03 社会保障卡: the card number, found as certificate type 90 社会保障卡 (``card_sn`` required).
"""

from __future__ import annotations

from typing import Any

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import BusinessError, Context, transaction
from yibao.api.nhsa.handlers._settle_common import china_date
from yibao.registry import service as registry
from yibao.registry.certs import CertError
from yibao.voucher.model import EcError
from yibao.voucher.service import resolve_ec_token

ID_CARD = "01"  # psn_cert_type 居民身份证
SOCIAL_CARD = "90"  # psn_cert_type 社会保障卡 (§3.13)


@transaction("1101", "人员信息获取")
def person_info(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    cert_type = fields.code(data, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    cert_no = fields.text(
        data, "mdtrt_cert_no", w, required=True, max_len=600, label="就诊凭证编号"
    )
    if cert_type == "01":
        try:
            psn_no: str | None = resolve_ec_token(
                ctx.conn, cert_no, ctx.institution.fixmedins_code, ctx.now
            )
        except EcError as exc:
            raise BusinessError(f"{w}.mdtrt_cert_no: 电子凭证令牌无效：{exc}") from exc
    elif cert_type == "02":
        try:
            psn_no = registry.find_psn_no_by_cert(ctx.conn, ID_CARD, cert_no)
        except CertError as exc:
            raise fields.InputError(f"{w}.mdtrt_cert_no", f"身份证号码无效：{exc}") from exc
    else:
        fields.text(data, "card_sn", w, required=True, max_len=32, label="卡识别码")
        try:
            psn_no = registry.find_psn_no_by_cert(ctx.conn, SOCIAL_CARD, cert_no)
        except CertError as exc:
            raise fields.InputError(f"{w}.mdtrt_cert_no", f"社会保障卡号无效：{exc}") from exc
    if psn_no is None:
        raise BusinessError(f"{w}.mdtrt_cert_no: 未查询到该就诊凭证对应的参保人员")
    return registry.person_info_1101(
        ctx.conn,
        psn_no,
        china_date(ctx.now),
        actor=f"nhsa:{ctx.institution.fixmedins_code}:{ctx.operator.opter_no}",
    )
