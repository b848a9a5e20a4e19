"""Medical-insurance e-voucher (医保电子凭证): codes, channels, tokens, passwords, activation."""
