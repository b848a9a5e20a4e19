"""The e-prescription centre's transactions (电子处方中心 7xxx) as :mod:`yibao.online.service` ops."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from yibao.online import rx_pharmacy as ph
from yibao.online import rx_prescriber as pr
from yibao.online.apps import App
from yibao.online.service import PRESCRIPTION, Centre

Use = Callable[[sa.Connection, App, dict[str, Any], datetime], dict[str, Any]]


def _tx(use: Use) -> Callable[[Centre, App, dict[str, Any], datetime, str], dict[str, Any]]:
    def op(c: Centre, app: App, d: dict[str, Any], now: datetime, base: str) -> dict[str, Any]:
        with c.engine.begin() as conn:
            return use(conn, app, d, now)

    return op


def _query(which: str) -> Use:
    def use(conn: sa.Connection, app: App, d: dict[str, Any], now: datetime) -> dict[str, Any]:
        return pr.query(conn, app, d, now, which)

    return use


PRESCRIPTION.update({
    "7101": ("电子处方上传预核验", _tx(pr.precheck), "hospRxno"),
    "7102": ("电子处方医保电子签名", _tx(pr.sign), ""),
    "7103": ("电子处方上传", _tx(pr.upload), "hiRxno"),
    "7104": ("电子处方撤销", _tx(pr.undo), "hiRxno"),
    "7105": ("电子处方信息查询", _tx(_query("7105")), ""),
    "7106": ("电子处方审核结果查询", _tx(_query("7106")), ""),
    "7107": ("电子处方取药结果查询", _tx(_query("7107")), ""),
    "7201": ("电子处方线下流转授权", _tx(ph.authorise_offline), ""),
    "7202": ("电子处方线上流转查询", _tx(ph.authorise_online), ""),
    "7204": ("电子处方下载", _tx(ph.download), "authRxno"),
    "7205": ("电子处方信息核验", _tx(ph.check_signature), ""),
    "7206": ("电子处方审核信息上传", _tx(ph.review), "rxSignVerifySn"),
    "7207": ("药品销售出库明细上传", _tx(ph.sale), "rxChkBizSn"),
    "7208": ("药品销售出库明细撤销", _tx(ph.withdraw_sale), ""),
    "7209": ("配送信息同步", _tx(ph.delivery), ""),
    "7210": ("签收确认", _tx(ph.received), ""),
})  # fmt: skip
