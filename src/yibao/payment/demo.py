"""Demo payment-reform data (演示数据): settlement lists for the demo inpatient stays of the DRG
(兴宁 441481) and DIP (深圳 440300) regions, a 医共体 in 兴宁 with this year's budget, and annual
budgets for the regions' hospitals. Idempotent. The monthly advance and the year end are left to
bureau staff in the console (支付方式改革).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import structlog

from yibao.institutions import service as institutions
from yibao.payment import service_community, service_lists, store, store_community, store_runs
from yibao.payment.errors import PaymentInputError, PaymentRefused

log = structlog.get_logger(__name__)

REGIONS = ("441481", "440300")
YCM = ("YCM441481A", "兴宁市紧密型县域医共体", "441481", "H44148100001", ("H44148100002",))
#: a few diagnoses a county or city hospital sees (with CC/MCC and an exclusion case)
DIAGNOSES = (
    ("J18.900",),
    ("J18.900", "A41.900"),
    ("I63.900",),
    ("J18.900", "D62.x00"),
    ("K92.208",),
    ("I20.000",),
)


def _list(s: dict[str, object], n: int) -> dict[str, object]:
    dx = DIAGNOSES[n % len(DIAGNOSES)]
    day = str(s["setl_date"])
    return {
        "setlinfo": {
            "psn_no": s["psn_no"],
            "mdtrt_id": s["mdtrt_id"],
            "setl_id": s["setl_id"],
            "ntly": "CHN",
            "prfs": "90",
            "dscg_caty": "A02",
            "bill_code": "44000025",
            "bill_no": f"N{str(s['setl_id'])[-10:]}",
            "biz_sn": s["msgid"],
            "setl_begn_date": day,
            "setl_end_date": day,
            "medins_fill_dept": "病案室",
            "medins_fill_psn": "演示病案员",
            "stas_type": "1",
        },
        "diseinfo": [
            {
                "diag_type": "1",
                "diag_code": code,
                "diag_name": f"诊断{code}",
                "adm_cond_type": "1",
                "maindiag_flag": "1" if i == 0 else "0",
            }
            for i, code in enumerate(dx)
        ],
    }


def seed(engine: sa.Engine) -> None:
    uploaded = 0
    with engine.begin() as conn:
        rows = conn.execute(
            sa.text(
                """
                SELECT s.setl_id, s.psn_no, s.mdtrt_id, s.msgid, s.setl_date, s.setl_time,
                       s.fixmedins_code
                  FROM encounter_settlement s JOIN encounter e ON e.mdtrt_id = s.mdtrt_id
                 WHERE e.kind = 'inpatient' AND s.kind = 'settle'
                   AND s.mdtrtarea_admvs = ANY(:regions)
                   AND NOT EXISTS (SELECT 1 FROM encounter_settlement c WHERE c.reverses = s.setl_id)
                 ORDER BY s.setl_id
                """
            ),
            {"regions": list(REGIONS)},
        ).mappings()
        for n, s in enumerate(list(rows)):
            if store.load_list(conn, s["setl_id"]) is not None:
                continue
            inst = institutions.get(conn, s["fixmedins_code"])
            if inst is None:
                continue
            try:
                service_lists.upload(
                    conn,
                    inst,
                    _list(dict(s), n),
                    msgid=f"demo-4101-{s['setl_id']}",
                    now=s["setl_time"],
                )
                uploaded += 1
            except (PaymentInputError, PaymentRefused) as exc:
                log.warning("demo_list_skipped", setl_id=s["setl_id"], reason=str(exc))
    year = datetime.now(UTC).year
    with engine.begin() as conn:
        ycm_id, name, county, lead, members = YCM
        if not store_community.communities(conn, ycm_id):
            service_community.save(
                conn,
                ycm_id=ycm_id,
                name=name,
                admdvs=county,
                lead=lead,
                members=list(members),
                population=23,
            )
        if store_community.budget_of(conn, ycm_id, year) is None:
            service_community.set_budget(
                conn, ycm_id, year, 300_000_000, basis="演示预算", actor="demo"
            )
        have = store_runs.budgets(conn, year)
        for region in REGIONS:
            for inst in institutions.in_region(conn, region):
                if inst.fixmedins_code not in have and not inst.is_pharmacy:
                    store_runs.set_budget(conn, inst.fixmedins_code, year, 800_000_000, "demo")
    log.info("demo_payment", lists=uploaded)
