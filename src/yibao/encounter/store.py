"""SQL of encounters (就诊): tables, loading/saving state, fee lines, settlements, accumulators.

Every function runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from yibao.db import hot
from yibao.encounter.amounts import AMOUNT_FIELDS
from yibao.encounter.fees import FeeLine, LineSplit
from yibao.encounter.model import Encounter, EncounterError, Kind, State
from yibao.encounter.reconcile import DetailRow, Totals

metadata = sa.MetaData()

encounter = sa.Table(
    "encounter",
    metadata,
    sa.Column("mdtrt_id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text),
    sa.Column("state", sa.Text),
    sa.Column("psn_no", sa.Text),
    sa.Column("insutype", sa.Text),
    sa.Column("med_type", sa.Text),
    sa.Column("fixmedins_code", sa.Text),
    sa.Column("insuplc_admdvs", sa.Text),
    sa.Column("mdtrtarea_admvs", sa.Text),
    sa.Column("ipt_otp_no", sa.Text),
    sa.Column("begntime", sa.DateTime(timezone=True)),
    sa.Column("endtime", sa.DateTime(timezone=True)),
    sa.Column("dise_codg", sa.Text),
    sa.Column("dise_name", sa.Text),
    sa.Column("discharged", sa.Boolean),
    sa.Column("final_setl_id", sa.Text),
    sa.Column("version", sa.Integer),
    sa.Column("msgid", sa.Text),
    sa.Column("info", pg.JSONB),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

encounter_fee_line = sa.Table(
    "encounter_fee_line",
    metadata,
    sa.Column("mdtrt_id", sa.Text, primary_key=True),
    sa.Column("feedetl_sn", sa.Text, primary_key=True),
    sa.Column("chrg_bchno", sa.Text),
    sa.Column("med_list_codg", sa.Text),
    sa.Column("medins_list_codg", sa.Text),
    sa.Column("det_item_fee_sumamt", sa.BigInteger),
    sa.Column("cnt", sa.Numeric(16, 4)),
    sa.Column("pric", sa.Numeric(16, 6)),
    sa.Column("fee_ocur_time", sa.DateTime(timezone=True)),
    sa.Column("init_feedetl_sn", sa.Text),
    sa.Column("pric_uplmt_amt", sa.BigInteger),
    sa.Column("selfpay_prop", sa.Numeric(5, 4)),
    sa.Column("fulamt_ownpay_amt", sa.BigInteger),
    sa.Column("overlmt_amt", sa.BigInteger),
    sa.Column("preselfpay_amt", sa.BigInteger),
    sa.Column("inscp_scp_amt", sa.BigInteger),
    sa.Column("chrgitm_lv", sa.Text),
    sa.Column("med_chrgitm_type", sa.Text),
    sa.Column("split_flags", pg.JSONB),
    sa.Column("extra", pg.JSONB),
    sa.Column("upload_msgid", sa.Text),
    sa.Column("settled_setl_id", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

encounter_settlement = sa.Table(
    "encounter_settlement",
    metadata,
    sa.Column("setl_id", sa.Text, primary_key=True),
    sa.Column("mdtrt_id", sa.Text),
    sa.Column("kind", sa.Text),
    sa.Column("msgid", sa.Text),
    sa.Column("psn_no", sa.Text),
    sa.Column("fixmedins_code", sa.Text),
    sa.Column("insutype", sa.Text),
    sa.Column("med_type", sa.Text),
    sa.Column("insuplc_admdvs", sa.Text),
    sa.Column("mdtrtarea_admvs", sa.Text),
    *[sa.Column(a, sa.BigInteger) for a in AMOUNT_FIELDS],
    sa.Column("pool_prop_selfpay", sa.Numeric(5, 4)),
    sa.Column("balc", sa.BigInteger),
    sa.Column("setlinfo", pg.JSONB),
    sa.Column("setldetail", pg.JSONB),
    sa.Column("trace", pg.JSONB),
    sa.Column("accumulator_deltas", pg.JSONB),
    sa.Column("acc_year", sa.Integer),
    sa.Column("reverses", sa.Text),
    sa.Column("clr_type", sa.Text),
    sa.Column("clr_way", sa.Text),
    sa.Column("clr_optins", sa.Text),
    sa.Column("mid_setl_flag", sa.Boolean),
    sa.Column("chrg_bchno", sa.Text),
    sa.Column("feedetl_sns", pg.JSONB),
    sa.Column("setl_time", sa.DateTime(timezone=True)),
    sa.Column("setl_date", sa.Date),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

encounter_accumulator = sa.Table(
    "encounter_accumulator",
    metadata,
    sa.Column("psn_no", sa.Text, primary_key=True),
    sa.Column("insuplc_admdvs", sa.Text, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("counters", pg.JSONB),
    sa.Column("version", sa.BigInteger),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)


class EncounterNotFound(EncounterError):
    """No such visit for this institution/person (就诊信息不存在)."""


class EncounterConflict(EncounterError):
    """The visit changed under a concurrent request (并发修改)."""


def next_seq(conn: sa.Connection, name: str) -> int:
    """Next value of ``encounter_mdtrt_seq`` or ``encounter_setl_seq``."""
    if name not in ("encounter_mdtrt_seq", "encounter_setl_seq"):
        raise ValueError(name)
    return int(hot.scalar(conn, f"SELECT nextval('{name}')"))


# ------------------------------------------------------------------------------ encounters


def insert_encounter(
    conn: sa.Connection,
    enc: Encounter,
    *,
    msgid: str,
    ipt_otp_no: str = "",
    begntime: datetime | None = None,
    info: Mapping[str, object] | None = None,
    dise_codg: str = "",
    dise_name: str = "",
) -> None:
    """Create the visit row."""
    hot.execute(
        conn,
        _INSERT_ENCOUNTER,
        {
            "mdtrt_id": enc.mdtrt_id,
            "kind": enc.kind.value,
            "state": enc.state.value,
            "psn_no": enc.psn_no,
            "insutype": enc.insutype,
            "med_type": enc.med_type,
            "fixmedins_code": enc.fixmedins_code,
            "insuplc_admdvs": enc.insuplc_admdvs,
            "mdtrtarea_admvs": enc.mdtrtarea_admvs,
            "ipt_otp_no": ipt_otp_no,
            "begntime": begntime,
            "dise_codg": dise_codg,
            "dise_name": dise_name,
            "discharged": enc.discharged,
            "final_setl_id": enc.final_setl_id,
            "version": enc.version,
            "msgid": msgid,
            "info": hot.Jsonb(dict(info or {})),
        },
    )


_INSERT_ENCOUNTER = (
    "INSERT INTO encounter (mdtrt_id, kind, state, psn_no, insutype, med_type, fixmedins_code,"
    " insuplc_admdvs, mdtrtarea_admvs, ipt_otp_no, begntime, dise_codg, dise_name, discharged,"
    " final_setl_id, version, msgid, info) VALUES (%(mdtrt_id)s, %(kind)s, %(state)s,"
    " %(psn_no)s, %(insutype)s, %(med_type)s, %(fixmedins_code)s, %(insuplc_admdvs)s,"
    " %(mdtrtarea_admvs)s, %(ipt_otp_no)s, %(begntime)s, %(dise_codg)s, %(dise_name)s,"
    " %(discharged)s, %(final_setl_id)s, %(version)s, %(msgid)s, %(info)s)"
)


_LOAD = """
    SELECT e.*,
      (SELECT COALESCE(jsonb_object_agg(b.chrg_bchno, b.setl), '{}'::jsonb) FROM (
          SELECT chrg_bchno, MIN(COALESCE(settled_setl_id, '')) AS setl
            FROM encounter_fee_line f
           WHERE f.mdtrt_id = e.mdtrt_id AND f.chrg_bchno <> ''
           GROUP BY chrg_bchno) b) AS batches,
      (SELECT COUNT(*) FROM encounter_fee_line f
        WHERE f.mdtrt_id = e.mdtrt_id AND f.settled_setl_id IS NULL) AS unsettled_lines,
      (SELECT COALESCE(array_agg(s.setl_id), '{}') FROM encounter_settlement s
        WHERE s.mdtrt_id = e.mdtrt_id AND s.kind = 'settle'
          AND NOT EXISTS (SELECT 1 FROM encounter_settlement c WHERE c.reverses = s.setl_id)
      ) AS active
      FROM encounter e WHERE e.mdtrt_id = %(mdtrt_id)s
    """


def load_encounter(
    conn: sa.Connection,
    mdtrt_id: str,
    *,
    fixmedins_code: str | None = None,
    psn_no: str | None = None,
) -> Encounter:
    """The visit as the model sees it; refuses another institution's or person's visit."""
    row = hot.one_dict(conn, _LOAD, {"mdtrt_id": mdtrt_id})
    if (
        row is None
        or (fixmedins_code is not None and row["fixmedins_code"] != fixmedins_code)
        or (psn_no is not None and row["psn_no"] != psn_no)
    ):
        raise EncounterNotFound(f"就诊ID {mdtrt_id} 不存在（或不属于本机构/该参保人）")
    batches: dict[str, str] = dict(row["batches"])
    return Encounter(
        mdtrt_id=row["mdtrt_id"],
        kind=Kind(row["kind"]),
        state=State(row["state"]),
        psn_no=row["psn_no"],
        insutype=row["insutype"],
        med_type=row["med_type"],
        fixmedins_code=row["fixmedins_code"],
        insuplc_admdvs=row["insuplc_admdvs"],
        mdtrtarea_admvs=row["mdtrtarea_admvs"],
        version=int(row["version"]),
        discharged=bool(row["discharged"]),
        unsettled_lines=int(row["unsettled_lines"]),
        unsettled_batches=frozenset(b for b, s in batches.items() if not s),
        settled_batches={b: s for b, s in batches.items() if s},
        active_settlements=frozenset(row["active"]),
        final_setl_id=row["final_setl_id"],
    )


def save_encounter(
    conn: sa.Connection, before: Encounter, after: Encounter, **columns: object
) -> None:
    """Write the new state if nobody changed the visit since ``before`` was loaded."""
    if not columns:  # the settlement path: plain SQL (yibao.db.hot)
        count = hot.execute(
            conn,
            _SAVE_STATE,
            {
                "state": after.state.value,
                "med_type": after.med_type,
                "discharged": after.discharged,
                "final": after.final_setl_id,
                "version": after.version,
                "mdtrt_id": before.mdtrt_id,
                "before": before.version,
            },
        )
    else:
        count = conn.execute(
            encounter.update()
            .where(encounter.c.mdtrt_id == before.mdtrt_id, encounter.c.version == before.version)
            .values(
                state=after.state.value,
                med_type=after.med_type,
                discharged=after.discharged,
                final_setl_id=after.final_setl_id,
                version=after.version,
                updated_at=sa.func.now(),
                **columns,
            )
        ).rowcount
    if count != 1:
        raise EncounterConflict(f"就诊ID {before.mdtrt_id} 已被并发修改，请重试")


_SAVE_STATE = (
    "UPDATE encounter SET state = %(state)s, med_type = %(med_type)s,"
    " discharged = %(discharged)s, final_setl_id = %(final)s, version = %(version)s,"
    " updated_at = now() WHERE mdtrt_id = %(mdtrt_id)s AND version = %(before)s"
)


def encounter_info(conn: sa.Connection, mdtrt_id: str) -> dict[str, Any]:
    """The stored visit row (dates, diagnoses, request details) as a dict."""
    row = hot.one_dict(conn, "SELECT * FROM encounter WHERE mdtrt_id = %(m)s", {"m": mdtrt_id})
    if row is None:
        raise EncounterNotFound(f"就诊ID {mdtrt_id} 不存在")
    return row


# ------------------------------------------------------------------------------ fee lines


def insert_fee_lines(
    conn: sa.Connection,
    mdtrt_id: str,
    lines: Sequence[FeeLine],
    splits: Mapping[str, LineSplit],
    *,
    msgid: str,
) -> None:
    """Store uploaded lines with their split; a ``feedetl_sn`` already used is refused."""
    sns = [ln.feedetl_sn for ln in lines]
    used = [
        r[0]
        for r in hot.rows(
            conn,
            "SELECT feedetl_sn FROM encounter_fee_line"
            " WHERE mdtrt_id = %(mdtrt_id)s AND feedetl_sn = ANY(%(sns)s)",
            {"mdtrt_id": mdtrt_id, "sns": sns},
        )
    ]
    if used:
        raise EncounterError(f"feedetl_sn（费用明细流水号）已上传：{', '.join(sorted(used))}")
    rows = []
    for ln in lines:
        s = splits[ln.feedetl_sn]
        rows.append(
            {
                "mdtrt_id": mdtrt_id,
                "feedetl_sn": ln.feedetl_sn,
                "chrg_bchno": ln.chrg_bchno,
                "med_list_codg": ln.med_list_codg,
                "medins_list_codg": ln.medins_list_codg,
                "det_item_fee_sumamt": ln.det_item_fee_sumamt,
                "cnt": ln.cnt,
                "pric": ln.pric,
                "fee_ocur_time": ln.fee_ocur_time,
                "init_feedetl_sn": ln.init_feedetl_sn,
                "pric_uplmt_amt": s.pric_uplmt_amt,
                "selfpay_prop": s.selfpay_prop,
                "fulamt_ownpay_amt": s.fulamt_ownpay_amt,
                "overlmt_amt": s.overlmt_amt,
                "preselfpay_amt": s.preselfpay_amt,
                "inscp_scp_amt": s.inscp_scp_amt,
                "chrgitm_lv": s.chrgitm_lv,
                "med_chrgitm_type": s.med_chrgitm_type,
                "split_flags": hot.Jsonb(dict(s.flags)),
                "extra": hot.Jsonb(dict(ln.extra)),
                "upload_msgid": msgid,
            }
        )
    if rows:
        columns = list(rows[0])
        hot.executemany(
            conn,
            f"INSERT INTO encounter_fee_line ({', '.join(columns)})"
            f" VALUES ({', '.join(f'%({c})s' for c in columns)})",
            rows,
        )


@dataclass(frozen=True, slots=True)
class StoredFeeLine:
    """A stored fee line with its split and the settlement that covered it (if any)."""

    line: FeeLine
    split: LineSplit
    settled_setl_id: str | None


def fee_lines(
    conn: sa.Connection,
    mdtrt_id: str,
    *,
    chrg_bchno: str | None = None,
    unsettled_only: bool = False,
    setl_id: str | None = None,
) -> list[StoredFeeLine]:
    """Fee lines of a visit, optionally one batch, only unsettled, or one settlement's."""
    sql = _FEE_LINES
    params: dict[str, object] = {"mdtrt_id": mdtrt_id}
    if chrg_bchno not in (None, "", "0000"):
        sql += " AND chrg_bchno = %(chrg_bchno)s"
        params["chrg_bchno"] = chrg_bchno
    if unsettled_only:
        sql += " AND settled_setl_id IS NULL"
    if setl_id is not None:
        sql += " AND settled_setl_id = %(setl_id)s"
        params["setl_id"] = setl_id
    out = []
    for r in hot.rows(conn, sql + " ORDER BY created_at, feedetl_sn", params):
        (sn, chrg, codg, medins_codg, amt, cnt, pric, ocur, init_sn, uplmt, prop,
         fulamt, overlmt, preself, inscp, lv, chrgitm_type, flags, extra, settled) = r  # fmt: skip
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
                    fee_ocur_time=ocur,
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
                settled_setl_id=settled,
            )
        )
    return out


