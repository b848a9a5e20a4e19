"""Pure payment-reform model (no I/O, no clock, no database): grouper, formulas, rules."""
