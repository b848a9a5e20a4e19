"""Encounter SQL as flow statements (:mod:`yibao.db.flow`): what a settlement reads and writes.

Reads are scalar subqueries keyed by request values only, so a flow reads everything in one
statement: the visit, its unsettled fee lines, the person's year accumulators of the visit's
insured region and service year. Writes carry optimistic checks (the visit's and the counters'
``version``, lines still unsettled): a concurrent change makes the whole write a conflict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from yibao.db.flow import Jsonb, Q, W
from yibao.encounter.fees import FeeLine, LineSplit
from yibao.encounter.model import Encounter, Kind, State
from yibao.encounter.store import EncounterNotFound, StoredFeeLine

_VISIT = """
SELECT json_build_array(e.mdtrt_id, e.kind, e.state, e.psn_no, e.insutype, e.med_type,
  e.fixmedins_code, e.insuplc_admdvs, e.mdtrtarea_admvs, e.version, e.discharged,
  e.final_setl_id, e.begntime, e.endtime, e.dise_codg, e.info,
  (SELECT COALESCE(jsonb_object_agg(b.chrg_bchno, b.setl), '{}'::jsonb) FROM (
      SELECT chrg_bchno, MIN(COALESCE(settled_setl_id, '')) AS setl
        FROM encounter_fee_line f
       WHERE f.mdtrt_id = e.mdtrt_id AND f.chrg_bchno <> ''
       GROUP BY chrg_bchno) b),
  (SELECT COUNT(*) FROM encounter_fee_line f
    WHERE f.mdtrt_id = e.mdtrt_id AND f.settled_setl_id IS NULL),
  (SELECT COALESCE(array_agg(s.setl_id), '{}') FROM encounter_settlement s
    WHERE s.mdtrt_id = e.mdtrt_id AND s.kind = 'settle'
      AND NOT EXISTS (SELECT 1 FROM encounter_settlement c WHERE c.reverses = s.setl_id)))
  FROM encounter e WHERE e.mdtrt_id = %(m)s
"""


@dataclass(frozen=True, slots=True)
class Visit:
    """A visit as a settlement needs it: the state machine's view and the stored details."""

    encounter: Encounter
    begntime: dt.datetime | None
    endtime: dt.datetime | None
    dise_codg: str
    info: Mapping[str, Any]


def visit(mdtrt_id: str) -> Q:
    """The visit as one JSON value (decode with :func:`visit_of`)."""
    return Q(_VISIT, {"m": mdtrt_id})


