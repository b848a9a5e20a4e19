"""Contributions and fund position (缴费与基金): collection, tax-file exchange, fund postings and balances."""
