"""Catalogue classification as a flow (:mod:`yibao.db.flow`): one statement, then pure rules.

A fee upload (2204/2301) or a pharmacy sale (2101/2102) reads, in one statement, the catalogue
regions, the rows in force for its codes in the treatment region's possible layers (the region
and its structural ancestors) and their 乙类 default first-pay ratios; :func:`classify_read`
then applies :func:`yibao.catalog.model.classify_lines`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from yibao.catalog.model import (
    CatalogRow,
    ClassifiedLine,
    FeeLine,
    LineRefusal,
    Region,
    SelfpayDefault,
    classify_lines,
    parent_candidates,
    region_chain,
)
from yibao.db.flow import Flow, Q, Read

_REGIONS = (
    "SELECT COALESCE(json_agg(json_build_array(admdvs, name, parent_admdvs)), '[]')"
    " FROM catalog_region"
)
_ROWS = """
SELECT COALESCE(json_agg(json_build_array(admdvs, med_list_codg, begndate, enddate, action, name,
  list_type, chrgitm_lv, med_chrgitm_type, selfpay_prop::text, pric, pric_uplmt_amt,
  clear_pric_uplmt, prcunt, drug_dosform, drug_spec, prodentp_name, lmt_used_flag, lmt_usescp,
  hi_nego_drug_flag, vol_procurement_flag, memo)), '[]')
  FROM catalog_item WHERE admdvs = ANY(%(layers)s) AND med_list_codg = ANY(%(codes)s)
   AND vali_flag = '1' AND begndate <= %(on)s AND (enddate IS NULL OR enddate >= %(on)s)
"""
_DEFAULTS = """
SELECT COALESCE(json_agg(json_build_array(admdvs, begndate, enddate, selfpay_prop::text,
  reference, assumed, reason) ORDER BY admdvs, begndate), '[]')
  FROM catalog_selfpay_default WHERE admdvs = ANY(%(layers)s)
"""


def _day(v: str | None) -> date | None:
    return None if v is None else date.fromisoformat(v)


def _rows(values: Sequence[list[Any]]) -> list[CatalogRow]:
    return [
        CatalogRow(
            admdvs=v[0],
            med_list_codg=v[1],
            begndate=date.fromisoformat(v[2]),
            enddate=_day(v[3]),
            action=v[4],
            name=v[5],
            list_type=v[6],
            chrgitm_lv=v[7],
            med_chrgitm_type=v[8],
            selfpay_prop=None if v[9] is None else Decimal(v[9]),
            pric=v[10],
            pric_uplmt_amt=v[11],
            clear_pric_uplmt=bool(v[12]),
            prcunt=v[13],
            drug_dosform=v[14],
            drug_spec=v[15],
            prodentp_name=v[16],
            lmt_used_flag=v[17],
            lmt_usescp=v[18],
            hi_nego_drug_flag=v[19],
            vol_procurement_flag=v[20],
            memo=v[21],
        )
        for v in values
    ]


def _defaults(values: Sequence[list[Any]]) -> list[SelfpayDefault]:
    return [
        SelfpayDefault(v[0], date.fromisoformat(v[1]), _day(v[2]), Decimal(v[3]), v[4], v[5], v[6])
        for v in values
    ]


def layers_of(admdvs: str) -> list[str]:
    """The layers a region's catalogue can be made of: itself and its structural ancestors."""
    norm = admdvs
    if len(admdvs) == 6 and admdvs.endswith("99"):
        norm = admdvs[:4] + "00" if admdvs[2:4] != "99" else admdvs[:2] + "0000"
    return [norm, *parent_candidates(norm)]


def classification_qs(admdvs: str, on: date, lines: Sequence[FeeLine]) -> list[Q]:
    """What classifying ``lines`` in ``admdvs`` on ``on`` reads (add them to a flow's read)."""
    layers = layers_of(admdvs)
    codes = sorted({ln.med_list_codg for ln in lines if ln.med_list_codg})
    return [
        Q(_REGIONS),
        Q(_ROWS, {"layers": layers, "codes": codes, "on": on}),
        Q(_DEFAULTS, {"layers": layers}),
    ]


def classify_read(
    admdvs: str, on: date, lines: Sequence[FeeLine], values: Sequence[Any]
) -> Flow[list[ClassifiedLine | LineRefusal]]:
    """Classify with the values of :func:`classification_qs` (a second read only when a declared
    catalogue parent lies outside the structural ancestors)."""
    regions = {r[0]: Region(r[0], r[1], r[2]) for r in values[0]}
    chain = region_chain(admdvs, regions)
    rows, defaults = values[1], values[2]
    if not set(chain) <= set(layers_of(admdvs)):
        codes = sorted({ln.med_list_codg for ln in lines if ln.med_list_codg})
        rows, defaults = yield Read(
            Q(_ROWS, {"layers": chain, "codes": codes, "on": on}),
            Q(_DEFAULTS, {"layers": chain}),
        )
    in_chain = set(chain)
    return classify_lines(
        admdvs,
        chain,
        [r for r in _rows(rows) if r.admdvs in in_chain],
        [d for d in _defaults(defaults) if d.admdvs in in_chain],
        on,
        lines,
    )
