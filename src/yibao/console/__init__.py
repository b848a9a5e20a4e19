"""Console accounts (控制台账户): users, roles, region scope, sessions, CSRF and audit.

``model`` is pure (roles, scope, password rules, lockout); ``service`` holds the use cases
(authenticate, sessions, users); ``store`` the SQL. The web pages live in :mod:`yibao.web`.
"""