_FEE_LINES = (
    "SELECT feedetl_sn, chrg_bchno, med_list_codg, medins_list_codg, det_item_fee_sumamt, cnt,"
    " pric, fee_ocur_time, init_feedetl_sn, pric_uplmt_amt, selfpay_prop, fulamt_ownpay_amt,"
    " overlmt_amt, preselfpay_amt, inscp_scp_amt, chrgitm_lv, med_chrgitm_type, split_flags,"
    " extra, settled_setl_id FROM encounter_fee_line WHERE mdtrt_id = %(mdtrt_id)s"
)


def delete_unsettled_lines(
    conn: sa.Connection,
    mdtrt_id: str,
    *,
    batches: Sequence[str] | None = None,
    feedetl_sn: str | None = None,
) -> int:
    """Delete unsettled lines (2205 by batch, 2302 by line or all); return how many."""
    q = encounter_fee_line.delete().where(
        encounter_fee_line.c.mdtrt_id == mdtrt_id, encounter_fee_line.c.settled_setl_id.is_(None)
    )
    if batches is not None:
        q = q.where(encounter_fee_line.c.chrg_bchno.in_(list(batches)))
    if feedetl_sn not in (None, "0000"):
        q = q.where(encounter_fee_line.c.feedetl_sn == feedetl_sn)
    return int(conn.execute(q).rowcount)


