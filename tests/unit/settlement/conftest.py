"""Helpers for engine tests: build items, people and encounters tersely."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from yibao.money import yuan_to_fen
from yibao.policy.loader import resolve
from yibao.policy.model import ResolvedPolicy
from yibao.settlement.model import Item


def item(sn: str, yuan: str | int, lv: str = "01", prop: str = "0", **kw: object) -> Item:
    """One fee line of ``yuan`` (quantity 1) in class ``lv`` with first-pay ``prop``."""
    fen = yuan_to_fen(yuan)
    return Item(
        feedetl_sn=sn,
        med_list_codg=f"CODE{sn}",
        name=f"项目{sn}",
        list_type="101",
        chrgitm_lv=lv,
        med_chrgitm_type="09",
        det_item_fee_sumamt=fen,
        cnt=Decimal(1),
        pric=Decimal(fen) / 100,
        selfpay_prop=Decimal(prop),
        **kw,  # type: ignore[arg-type]
    )


def policy(admdvs: str, on: date = date(2025, 7, 1), **overrides: object) -> ResolvedPolicy:
    """The shipped policy, with ``key__sub`` style overrides written as ``key=value``."""
    return resolve(admdvs, on, {k.replace("__", "."): v for k, v in overrides.items()} or None)
