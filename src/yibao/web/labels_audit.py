"""Chinese labels of the audit log's vocabulary (审计日志用语): actions, actors, detail keys.

Every action a capability writes with ``yibao.db.tables.audit`` has a label here or in the
capability's own table (``yibao.claims.model.ACTION_LABELS``, ``yibao.funds.service.TRANSFER_KINDS``),
so the 审计日志 page never shows an identifier like ``registry.certno.disclose``.
``tests/unit/console/test_labels_vocabulary.py`` walks the source for every action written and
fails on one without a label.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from yibao import codes
from yibao.claims.model import ACTION_LABELS as CLAIM_ACTIONS
from yibao.console.model import Role
from yibao.funds.service import TRANSFER_KINDS
from yibao.voucher.base import CHANNEL_KIND_LABELS
from yibao.web.regions import region_name

ACTIONS: dict[str, str] = {
    "console.login": "登录成功",
    "console.login_failed": "登录失败",
    "console.locked": "账户锁定",
    "console.logout": "退出登录",
    "console.password_changed": "修改密码",
    "console.user_created": "创建用户",
    "console.view_person": "查看参保人",
    "console.view_settlement": "查看结算单",
    "console.view_settlement_export": "导出结算记录",
    "console.view_institution": "查看定点机构",
    "payment.advance": "DRG/DIP月度预结算",
    "payment.year_end": "DRG/DIP年度清算",
    "payment.special_review": "特例单议评审",
    "payment.community_saved": "医共体设置",
    "payment.community_budget": "医共体年度预算",
    "payment.community_month": "医共体月度分配",
    "payment.community_year_end": "医共体年度结算",
    "payment.institution_budget": "机构年度预算",
    "payment.list_review": "结算清单审核",
    "registry.certno.disclose": "提供证件号码（人员信息获取）",
    "registry.certno.reveal": "查看完整证件号码",
    "registry.certno.export": "导出完整证件号码",
    "registry.export": "导出参保人员",
    "registry.import": "批量导入参保人员",
    "registry.import_units": "导入参保单位",
    "registry.import_employment": "导入从业关系",
    "registry.person.register": "登记参保人",
    "registry.person.lookup": "查询参保人",
    "registry.person.enrol": "办理参保",
    "registry.person.identity": "登记人员身份",
    "registry.card.issue": "发放社会保障卡",
    "registry.household.create": "建立家庭户",
    "registry.household.member": "加入家庭户",
    "registry.account.post": "个人账户记账",
    "voucher.exchange": "医保码核验换取令牌",
    "voucher.revoke": "注销医保电子凭证",
    "voucher.channel.register": "登记激活渠道",
    "voucher.family.bind": "绑定亲情账户",
    "voucher.password.set": "设置支付密码",
    "voucher.password.change": "修改支付密码",
    "voucher.password.reset": "重置支付密码",
    "voucher.password.unlock": "解锁支付密码",
    "funds.assess": "职工缴费核定",
    "funds.assess_residents": "居民缴费核定",
    "funds.carry_over": "个人账户余额结转",
    "funds.retiree_credit": "退休人员个人账户划入",
    "funds.tax_export": "导出税务征收文件",
    "funds.tax_import": "导入税务到账文件",
    "funds.gongji_payment": "家庭共济缴费",
    "funds.approve_relief": "批准减征",
    "funds.approve_deferral": "批准缓缴",
    "campaign.load": "载入推广方案",
    "catalog.load": "载入医保目录",
    "clearing.hub_report": "向跨省中转报送清算数据",
}

REASONS: dict[str, str] = {
    "unknown_user": "用户不存在",
    "bad_password": "密码错误",
    "locked": "账户已锁定",
    "disabled": "账户已停用",
    "address": "同一地址失败次数过多",
}

DETAIL_KEYS: dict[str, str] = {
    "ip": "IP地址",
    "reason": "原因",
    "role": "角色",
    "admdvs": "区划",
    "region": "区划",
    "regions": "区划",
    "until": "锁定至",
    "purpose": "用途",
    "business_type": "用码业务",
    "operator_id": "操作员编号",
    "operator_name": "操作员",
    "office_id": "科室编号",
    "office_name": "科室",
    "kind": "类型",
    "name": "名称",
    "consent_by": "同意人",
    "org": "机构",
    "insutype": "险种",
    "type": "身份类型",
    "psn_no": "人员编号",
    "payer": "缴费人",
    "amount": "金额（分）",
    "fund": "基金",
    "ref": "业务流水号",
    "period": "期间",
    "period_from": "起始期间",
    "period_to": "截止期间",
    "year": "年度",
    "run_no": "批次号",
    "rows": "行数",
    "good_rows": "有效行数",
    "bad_rows": "错误行数",
    "file": "文件",
    "source": "来源",
    "source_file": "方案文件",
    "inserted": "新增",
    "updated": "更新",
    "invalidated": "失效",
    "persons": "人数",
    "persons_inserted": "新增人员",
    "persons_updated": "更新人员",
    "enrolments_inserted": "新增参保",
    "enrolments_updated": "更新参保",
    "accounts": "账户数",
    "approval_id": "审批号",
    "reference": "依据",
    "state": "审核结果",
    "agree": "核对一致",
    "approve": "同意",
    "bills": "账单数",
    "cases": "病例数",
    "deducted": "扣减",
    "disclosed": "已提供",
    "late_fee": "滞纳金",
    "final_unit_value": "年终点值",
    "institutions": "机构数",
    "principal": "本金",
}

ACTOR_KINDS: dict[str, str] = {
    "chnl": "渠道",
    "org": "定点机构",
    "psn": "参保人",
    "hub": "跨省中转节点",
    "nhsa": "定点机构接口",
}
ACTORS: dict[str, str] = {"demo": "演示数据", "system": "系统", "cli": "命令行"}
PURPOSES: dict[str, str] = {"1101": "人员信息获取（1101）"}
LIST_REVIEW_STATES: dict[str, str] = {"2": "审核通过", "3": "退回"}


def action_label(action: str) -> str:
    """``registry.certno.disclose`` → ``提供证件号码（人员信息获取）``; unknown: 其他操作."""
    if action in ACTIONS:
        return ACTIONS[action]
    head, _, tail = action.partition(".")
    if head == "claim" and tail in CLAIM_ACTIONS:
        return "零星报销" + CLAIM_ACTIONS[tail]
    if head == "funds" and tail in TRANSFER_KINDS:
        return TRANSFER_KINDS[tail]
    return "其他操作"


def action_choices() -> dict[str, str]:
    """Every action with its label, for the filter's drop-down (claims and transfers included)."""
    out = dict(ACTIONS)
    out.update({f"claim.{k}": "零星报销" + v for k, v in CLAIM_ACTIONS.items()})
    out.update({f"funds.{k}": v for k, v in TRANSFER_KINDS.items()})
    return out