def release_lines(conn: sa.Connection, setl_id: str) -> int:
    """Detach the lines of a cancelled settlement (they may be settled again or removed)."""
    res = conn.execute(
        encounter_fee_line.update()
        .where(encounter_fee_line.c.settled_setl_id == setl_id)
        .values(settled_setl_id=None)
    )
    return int(res.rowcount)


# ------------------------------------------------------------------------------ settlements


def insert_settlement(conn: sa.Connection, row: Mapping[str, object]) -> None:
    """Store one settlement or cancellation record (plain SQL: the settlement path)."""
    params = {k: (hot.Jsonb(v) if k in _JSONB_SETTLEMENT_COLUMNS else v) for k, v in row.items()}
    columns = ", ".join(params)
    values = ", ".join(f"%({k})s" for k in params)
    hot.execute(conn, f"INSERT INTO encounter_settlement ({columns}) VALUES ({values})", params)


_JSONB_SETTLEMENT_COLUMNS = frozenset(
    c.name for c in encounter_settlement.columns if isinstance(c.type, pg.JSONB)
)


def load_settlement(conn: sa.Connection, setl_id: str) -> dict[str, Any] | None:
    """A stored settlement record, or None."""
    row = (
        conn.execute(
            sa.select(encounter_settlement).where(encounter_settlement.c.setl_id == setl_id)
        )
        .mappings()
        .one_or_none()
    )
    return dict(row) if row is not None else None


