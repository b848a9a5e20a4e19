"""The national interface gateway (定点医药机构接口): envelope, transports, dispatcher, handlers.

Reference: ``reference/nhsa-interface.md`` §1 (envelope, transports) and §2 (transactions).
Handlers live in :mod:`yibao.api.nhsa.handlers`, one module per transaction family, and register
with :func:`yibao.api.nhsa.dispatcher.transaction`.
"""