def actor_label(actor: str) -> str:
    """``chnl:nhsa_app`` → ``渠道 国家医保服务平台``; a console user name is shown as it is."""
    if actor in ACTORS:
        return ACTORS[actor]
    kind, sep, rest = actor.partition(":")
    if not sep or kind not in ACTOR_KINDS:
        return actor
    if kind == "chnl":
        rest = CHANNEL_KIND_LABELS.get(rest, rest)
    elif kind == "nhsa":
        org, _, op = rest.partition("/")
        rest = f"{org} 操作员 {op}" if op else org
    elif kind == "hub":
        node, _, org = rest.partition("/org:")
        rest = f"{node}（机构 {org}）" if org else node
    return f"{ACTOR_KINDS[kind]} {rest}"


def subject_label(action: str, subject: str) -> str:
    """The record an action concerned; a channel by its name (``nhsa_app`` → 国家医保服务平台)."""
    if action.startswith("voucher.channel."):
        return CHANNEL_KIND_LABELS.get(subject, subject)
    return subject


def _value(action: str, key: str, value: object) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(_value(action, key, v) for v in value)
    text = str(value)
    if key == "reason":
        return REASONS.get(text, text)
    if key == "role":
        with contextlib.suppress(ValueError):
            return Role(text).label
        return text
    if key == "business_type":
        return codes.label("code_biz_type", text)
    if key == "kind" and text in CHANNEL_KIND_LABELS:
        return CHANNEL_KIND_LABELS[text]
    if key in ("admdvs", "region", "regions"):
        return region_name(text) or text
    if key == "purpose":
        return PURPOSES.get(text, text)
    if key == "insutype":
        return codes.label("insutype", text)
    if key == "state" and action == "payment.list_review":
        return LIST_REVIEW_STATES.get(text, text)
    return text


def detail(action: str, raw: Mapping[str, object]) -> dict[str, str]:
    """Detail keys and their coded values in Chinese; empty values left out."""
    out: dict[str, str] = {}
    for key, value in raw.items():
        if value in (None, "") or value == []:
            continue
        out[DETAIL_KEYS.get(key, "其他")] = _value(action, key, value)
    return out
