"""What checkout prices and records (账单与结算结果): bills, priced bills, settlements. Pure.

The settlement use cases (:mod:`yibao.checkout.settle_visit` …) turn a command into a
:class:`Bill`, price it (:mod:`yibao.checkout.pricing`) and record it; these are the values that
pass between the steps and back to the national interface's handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from yibao.encounter.records import SettlementRecord
from yibao.registry.model import Person as RegistryPerson
from yibao.registry.model import RegistrySnapshot
from yibao.settlement.model import Item, SettlementResult

PHARMACY_HOSP_LV = "11"  # 无等级: a retail pharmacy has no hospital level (§3.12)
EMERGENCY_MED_TYPES = frozenset({"13", "1301"})  # 急诊 (med_type code table §3.2)


class CheckoutError(ValueError):
    """A settlement the platform refuses (业务拒绝); ``err_msg`` is for the HIS."""

    def __init__(self, err_msg: str) -> None:
        super().__init__(err_msg)
        self.err_msg = err_msg


class CheckoutInputError(ValueError):
    """A request field that contradicts the stored visit (bad input: nothing is written, the
    msgid is not used up); ``field`` is the full path, ``rule`` the reason."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


@dataclass(frozen=True, slots=True)
class Caller:
    """The designated institution asking (定点医药机构): where the care happens."""

    fixmedins_code: str
    fixmedins_name: str
    admdvs: str  # 就医地 (the institution's pooling region)
    hosp_lv: str  # "" for a pharmacy

    @property
    def pricing_hosp_lv(self) -> str:
        return self.hosp_lv or PHARMACY_HOSP_LV


@dataclass(frozen=True, slots=True)
class Bill:
    """What is to be settled: who, under which insurance, where, and the classified items."""

    psn_no: str
    insutype: str
    insuplc_admdvs: str
    med_type: str
    service_date: date
    items: tuple[Item, ...]
    acct_used_flag: str = "1"
    psn_setlway: str = "01"
    dise_codg: str | None = None
    endtime: date | None = None
    emergency: bool = False  # 急诊抢救: deemed filed (视同备案) when treated in another region


@dataclass(frozen=True, slots=True)
class Priced:
    """A computed settlement not yet recorded (pre-settlement answer, or settlement input)."""

    bill: Bill
    result: SettlementResult
    snapshot: RegistrySnapshot
    person: RegistryPerson
    acc_year: int
    setlinfo: dict[str, object]  # fen
    setldetail: list[dict[str, object]]  # fen
    deltas: dict[str, int]  # flat accumulator deltas
    setl_seq: int | None = None  # drawn with the accumulator lock: the settlement's setl_id
    filing: str = "unfiled"  # the filing status (备案) the split used (异地就医)


@dataclass(frozen=True, slots=True)
class Settled:
    """A recorded settlement or cancellation and the account balance after it."""

    record: SettlementRecord
    balc: int
    person: RegistryPerson | None
    age: int | None = None