def _moment(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def visit_of(v: list[Any] | None, mdtrt_id: str, *, fixmedins_code: str, psn_no: str) -> Visit:
    """Decode :func:`visit`; refuses a missing visit or another institution's or person's."""
    if v is None or v[6] != fixmedins_code or v[3] != psn_no:
        raise EncounterNotFound(f"就诊ID {mdtrt_id} 不存在（或不属于本机构/该参保人）")
    batches: dict[str, str] = dict(v[16])
    enc = Encounter(
        mdtrt_id=v[0],
        kind=Kind(v[1]),
        state=State(v[2]),
        psn_no=v[3],
        insutype=v[4],
        med_type=v[5] or "",
        fixmedins_code=v[6],
        insuplc_admdvs=v[7],
        mdtrtarea_admvs=v[8],
        version=int(v[9]),
        discharged=bool(v[10]),
        final_setl_id=v[11],
        unsettled_lines=int(v[17]),
        unsettled_batches=frozenset(b for b, s in batches.items() if not s),
        settled_batches={b: s for b, s in batches.items() if s},
        active_settlements=frozenset(v[18]),
    )
    return Visit(enc, _moment(v[12]), _moment(v[13]), v[14] or "", v[15] or {})


_LINES = """
SELECT COALESCE(json_agg(json_build_array(feedetl_sn, chrg_bchno, med_list_codg,
  medins_list_codg, det_item_fee_sumamt, cnt::text, pric::text, fee_ocur_time, init_feedetl_sn,
  pric_uplmt_amt, selfpay_prop::text, fulamt_ownpay_amt, overlmt_amt, preselfpay_amt,
  inscp_scp_amt, chrgitm_lv, med_chrgitm_type, split_flags, extra)
  ORDER BY created_at, feedetl_sn), '[]')
  FROM encounter_fee_line WHERE mdtrt_id = %(m)s AND settled_setl_id IS NULL
"""


def unsettled_lines(mdtrt_id: str) -> Q:
    """The visit's fee lines not yet settled, in upload order (decode with :func:`lines_of`)."""
    return Q(_LINES, {"m": mdtrt_id})


def lines_of(rows: Sequence[list[Any]]) -> list[StoredFeeLine]:
    """Decode :func:`unsettled_lines`."""
    out = []
    for r in rows:
        (sn, chrg, codg, medins_codg, amt, cnt, pric, ocur, init_sn, uplmt, prop,
         fulamt, overlmt, preself, inscp, lv, chrgitm_type, flags, extra) = r  # fmt: skip
        out.append(
            StoredFeeLine(
                line=FeeLine(
                    feedetl_sn=sn,
                    med_list_codg=codg,
                    medins_list_codg=medins_codg,
                    det_item_fee_sumamt=int(amt),
                    cnt=Decimal(cnt),
                    pric=Decimal(pric),
                    chrg_bchno=chrg,
                    fee_ocur_time=_moment(ocur),
                    init_feedetl_sn=init_sn,
                    extra=extra,
                ),
                split=LineSplit(
                    feedetl_sn=sn,
                    chrgitm_lv=lv,
                    med_chrgitm_type=chrgitm_type,
                    fulamt_ownpay_amt=int(fulamt),
                    overlmt_amt=int(overlmt),
                    preselfpay_amt=int(preself),
                    inscp_scp_amt=int(inscp),
                    selfpay_prop=Decimal(prop),
                    pric_uplmt_amt=uplmt,
                    flags=flags,
                ),
                settled_setl_id=None,
            )
        )
    return out


# ---- accumulators (年度累计) -----------------------------------------------------------------

#: the year of a visit's service date (China time), as the engine counts it (service_year)
_YEAR = "extract(year FROM e.begntime AT TIME ZONE 'Asia/Shanghai')::int"

_OF_VISIT = f"""
SELECT json_build_array(a.counters, a.version, a.year)
  FROM encounter e JOIN encounter_accumulator a
    ON a.psn_no = e.psn_no AND a.insuplc_admdvs = e.insuplc_admdvs AND a.year = {_YEAR}
 WHERE e.mdtrt_id = %(m)s
"""
_OF_PERSON = (
    "SELECT json_build_array(counters, version, year) FROM encounter_accumulator"
    " WHERE psn_no = %(p)s AND insuplc_admdvs = %(a)s AND year = %(y)s"
)
SETL_SEQ = Q("SELECT nextval('encounter_setl_seq')")


def accumulators_of_visit(mdtrt_id: str) -> Q:
    """The person's counters for the visit's insured region and service year (NULL: none yet)."""
    return Q(_OF_VISIT, {"m": mdtrt_id})


def accumulators_of(psn_no: str, admdvs: str, year: int) -> Q:
    """:func:`accumulators_of_visit` for a purchase without a stored visit (药店)."""
    return Q(_OF_PERSON, {"p": psn_no, "a": admdvs, "y": year})


@dataclass(frozen=True, slots=True)
class Counters:
    """Year-to-date counters as read; ``version`` None: the person has no row for the year."""

    counters: dict[str, int]
    version: int | None


def counters_of(v: list[Any] | None) -> Counters:
    """Decode :func:`accumulators_of_visit` / :func:`accumulators_of`."""
    if v is None:
        return Counters({}, None)
    return Counters({k: int(x) for k, x in (v[0] or {}).items()}, int(v[1]))


def write_counters(
    psn_no: str, admdvs: str, year: int, before: Counters, after: Mapping[str, int]
) -> W:
    """Store the new counters if nobody changed them since ``before`` was read (else the whole
    statement is a conflict): the row is created for the person's first settlement of the year."""
    key = {"p": psn_no, "a": admdvs, "y": year, "c": Jsonb(dict(after))}
    if before.version is None:
        return W(
            "INSERT INTO encounter_accumulator (psn_no, insuplc_admdvs, year, counters, version)"
            " VALUES (%(p)s, %(a)s, %(y)s, %(c)s, 1) ON CONFLICT DO NOTHING RETURNING 1",
            key,
            expect=1,
        )
    return W(
        "UPDATE encounter_accumulator SET counters = %(c)s, version = version + 1,"
        " updated_at = now() WHERE psn_no = %(p)s AND insuplc_admdvs = %(a)s AND year = %(y)s"
        " AND version = %(v)s RETURNING 1",
        {**key, "v": before.version},
        expect=1,
    )


# ---- the writes of one settlement --------------------------------------------------------------

#: jsonb columns of encounter_settlement: a JSON null stays the jsonb value null
_JSONB = ("setlinfo", "setldetail", "trace", "accumulator_deltas", "feedetl_sns")


def insert_settlement(row: Mapping[str, object]) -> W:
    """The settlement (or cancellation) row, travelling as one jsonb parameter."""
    columns = list(row)
    values = ", ".join(f"COALESCE({c}, 'null'::jsonb)" if c in _JSONB else c for c in columns)
    return W(
        f"INSERT INTO encounter_settlement ({', '.join(columns)}) SELECT {values}"
        " FROM jsonb_populate_record(NULL::encounter_settlement, %(row)s)",
        {"row": Jsonb(row)},
    )


def settle_lines(mdtrt_id: str, setl_id: str, sns: Sequence[str]) -> W:
    """Attach the settled lines (each must still be unsettled)."""
    return W(
        "UPDATE encounter_fee_line SET settled_setl_id = %(s)s WHERE mdtrt_id = %(m)s"
        " AND feedetl_sn = ANY(%(sns)s) AND settled_setl_id IS NULL RETURNING 1",
        {"s": setl_id, "m": mdtrt_id, "sns": list(sns)},
        expect=len(sns),
    )


def save_visit(before: Encounter, after: Encounter) -> W:
    """The visit's new state, if nobody changed it since ``before`` was read."""
    return W(
        "UPDATE encounter SET state = %(state)s, med_type = %(med_type)s,"
        " discharged = %(discharged)s, final_setl_id = %(final)s, version = %(version)s,"
        " updated_at = now() WHERE mdtrt_id = %(m)s AND version = %(before)s RETURNING 1",
        {
            "state": after.state.value,
            "med_type": after.med_type,
            "discharged": after.discharged,
            "final": after.final_setl_id,
            "version": after.version,
            "m": before.mdtrt_id,
            "before": before.version,
        },
        expect=1,
    )


# ---- a cancellation (撤销/冲正) ------------------------------------------------------------------

_SETTLEMENT = """
SELECT json_build_array(s.mdtrt_id, s.kind, s.psn_no, s.insuplc_admdvs, s.acc_year,
  s.accumulator_deltas, s.setlinfo, s.setldetail, s.clr_type, s.clr_way, s.clr_optins,
  s.mid_setl_flag, s.chrg_bchno, s.feedetl_sns,
  (SELECT count(*) FROM encounter_fee_line f WHERE f.settled_setl_id = s.setl_id))
  FROM encounter_settlement s WHERE s.setl_id = %(s)s
"""
_OF_SETTLEMENT = """
SELECT json_build_array(a.counters, a.version, a.year)
  FROM encounter_settlement s JOIN encounter_accumulator a
    ON a.psn_no = s.psn_no AND a.insuplc_admdvs = s.insuplc_admdvs AND a.year = s.acc_year
 WHERE s.setl_id = %(s)s
"""


@dataclass(frozen=True, slots=True)
class Original:
    """A stored settlement as its cancellation needs it."""

    setl_id: str
    mdtrt_id: str
    kind: str
    psn_no: str
    insuplc_admdvs: str
    acc_year: int
    deltas: dict[str, int]
    setlinfo: dict[str, Any]
    setldetail: list[dict[str, Any]]
    clr_type: str
    clr_way: str
    clr_optins: str
    mid_setl: bool
    chrg_bchno: str
    feedetl_sns: list[str]
    lines_attached: int  # fee lines still attached to it (released by the cancellation)


def settlement(setl_id: str) -> Q:
    """A stored settlement (decode with :func:`original_of`)."""
    return Q(_SETTLEMENT, {"s": setl_id})


def original_of(v: list[Any] | None, setl_id: str) -> Original | None:
    """Decode :func:`settlement` (None: no such settlement)."""
    if v is None:
        return None
    return Original(
        setl_id, v[0], v[1], v[2], v[3], int(v[4]), {k: int(x) for k, x in (v[5] or {}).items()},
        dict(v[6] or {}), list(v[7] or []), v[8] or "", v[9] or "", v[10] or "", bool(v[11]),
        v[12] or "", list(v[13] or []), int(v[14]),
    )  # fmt: skip


def accumulators_of_settlement(setl_id: str) -> Q:
    """The counters a settlement's deltas were added to (decode with :func:`counters_of`)."""
    return Q(_OF_SETTLEMENT, {"s": setl_id})


def release_lines(setl_id: str, count: int) -> W:
    """Detach a cancelled settlement's lines (all ``count`` of them, as read)."""
    return W(
        "UPDATE encounter_fee_line SET settled_setl_id = NULL WHERE settled_setl_id = %(s)s"
        " RETURNING 1",
        {"s": setl_id},
        expect=count,
    )


# ---- visits and fee lines ---------------------------------------------------------------------

MDTRT_SEQ = Q("SELECT nextval('encounter_mdtrt_seq')")


def insert_visit(
    enc: Encounter,
    *,
    msgid: str,
    ipt_otp_no: str = "",
    begntime: dt.datetime | None = None,
    info: Mapping[str, object] | None = None,
    dise_codg: str = "",
    dise_name: str = "",
) -> W:
    """Create the visit row."""
    return W(
        "INSERT INTO encounter (mdtrt_id, kind, state, psn_no, insutype, med_type,"
        " fixmedins_code, insuplc_admdvs, mdtrtarea_admvs, ipt_otp_no, begntime, dise_codg,"
        " dise_name, discharged, final_setl_id, version, msgid, info) VALUES (%(mdtrt_id)s,"
        " %(kind)s, %(state)s, %(psn_no)s, %(insutype)s, %(med_type)s, %(fix)s, %(insuplc)s,"
        " %(mdtrtarea)s, %(ipt_otp_no)s, %(begntime)s, %(dise_codg)s, %(dise_name)s,"
        " %(discharged)s, %(final)s, %(version)s, %(msgid)s, %(info)s)",
        {
            "mdtrt_id": enc.mdtrt_id,
            "kind": enc.kind.value,
            "state": enc.state.value,
            "psn_no": enc.psn_no,
            "insutype": enc.insutype,
            "med_type": enc.med_type,
            "fix": enc.fixmedins_code,
            "insuplc": enc.insuplc_admdvs,
            "mdtrtarea": enc.mdtrtarea_admvs,
            "ipt_otp_no": ipt_otp_no,
            "begntime": begntime,
            "dise_codg": dise_codg,
            "dise_name": dise_name,
            "discharged": enc.discharged,
            "final": enc.final_setl_id,
            "version": enc.version,
            "msgid": msgid,
            "info": Jsonb(dict(info or {})),
        },
    )


def save_visit_info(
    before: Encounter,
    after: Encounter,
    *,
    dise_codg: str,
    dise_name: str,
    begntime: dt.datetime | None,
    info: Mapping[str, object],
) -> W:
    """2203's new state with its diagnoses, start time and request details (merged into
    ``info``), if nobody changed the visit since ``before`` was read."""
    return W(
        "UPDATE encounter SET state = %(state)s, med_type = %(med_type)s,"
        " version = %(version)s, dise_codg = %(dise_codg)s, dise_name = %(dise_name)s,"
        " begntime = COALESCE(%(begntime)s, begntime), info = info || %(info)s,"
        " updated_at = now() WHERE mdtrt_id = %(m)s AND version = %(before)s RETURNING 1",
        {
            "state": after.state.value,
            "med_type": after.med_type,
            "version": after.version,
            "dise_codg": dise_codg,
            "dise_name": dise_name,
            "begntime": begntime,
            "info": Jsonb(dict(info)),
            "m": before.mdtrt_id,
            "before": before.version,
        },
        expect=1,
    )


_USED_SNS = (
    "SELECT COALESCE(array_agg(feedetl_sn ORDER BY feedetl_sn), '{}') FROM encounter_fee_line"
    " WHERE mdtrt_id = %(m)s AND feedetl_sn = ANY(%(sns)s)"
)


def used_sns(mdtrt_id: str, sns: Sequence[str]) -> Q:
    """Which of ``sns`` the visit already has (a ``feedetl_sn`` is used once per visit)."""
    return Q(_USED_SNS, {"m": mdtrt_id, "sns": list(sns)})


_INSERT_LINES = """
INSERT INTO encounter_fee_line (mdtrt_id, feedetl_sn, chrg_bchno, med_list_codg,
  medins_list_codg, det_item_fee_sumamt, cnt, pric, fee_ocur_time, init_feedetl_sn,
  pric_uplmt_amt, selfpay_prop, fulamt_ownpay_amt, overlmt_amt, preselfpay_amt, inscp_scp_amt,
  chrgitm_lv, med_chrgitm_type, split_flags, extra, upload_msgid, settled_setl_id)
SELECT %(m)s, feedetl_sn, chrg_bchno, med_list_codg, medins_list_codg, det_item_fee_sumamt,
  cnt::numeric, pric::numeric, fee_ocur_time, init_feedetl_sn, pric_uplmt_amt,
  selfpay_prop::numeric, fulamt_ownpay_amt, overlmt_amt, preselfpay_amt, inscp_scp_amt,
  chrgitm_lv, med_chrgitm_type, split_flags, extra, %(msgid)s, %(settled)s
  FROM jsonb_to_recordset(%(lines)s) AS l(feedetl_sn text, chrg_bchno text, med_list_codg text,
  medins_list_codg text, det_item_fee_sumamt bigint, cnt text, pric text,
  fee_ocur_time timestamptz, init_feedetl_sn text, pric_uplmt_amt bigint, selfpay_prop text,
  fulamt_ownpay_amt bigint, overlmt_amt bigint, preselfpay_amt bigint, inscp_scp_amt bigint,
  chrgitm_lv text, med_chrgitm_type text, split_flags jsonb, extra jsonb)
"""


def insert_lines(
    mdtrt_id: str,
    lines: Sequence[FeeLine],
    splits: Mapping[str, LineSplit],
    *,
    msgid: str,
    settled_setl_id: str | None = None,
) -> W:
    """Store uploaded lines with their split (one jsonb parameter for all of them); a pharmacy
    sale's lines are stored already settled."""
    rows = []
    for ln in lines:
        s = splits[ln.feedetl_sn]
        rows.append(
            {
                "feedetl_sn": ln.feedetl_sn,
                "chrg_bchno": ln.chrg_bchno,
                "med_list_codg": ln.med_list_codg,
                "medins_list_codg": ln.medins_list_codg,
                "det_item_fee_sumamt": ln.det_item_fee_sumamt,
                "cnt": str(ln.cnt),
                "pric": str(ln.pric),
                "fee_ocur_time": ln.fee_ocur_time,
                "init_feedetl_sn": ln.init_feedetl_sn,
                "pric_uplmt_amt": s.pric_uplmt_amt,
                "selfpay_prop": str(s.selfpay_prop),
                "fulamt_ownpay_amt": s.fulamt_ownpay_amt,
                "overlmt_amt": s.overlmt_amt,
                "preselfpay_amt": s.preselfpay_amt,
                "inscp_scp_amt": s.inscp_scp_amt,
                "chrgitm_lv": s.chrgitm_lv,
                "med_chrgitm_type": s.med_chrgitm_type,
                "split_flags": dict(s.flags),
                "extra": dict(ln.extra),
            }
        )
    params = {"m": mdtrt_id, "msgid": msgid, "lines": Jsonb(rows), "settled": settled_setl_id}
    return W(_INSERT_LINES, params)
