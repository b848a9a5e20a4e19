"""What both centres share: reading camelCase input, the institution as checkout's caller, the
core's refusals as :class:`~yibao.online.model.OnlineError`, running a checkout flow."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import sqlalchemy as sa

from yibao.checkout.bills import Caller, CheckoutError, CheckoutInputError
from yibao.checkout.model import AmountMismatch
from yibao.clock import CHINA
from yibao.db import hot
from yibao.db.flow import Conflict, Flow, Refused, run
from yibao.encounter.model import EncounterError
from yibao.encounter.store import EncounterConflict
from yibao.institutions import service as institutions
from yibao.money import yuan_to_fen
from yibao.online.model import OnlineError
from yibao.voucher.presence import PresenceRefused

T = TypeVar("T")


def text(d: Mapping[str, Any], name: str, where: str, *, required: bool = False,
         max_len: int = 40) -> str:  # fmt: skip
    value = d.get(name)
    out = "" if value is None else str(value).strip()
    if required and not out:
        raise OnlineError(f"{where}.{name}", "必填")
    if len(out) > max_len:
        raise OnlineError(f"{where}.{name}", f"长度不能超过{max_len}")
    return out


def code(d: Mapping[str, Any], name: str, where: str, allowed: Mapping[str, str] | tuple[str, ...],
         *, required: bool = True, default: str = "") -> str:  # fmt: skip
    value = text(d, name, where, required=required and not default) or default
    if value and value not in allowed:
        raise OnlineError(f"{where}.{name}", f"取值须为：{'、'.join(allowed)}")
    return value


def amount(d: Mapping[str, Any], name: str, where: str, *, required: bool = True) -> int:
    """An amount in 元 (2 decimals) as fen."""
    value = d.get(name)
    if value in (None, ""):
        if required:
            raise OnlineError(f"{where}.{name}", "必填")
        return 0
    try:
        dec = Decimal(str(value))
    except InvalidOperation:
        raise OnlineError(f"{where}.{name}", "须为金额（元，两位小数）") from None
    if dec != dec.quantize(Decimal("0.01")) or dec < 0:
        raise OnlineError(f"{where}.{name}", "须为不小于0、至多两位小数的金额（元）")
    return yuan_to_fen(dec)


def number(d: Mapping[str, Any], name: str, where: str, places: int) -> Decimal:
    try:
        dec = Decimal(str(d.get(name)))
    except InvalidOperation:
        raise OnlineError(f"{where}.{name}", "须为数字") from None
    if not dec.is_finite() or dec != dec.quantize(Decimal(1).scaleb(-places)):
        raise OnlineError(f"{where}.{name}", f"须为至多{places}位小数的数字")
    return dec


def moment(
    d: Mapping[str, Any], name: str, where: str, *, required: bool = True
) -> datetime | None:
    value = text(d, name, where, required=required, max_len=19)
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except ValueError:
        raise OnlineError(f"{where}.{name}", "格式须为 yyyy-MM-dd HH:mm:ss") from None


def yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def caller_of(conn: sa.Connection, fixmedins_code: str) -> Caller:
    inst = institutions.get(conn, fixmedins_code)
    if inst is None:
        raise OnlineError("orgCodg", f"定点医药机构 {fixmedins_code} 不存在")
    return Caller(inst.fixmedins_code, inst.fixmedins_name, inst.admdvs, inst.hosp_lv or "")


@contextmanager
def refused() -> Iterator[None]:
    """The core's refusals (checkout, encounter, presence) as :class:`OnlineError`."""
    try:
        yield
    except AmountMismatch as exc:
        raise OnlineError(exc.field, str(exc).partition(": ")[2]) from exc
    except CheckoutInputError as exc:
        raise OnlineError(exc.field, exc.rule) from exc
    except PresenceRefused as exc:
        raise OnlineError(exc.field, exc.rule) from exc
    except EncounterConflict as exc:
        raise OnlineError("mdtrtId", exc.err_msg) from exc
    except (CheckoutError, EncounterError) as exc:
        raise OnlineError("core", exc.err_msg) from exc
    except Refused as exc:
        raise OnlineError("core", exc.message) from exc
    except Conflict as exc:
        raise OnlineError("core", "数据已被并发修改，请重试") from exc


def run_flow(conn: sa.Connection, flow: Flow[T]) -> T:
    """Run a checkout flow in ``conn``'s transaction (its writes sent at the end, one statement)."""
    return run(hot.driver(conn), flow)


def jsonable(value: Any) -> Any:
    """Request values for a JSONB column (decimals as the text they spell)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def loads(raw: bytes | str) -> Any:
    from yibao.online.envelope import loads as _loads

    return _loads(raw)
