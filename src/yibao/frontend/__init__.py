"""The front-end processor (医保前置机): runs inside an institution, signs for its HIS.

A hospital's HIS rarely signs its own requests: it posts plain envelopes to a front-end processor
on the hospital network, which holds the institution's credentials and speaks to the centre.
``yibao frontend run`` is that processor:

- :mod:`.model` (pure): who may call (address allowlist, local token, CORS origins), what an
  envelope is about (infno, msgid, 2601's omsgid), the answers the processor gives itself (outcome
  unknown, not delivered, reversal queued), the reversal queue's records;
- :mod:`.queue`: the durable local queue of 2601 冲正 that could not reach the centre (append-only
  JSON lines, fsync; ADR 0014) — never a settlement;
- :mod:`.service`: signing (the institution's CSB or TIF credentials) and forwarding to the centre
  (httpx, timeouts, connection reuse), the answer returned unchanged, the queue re-sent until the
  centre answers, a redacted log;
- :mod:`.app`: the HTTP face (the centre's single URL and per-infno paths, JSON, form-encoded or
  multipart, CORS); :mod:`.cli`: ``yibao frontend run | check | key-file | queue``.

User documentation: docs/api/frontend.md.
"""