def cancellation_of(conn: sa.Connection, setl_id: str) -> str | None:
    """The setl_id of the cancellation of ``setl_id``, if any."""
    return conn.execute(
        sa.select(encounter_settlement.c.setl_id).where(encounter_settlement.c.reverses == setl_id)
    ).scalar_one_or_none()


# ------------------------------------------------------------------------------ accumulators


@dataclass(frozen=True, slots=True)
class Accumulators:
    """A person's year-to-date counters in one insured region (年度累计), locked for update."""

    psn_no: str
    insuplc_admdvs: str
    year: int
    counters: Mapping[str, int]
    version: int
    setl_seq: int | None = None  # a fresh encounter_setl_seq value, when asked for


def lock_accumulators(
    conn: sa.Connection, psn_no: str, admdvs: str, year: int, *, setl_seq: bool = False
) -> Accumulators:
    """``SELECT … FOR UPDATE`` the person's row for the year, created first if missing.

    Held until the caller's transaction ends, so two settlements of one person run one after
    the other and never use the same deductible or cap room. One statement when the row exists
    (every settlement but the person's first of the year). With ``setl_seq`` the same statement
    also draws the next ``encounter_setl_seq`` value for the settlement's ``setl_id``.
    """
    key = {"psn_no": psn_no, "admdvs": admdvs, "year": year}
    sql = _LOCK_ACCUMULATORS_WITH_SEQ if setl_seq else _LOCK_ACCUMULATORS
    row = hot.one(conn, sql, key)
    if row is None:
        hot.execute(conn, _CREATE_ACCUMULATORS, key)
        row = hot.one(conn, sql, key)
        assert row is not None
    counters = {k: int(v) for k, v in row[0].items()}
    seq = int(row[2]) if setl_seq else None
    return Accumulators(psn_no, admdvs, year, counters, int(row[1]), seq)


