"""Designated institutions and operators (定点医药机构与经办人).

- :mod:`.model` — pure records and rules (institution type, network status, sign-in numbers);
- :mod:`.store` — SQL tables and queries;
- :mod:`.service` — use cases (register, credentials, 9001 签到 / 9002 签退);
- :mod:`.demo` — demo hospitals and pharmacies for ``yibao serve``.
"""
