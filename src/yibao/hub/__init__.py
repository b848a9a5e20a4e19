"""Cross-province relay through a hub (跨省异地就医结算中转). See docs/cross-region.md.

Treatment side: :mod:`yibao.hub.client` (``relay_settlement``, ``reverse_settlement``,
``record_relayed``). Hub role: :mod:`yibao.hub.service`. Insured side: :mod:`yibao.hub.insured`.
"""