_LOCK_ACCUMULATORS = (
    "SELECT counters, version FROM encounter_accumulator WHERE psn_no = %(psn_no)s"
    " AND insuplc_admdvs = %(admdvs)s AND year = %(year)s FOR UPDATE"
)
_LOCK_ACCUMULATORS_WITH_SEQ = _LOCK_ACCUMULATORS.replace(
    "counters, version", "counters, version, nextval('encounter_setl_seq')"
)
_CREATE_ACCUMULATORS = (
    "INSERT INTO encounter_accumulator (psn_no, insuplc_admdvs, year)"
    " VALUES (%(psn_no)s, %(admdvs)s, %(year)s) ON CONFLICT DO NOTHING"
)


def read_accumulators(conn: sa.Connection, psn_no: str, admdvs: str, year: int) -> dict[str, int]:
    """The person's counters for the year without a lock (pre-settlement); ``{}`` if none."""
    counters = hot.scalar(
        conn,
        "SELECT counters FROM encounter_accumulator WHERE psn_no = %(psn_no)s"
        " AND insuplc_admdvs = %(admdvs)s AND year = %(year)s",
        {"psn_no": psn_no, "admdvs": admdvs, "year": year},
    )
    return {k: int(v) for k, v in (counters or {}).items()}


def write_accumulators(conn: sa.Connection, acc: Accumulators, counters: Mapping[str, int]) -> None:
    """Store new counters for a row locked by :func:`lock_accumulators`."""
    conn.execute(
        encounter_accumulator.update()
        .where(
            encounter_accumulator.c.psn_no == acc.psn_no,
            encounter_accumulator.c.insuplc_admdvs == acc.insuplc_admdvs,
            encounter_accumulator.c.year == acc.year,
        )
        .values(counters=dict(counters), version=acc.version + 1, updated_at=sa.func.now())
    )


