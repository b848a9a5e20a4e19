"""Cross-region filing (异地就医备案): model (rules), store (SQL), service (use cases).

Public API: :func:`yibao.filing.service.filing_status` (the engine's filing code for a visit),
``file_crossregion``, ``register_chronic`` (2503), ``register_designation`` (2505), ``cancel``,
``end``, ``filings_of``, ``chronic_diseases``. See docs/cross-region.md.
"""
