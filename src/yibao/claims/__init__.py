"""零星报销 (self-paid claims): applications, two-person review, payment through the ledger."""
