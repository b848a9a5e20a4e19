"""E-voucher demo data (电子凭证演示数据): the four channels, a share of the demo insured activated.

Idempotent (activation of an already active channel user changes nothing). Demo channel secrets
are fixed and documented in ``docs/voucher.md`` — for the demo only:

| chnl_id | name | secret |
|---|---|---|
| nhsa_app | 国家医保服务平台 | ``demo-secret-nhsa_app`` |
| wechat | 微信 | ``demo-secret-wechat`` |
| alipay | 支付宝 | ``demo-secret-alipay`` |
| unionpay | 云闪付 | ``demo-secret-unionpay`` |

张医保 is activated on ``wechat`` as channel user ``demo-openid-zhang`` with payment password
``274916`` and his child 张小宝 bound as 亲情账户; 李低保 on ``nhsa_app`` as ``demo-nhsa-li``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import Engine

from yibao.registry import demo as registry_demo
from yibao.registry import store as reg
from yibao.voucher.service import VoucherService, VoucherSettings
from yibao.voucher.store import ec_authorization
from yibao.voucher.verifier import DemoVerifier, demo_evidence

CHANNELS = (
    ("nhsa_app", "国家医保服务平台", "nhsa_app"),
    ("wechat", "微信", "wechat"),
    ("alipay", "支付宝", "alipay"),
    ("unionpay", "云闪付", "unionpay"),
)
ACTIVATED_SHARE = 45  # percent of demo persons (every person whose index % 100 < 45)
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class _StepClock:
    """Activation times spread over the year so far (for the activation dashboards)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


_ACTIVATE_SQL = """
WITH demo AS (
  SELECT p.psn_no, p.town, row_number() OVER (ORDER BY p.psn_no) - 1 AS i
  FROM person p
  WHERE NOT EXISTS (SELECT 1 FROM ec_voucher v WHERE v.psn_no = p.psn_no)),
pick AS (
  SELECT d.*, (ARRAY['nhsa_app', 'wechat', 'alipay', 'unionpay'])[((d.i * 7) % 4) + 1] AS chnl_id,
         CAST(:start AS timestamptz) + make_interval(hours => CAST((d.i * 37) % 7200 AS int)) AS at,
         m.insuplc_admdvs, m.emp_no, m.emp_name, m.psn_type, m.insutype
  FROM demo d
  JOIN LATERAL (SELECT * FROM enrolment e WHERE e.psn_no = d.psn_no AND e.psn_insu_stas = '1'
                AND e.insutype IN ('310', '390') ORDER BY e.insutype LIMIT 1) m ON true
  WHERE d.i % 100 < :share),
v AS (
  INSERT INTO ec_voucher (psn_no, ec_index_no, status, activated_at, activated_chnl)
  SELECT psn_no, substr(encode(sha256(convert_to('yibao-ec-index:' || psn_no, 'UTF8')), 'hex'), 1, 32),
         'active', at, chnl_id FROM pick),
a AS (
  INSERT INTO ec_authorization (chnl_id, chnl_user_id, psn_no, status, authorized_at)
  SELECT chnl_id, 'demo-' || chnl_id || '-' || psn_no, psn_no, 'active', at FROM pick)
INSERT INTO ec_activation_event (psn_no, chnl_id, kind, at, admdvs, town, emp_no, emp_name,
                                 category, insutype, actor)
SELECT psn_no, chnl_id, 'activate', at, insuplc_admdvs, town, emp_no, emp_name, psn_type,
       insutype, 'demo' FROM pick
"""


def seed(engine: Engine) -> None:
    """Seed channels and activations (set-based for the bulk; the service for the named persons)."""
    clock = _StepClock()
    svc = VoucherService(engine, VoucherSettings(), clock=clock, verifier=DemoVerifier())
    for chnl_id, name, kind in CHANNELS:
        svc.register_channel(chnl_id, name, kind, f"demo-secret-{chnl_id}")
    with engine.begin() as conn:
        zhang_psn = conn.execute(
            sa.select(reg.person.c.psn_no).where(reg.person.c.certno == registry_demo.ZHANG)
        ).scalar()
        if zhang_psn is None:
            return  # no registry demo
        if conn.execute(
            sa.select(ec_authorization.c.psn_no).where(
                ec_authorization.c.chnl_user_id == "demo-openid-zhang"
            )
        ).first():
            return  # already seeded
    clock.now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    zhang = {
        "psn_name": "张医保",
        "psn_cert_type": "01",
        "certno": registry_demo.ZHANG,
        "evidence": demo_evidence(registry_demo.ZHANG),
    }
    svc.activate("wechat", "demo-openid-zhang", **zhang)
    svc.activate(
        "nhsa_app",
        "demo-nhsa-li",
        psn_name="李低保",
        psn_cert_type="01",
        certno=registry_demo.LI_DIBAO,
        evidence=demo_evidence(registry_demo.LI_DIBAO),
    )
    svc.set_password("wechat", "demo-openid-zhang", "274916")
    svc.bind_family(
        "wechat", "demo-openid-zhang", psn_name="张小宝", psn_cert_type="01", certno=registry_demo.ZHANG_CHILD,
        relation="子女", consent_by="guardian", evidence=zhang["evidence"],
    )  # fmt: skip
    with engine.begin() as conn:
        conn.execute(sa.text(_ACTIVATE_SQL), {"start": START, "share": ACTIVATED_SHARE})