_ADD_COUNTERS = """
    INSERT INTO encounter_accumulator AS a (psn_no, insuplc_admdvs, year, counters, version)
    VALUES (%(psn_no)s, %(admdvs)s, %(year)s, %(deltas)s, 1)
    ON CONFLICT (psn_no, insuplc_admdvs, year) DO UPDATE
       SET counters = (
             SELECT COALESCE(jsonb_object_agg(k, s), '{}'::jsonb)
               FROM (SELECT k, SUM(v) AS s
                       FROM (SELECT key AS k, value::bigint AS v FROM jsonb_each_text(a.counters)
                             UNION ALL
                             SELECT key, value::bigint FROM jsonb_each_text(EXCLUDED.counters)) x
                      GROUP BY k) y),
           version = a.version + 1,
           updated_at = now()
    RETURNING counters
    """


def _check_integer_deltas(deltas: Mapping[str, int]) -> None:
    for k, v in deltas.items():
        if isinstance(v, bool) or not isinstance(v, int):
            raise EncounterError(f"accumulator_deltas.{k}: 须为整数，收到 {v!r}")


def add_to_accumulators(
    conn: sa.Connection, psn_no: str, admdvs: str, year: int, deltas: Mapping[str, int]
) -> dict[str, int]:
    """Add integer ``deltas`` to the person's counters in one statement (row-locking upsert).

    The row stays locked to the end of the caller's transaction, like :func:`lock_accumulators`.
    Returns the new counters.
    """
    _check_integer_deltas(deltas)
    counters = hot.scalar(
        conn,
        _ADD_COUNTERS,
        {"psn_no": psn_no, "admdvs": admdvs, "year": year, "deltas": hot.Jsonb(dict(deltas))},
    )
    return {k: int(v) for k, v in counters.items()}


