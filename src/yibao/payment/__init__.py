"""Payment reform (支付方式改革): settlement lists, DRG/DIP grouping and payment, 特例单议, 医共体.

The counter settlement (即时结算) stays item by item; this capability computes what the fund owes
an institution for its inpatient cases under DRG (按病组) or DIP (按病种分值) payment, advances it
monthly (月度预结算), settles it at year end (年度清算), reviews special cases (特例单议) and runs
county medical-community global budgets (紧密型县域医共体 总额付费、结余留用、合理超支分担).

Layout: ``model/`` pure (grouper, formulas, rules), ``tables`` (grouper table files), ``params``
(policy parameters), ``store*`` (SQL), ``service*`` (use cases), ``queries`` (console reads),
``export`` (year-end statement XLSX), ``cli``. See docs/payment-reform.md.
"""
