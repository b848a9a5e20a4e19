"""Every identifier the console may show has a Chinese label (issue 12 part 4: no raw codes).

Walks the vocabularies at their source: the audit actions every capability writes (found in the
code, so a new action without a label fails here), their detail keys, the e-voucher channel kinds,
the policy dimensions (groups, levels, filings …) and every parameter of every shipped region.
"""

from __future__ import annotations

import ast
import functools
import re
from datetime import date
from pathlib import Path

import pytest

from yibao import codes
from yibao.claims.model import ACTION_LABELS as CLAIM_ACTIONS
from yibao.funds.service import TRANSFER_KINDS
from yibao.policy import resolve
from yibao.policy.loader import default_tree
from yibao.policy.model import DIMENSIONS, KEY_LABELS
from yibao.policy.schema import SPECS
from yibao.settlement.trace_values import ENUM_LABELS, written
from yibao.voucher.base import CHANNEL_KIND_LABELS, CHANNEL_KINDS
from yibao.web.labels_audit import DETAIL_KEYS, action_label, actor_label, detail, subject_label

SRC = Path(__file__).resolve().parents[3] / "src" / "yibao"
CJK = re.compile(r"[\u4e00-\u9fff]")
# an identifier as code writes it: snake_case, dotted keys, or a lowercase word of 3+ letters
IDENT = re.compile(r"[a-z][a-z0-9]*(?:[._][a-z0-9]+)+|\b[a-z]{3,}\b")
# f-string actions and the values their placeholder takes
EXPANSIONS: dict[str, tuple[str, ...]] = {
    "claim.{action}": tuple(CLAIM_ACTIONS),
    "funds.{kind}": tuple(TRANSFER_KINDS),
    "funds.approve_{kind}": ("relief", "deferral"),
}


@functools.cache
def _trees() -> tuple[tuple[Path, ast.Module], ...]:
    return tuple((p, ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(SRC.rglob("*.py")))


def _name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")


def _audit_calls() -> list[tuple[Path, ast.Call]]:
    """Calls of ``audit(conn, actor, action, …)`` and the registry's ``service.record(…)``."""
    out = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or len(node.args) < 3:
                continue
            name = _name(node)
            registry = name == "record" and ast.unparse(node.func) == "service.record"
            if name == "audit" or registry:
                out.append((path, node))
    return out


def _view_kinds() -> set[str]:
    """The ``what`` of every ``service.audit_view(engine, principal, what, …)`` call."""
    kinds = set()
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node) == "audit_view" and len(node.args) > 2:
                arg = node.args[2]
                assert isinstance(arg, ast.Constant), f"{path}: audit_view kind must be a literal"
                kinds.add(str(arg.value))
    return kinds


def written_actions() -> set[str]:
    actions: set[str] = set()
    for path, call in _audit_calls():
        arg = call.args[2]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            actions.add(arg.value)
        elif isinstance(arg, ast.JoinedStr):
            pattern = ast.unparse(arg)[2:-1]
            if pattern == "console.view_{what}":
                actions.update(f"console.view_{w}" for w in _view_kinds())
                continue
            assert pattern in EXPANSIONS, f"{path}: action {pattern}: add its values to the test"
            head = pattern.split("{")[0]
            actions.update(head + v for v in EXPANSIONS[pattern])
        else:  # a variable: the registry's record(conn, actor, action, …) passes it through
            assert path.name == "service.py" and "registry" in path.parts, (
                f"{path}: {ast.unparse(arg)}"
            )
    return actions


def test_the_walk_finds_the_actions_the_issue_named() -> None:
    actions = written_actions()
    assert {"registry.certno.disclose", "voucher.exchange", "console.view_person"} <= actions
    assert len(actions) > 50


def test_every_audit_action_written_anywhere_has_a_chinese_label() -> None:
    missing = sorted(a for a in written_actions() if action_label(a) == "其他操作")
    assert not missing, f"audit actions without a label in yibao.web.labels_audit: {missing}"
    for a in written_actions():
        assert CJK.search(action_label(a)), a


def test_every_audit_detail_key_has_a_chinese_label() -> None:
    keys = {k.arg for _, call in _audit_calls() for k in call.keywords if k.arg}
    missing = sorted(keys - set(DETAIL_KEYS))
    assert not missing, f"audit detail keys without a label: {missing}"


def test_audit_rows_read_in_chinese() -> None:
    assert actor_label("chnl:nhsa_app") == "渠道 国家医保服务平台"
    assert actor_label("nhsa:H44010000001/OP01") == "定点机构接口 H44010000001 操作员 OP01"
    assert subject_label("voucher.channel.register", "wechat") == "微信"
    shown = detail(
        "voucher.exchange",
        {"business_type": "01301", "operator_name": "张三", "purpose": "1101", "x": None},
    )
    assert shown == {"用码业务": "结算", "操作员": "张三", "用途": "人员信息获取（1101）"}
    assert detail("clearing.hub_report", {"agree": True}) == {"核对一致": "是"}
    assert detail("console.login_failed", {"reason": "bad_password", "role": "province_admin"}) == {
        "原因": "密码错误",
        "角色": "省级管理员",
    }


@pytest.mark.parametrize("kind", CHANNEL_KINDS)
def test_every_channel_kind_has_a_chinese_name(kind: str) -> None:
    assert CJK.search(CHANNEL_KIND_LABELS[kind])


@pytest.mark.parametrize(
    "key", sorted({k for keys in DIMENSIONS.values() for k in keys} | {"default"})
)
def test_every_policy_dimension_key_has_a_chinese_label(key: str) -> None:
    """Groups (senior, retired …), levels, settings, assistance classes (tekun …), filings."""
    label = KEY_LABELS.get(key, "")
    assert label and label != key and not IDENT.search(label), key


def test_every_parameter_and_enum_choice_has_a_chinese_label() -> None:
    for key, spec in SPECS.items():
        assert CJK.search(spec.label), key
        for choice in spec.choices:
            if key.endswith("fund_pay_type"):
                label = codes.label("fund_pay_type", choice)
            else:
                label = ENUM_LABELS.get(choice) or KEY_LABELS.get(choice, "")
            assert label and CJK.search(label), f"{key}: choice {choice!r} has no label"


def test_every_shipped_policy_value_reads_without_identifiers() -> None:
    """The 政策查询 page shows ``written(key, value)``: no JSON, ``false``, ``none`` or ``tekun``."""
    tree = default_tree()
    bad: dict[str, str] = {}
    for code in sorted(tree.regions):
        pol = resolve(code, date(2026, 11, 1))
        for key, p in pol.params.items():
            if p.use.region == "-":
                continue
            text = written(key, p.use.shown)
            if IDENT.search(text) or any(c in text for c in "{}[]\"'"):
                bad[f"{code} {key}"] = text
    assert not bad, bad


def test_numbers_are_never_read_as_dimension_keys() -> None:
    assert written("benefit.arrears_suspend_months", "3") == "3"
    assert written("payment.method", "dip") == "按病种分值付费（DIP）"