def accumulator_mismatches(conn: sa.Connection) -> list[dict[str, Any]]:
    """Rows whose counters differ from the sum of the person's settlement deltas (crash check)."""
    sql = sa.text(
        """
        WITH deltas AS (
          SELECT s.psn_no, s.insuplc_admdvs, s.acc_year AS year, d.key, SUM(d.value::bigint) AS v
            FROM encounter_settlement s, jsonb_each_text(s.accumulator_deltas) d
           GROUP BY 1, 2, 3, 4
        ), stored AS (
          SELECT a.psn_no, a.insuplc_admdvs, a.year, c.key, c.value::bigint AS v
            FROM encounter_accumulator a, jsonb_each_text(a.counters) c
        )
        SELECT COALESCE(d.psn_no, s.psn_no) AS psn_no,
               COALESCE(d.insuplc_admdvs, s.insuplc_admdvs) AS insuplc_admdvs,
               COALESCE(d.year, s.year) AS year, COALESCE(d.key, s.key) AS key,
               COALESCE(d.v, 0) AS expected, COALESCE(s.v, 0) AS stored
          FROM deltas d FULL JOIN stored s
            ON d.psn_no = s.psn_no AND d.insuplc_admdvs = s.insuplc_admdvs
           AND d.year = s.year AND d.key = s.key
         WHERE COALESCE(d.v, 0) <> COALESCE(s.v, 0)
        """
    )
    return [dict(r) for r in conn.execute(sql).mappings()]


# ------------------------------------------------------------------------------ 3201 / 3202


def _period_filter(
    refd_setl_flag: str | None,
) -> str:
    if refd_setl_flag == "0":
        return (
            " AND s.kind = 'settle' AND NOT EXISTS "
            "(SELECT 1 FROM encounter_settlement c WHERE c.reverses = s.setl_id)"
        )
    return ""


def settlement_totals(
    conn: sa.Connection,
    *,
    fixmedins_code: str,
    insutype: str,
    clr_type: str,
    setl_optins: str,
    begndate: date,
    enddate: date,
    refd_setl_flag: str | None = None,
) -> Totals:
    """3201 totals of an institution over settlement dates ``[begndate, enddate]``."""
    sql = sa.text(
        """
        SELECT COALESCE(SUM(s.medfee_sumamt), 0), COALESCE(SUM(s.fund_pay_sumamt), 0),
               COALESCE(SUM(s.acct_pay), 0), COUNT(*)
          FROM encounter_settlement s
         WHERE s.fixmedins_code = :fix AND s.insutype = :insutype AND s.clr_type = :clr_type
           AND s.clr_optins = :optins AND s.setl_date BETWEEN :b AND :e
        """
        + _period_filter(refd_setl_flag)
    )
    m, f, a, n = conn.execute(
        sql,
        {
            "fix": fixmedins_code,
            "insutype": insutype,
            "clr_type": clr_type,
            "optins": setl_optins,
            "b": begndate,
            "e": enddate,
        },
    ).one()
    return Totals(int(m), int(f), int(a), int(n))


def settlement_details(
    conn: sa.Connection,
    *,
    fixmedins_code: str,
    setl_optins: str,
    begndate: date,
    enddate: date,
    clr_type: str | None = None,
    refd_setl_flag: str | None = None,
) -> list[DetailRow]:
    """3202 detail rows of an institution (cancellations have ``refd_setl_flag`` "1")."""
    params: dict[str, object] = {
        "fix": fixmedins_code,
        "optins": setl_optins,
        "b": begndate,
        "e": enddate,
    }
    extra = ""
    if clr_type:
        extra = " AND s.clr_type = :clr_type"
        params["clr_type"] = clr_type
    sql = sa.text(
        """
        SELECT s.setl_id, s.mdtrt_id, s.psn_no, s.medfee_sumamt, s.fund_pay_sumamt, s.acct_pay,
               CASE WHEN s.kind = 'cancel' THEN '1' ELSE '0' END AS refd_setl_flag, s.msgid
          FROM encounter_settlement s
         WHERE s.fixmedins_code = :fix AND s.clr_optins = :optins
           AND s.setl_date BETWEEN :b AND :e
        """
        + extra
        + _period_filter(refd_setl_flag)
        + " ORDER BY s.setl_id"
    )
    return [
        DetailRow(
            r.setl_id,
            r.mdtrt_id,
            r.psn_no,
            int(r.medfee_sumamt),
            int(r.fund_pay_sumamt),
            int(r.acct_pay),
            r.refd_setl_flag,
            r.msgid,
        )
        for r in conn.execute(sql, params)
    ]


