"""Policy in force read model (政策查询): parameters for a region on a date, with references.

Uses the policy capability's resolver (``yibao.policy.resolve``): inheritance national →
province → city applied, each value with its date in force, source region and reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from yibao.web.unavailable import Unavailable

PENDING = Unavailable("政策参数尚未接入：政策参数服务尚未上线，暂无可查询的政策。", "policy")
NATIONAL = "000000"
GROUPS = {
    "employee": "职工基本医疗保险",
    "resident": "城乡居民基本医疗保险",
    "assistance": "医疗救助",
    "account": "个人账户",
    "catalog": "医保目录",
    "med_type": "医疗类别",
    "region": "地区参数",
    "payment": "支付方式改革（DRG/DIP、医共体）",
    "contribution": "筹资与缴费",
    "benefit": "待遇享受条件",
    "fund": "基金运行监测",
    "claims": "零星报销",
}


@dataclass(slots=True)
class PolicyParam:
    path: str
    label: str
    value: str
    since: str
    reference: str
    source_region: str
    assumed: bool = False

    @property
    def group(self) -> str:
        """The section the parameter is shown under (by the first segment of its key)."""
        head = self.path.split(".", 1)[0]
        return GROUPS.get(head, "其他参数")


@dataclass(slots=True)
class PolicyView:
    admdvs: str
    on: date
    name: str = ""
    chain: list[str] = field(default_factory=list)
    params: list[PolicyParam] = field(default_factory=list)
    defaults: int = 0  # parameters at the engine's built-in default (no file sets them)
    assumed: int = 0


def _policy_available() -> bool:
    try:
        import yibao.policy  # noqa: F401
    except ImportError:
        return False
    return True


def regions() -> list[str]:
    """Pooling regions (统筹区) with a shipped policy file, national defaults excluded."""
    if not _policy_available():
        return []
    from yibao.policy.loader import default_tree
    from yibao.policy.model import PolicyError

    try:
        tree = default_tree()
    except PolicyError:
        return []
    return sorted(code for code in tree.regions if code != NATIONAL)


def in_force(admdvs: str, on: date) -> PolicyView | Unavailable:
    """The parameters in force for ``admdvs`` on ``on``; Unavailable with the reason if none."""
    if not _policy_available():
        return PENDING
    from yibao.policy import PolicyError, resolve
    from yibao.settlement.trace_values import written

    try:
        pol = resolve(admdvs, on)
    except PolicyError as exc:
        return Unavailable(f"{admdvs} 在 {on.isoformat()} 没有可用的政策参数：{exc}", "policy")
    view = PolicyView(admdvs=admdvs, on=on, name=pol.name, chain=list(reversed(pol.chain)))
    for key in sorted(pol.params):
        u = pol.params[key].use
        if u.region == "-":
            view.defaults += 1
            continue
        view.assumed += int(u.assumed)
        view.params.append(
            PolicyParam(
                path=key,
                label=u.label,
                value=written(key, u.shown),  # as written, in Chinese (元, %, 在职/退休 …)
                since=u.since.isoformat(),
                reference=u.reference,
                source_region=u.region,
                assumed=u.assumed,
            )
        )
    return view
