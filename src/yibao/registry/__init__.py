"""Registry (参保登记): insured persons, enrolments, assistance identities, households, accounts.

Public API for other capabilities (see ``docs/registry.md``):

- :func:`yibao.registry.service.snapshot_for_settlement` — the settlement read model;
- :func:`yibao.registry.service.person_info_1101` — the 1101 output (baseinfo/insuinfo/idetinfo);
- :func:`yibao.registry.service.find_psn_no_by_cert` — certificate → ``psn_no``;
- :func:`yibao.registry.accounts.lock_balance` / :func:`yibao.registry.accounts.post` — the
  personal account (个人账户) inside the caller's transaction.
"""