# ------------------------------------------------------------------------------ one settlement


def record_settlement_rows(
    conn: sa.Connection,
    before: Encounter,
    after: Encounter,
    *,
    setl_id: str,
    batches: Sequence[str] | None,
    acc_year: int,
    deltas: Mapping[str, int],
    row: Mapping[str, object],
) -> list[str]:
    """Every row write of one settlement in ONE statement (the settlement path's hot spot).

    Attaches the unsettled lines (of ``batches``, if given) to ``setl_id``, writes the visit's
    new state if nobody changed it since ``before`` was loaded, adds ``deltas`` to the person's
    accumulators (row-locking upsert) and inserts the settlement ``row`` with the attached
    lines' ``feedetl_sns``. Returns those sns (sorted); raises :class:`EncounterConflict`
    (the caller's transaction must then roll back) when the visit changed concurrently.
    """
    _check_integer_deltas(deltas)
    columns = [k for k in row if k != "feedetl_sns"]
    params: dict[str, object] = {
        # the row as ONE jsonb parameter (jsonb_populate_record): a statement with ~60 separate
        # parameters is re-parsed by psycopg on every execution (its cache stops at 50)
        "row": hot.Jsonb({k: _json_scalar(row[k]) for k in columns}),
        "setl_id": setl_id,
        "mdtrt_id": before.mdtrt_id,
        "batches": list(batches) if batches is not None else None,
        "state": after.state.value,
        "med_type": after.med_type,
        "discharged": after.discharged,
        "final": after.final_setl_id,
        "version": after.version,
        "before": before.version,
        "psn_no": before.psn_no,
        "admdvs": before.insuplc_admdvs,
        "year": acc_year,
        "deltas": hot.Jsonb(dict(deltas)),
    }
    batch_filter = " AND chrg_bchno = ANY(%(batches)s)" if batches is not None else ""
    sql = _RECORD_SETTLEMENT.format(
        batch_filter=batch_filter,
        columns=", ".join(columns),
        values=", ".join(
            # a JSON null in a jsonb column stays the jsonb value null (as a Jsonb parameter did)
            f"COALESCE({c}, 'null'::jsonb)" if c in _JSONB_SETTLEMENT_COLUMNS else c
            for c in columns
        ),
        add_counters=_ADD_COUNTERS.replace("RETURNING counters", "RETURNING 1"),
    )
    found = hot.one(conn, sql, params)
    assert found is not None
    if found[0] != 1:
        raise EncounterConflict(f"就诊ID {before.mdtrt_id} 已被并发修改，请重试")
    return [str(sn) for sn in found[1]]


def _json_scalar(value: object) -> object:
    """A column value as JSON for ``jsonb_populate_record`` (dates and times in ISO 8601)."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


_RECORD_SETTLEMENT = """
WITH lines AS (
  UPDATE encounter_fee_line SET settled_setl_id = %(setl_id)s
   WHERE mdtrt_id = %(mdtrt_id)s AND settled_setl_id IS NULL{batch_filter}
  RETURNING feedetl_sn
), visit AS (
  UPDATE encounter SET state = %(state)s, med_type = %(med_type)s, discharged = %(discharged)s,
         final_setl_id = %(final)s, version = %(version)s, updated_at = now()
   WHERE mdtrt_id = %(mdtrt_id)s AND version = %(before)s
  RETURNING 1
), acc AS ({add_counters}
), setl AS (
  INSERT INTO encounter_settlement ({columns}, feedetl_sns)
  SELECT {values},
         COALESCE((SELECT jsonb_agg(feedetl_sn ORDER BY feedetl_sn COLLATE "C") FROM lines),
                  '[]'::jsonb)
    FROM jsonb_populate_record(NULL::encounter_settlement, %(row)s)
  RETURNING feedetl_sns
)
SELECT (SELECT count(*) FROM visit), (SELECT feedetl_sns FROM setl), (SELECT count(*) FROM acc)
"""
