"""Policy simulation (政策测算): replay a year of claims under proposed rules, exact to the fen.

- :mod:`.reform` — reforms as dated parameter patches in the ``policies/`` format (validated);
- :mod:`.dataset` — the claims to replay: partitioned Parquet (schema in docs/simulation-data.md);
- :mod:`.synthetic` — a province-year generator from documented assumptions;
- :mod:`.engine` — the vectorised engine (NumPy over integer-fen columns, ADR 0012): the same rules
  as :func:`yibao.settlement.engine.settle`, path-dependent parts by cumulative sums per person;
- :mod:`.aggregate`, :mod:`.projection` — results by city × insutype × group × level × med_type,
  and the fund projection (可支付月数);
- :mod:`.runner` — partitions one after another, in local processes or on Dask (ADR 0013).
"""
