"""The settlement engine's steps, in order (policy-rules.md §1.2 and §8.3); each fills its part
of the :class:`~yibao.settlement.bill.Bill` and appends its trace line(s)."""
