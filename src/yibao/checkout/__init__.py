"""Checkout (结算): the owner of every settlement use case, written as flows (:mod:`yibao.db.flow`).

One module per use case: :mod:`.admission` (2201 门诊挂号, 2401 入院), :mod:`.fees` (2204/2301
费用明细, classified by the treatment place's catalogue), :mod:`.settle_visit` (2206/2207 门诊),
:mod:`.settle_stay` (2303/2304 住院, 中途结算), :mod:`.settle_pharmacy` (2101/2102 药店),
:mod:`.settle_relayed` (the insured province's side of 跨省), :mod:`.cancel` (2208/2305/2103),
:mod:`.reversal` (2601). Shared steps: :mod:`.facts` (one read), :mod:`.pricing` (pure: snapshot,
policy, filing, engine), :mod:`.record` (pure: the writes), :mod:`.steps`. Values:
:mod:`.bills`; the hub as a port: :mod:`.ports`; pure helpers: :mod:`.model`, :mod:`.visits`.
"""
