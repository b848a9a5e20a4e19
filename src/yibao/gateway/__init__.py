"""Gateway persistence (网关): the exactly-once message log, nonces, and exchanged files.

- :mod:`.store` — tables ``gateway_message`` (every answered request by (fixmedins_code, msgid)),
  ``gateway_nonce`` (replay window), ``gateway_file`` (9101/9102 files);
- :mod:`.service` — :func:`~.service.execute_once`, the transaction boundary every transaction
  runs inside.
"""
