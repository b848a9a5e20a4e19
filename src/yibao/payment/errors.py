"""Errors of the payment capability, mapped by entry points (gateway handlers, console, CLI)."""

from __future__ import annotations


class PaymentInputError(ValueError):
    """Bad input that names the field and the rule; nothing is written (→ infcode -1, not logged)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path, self.message = path, message


class PaymentRefused(Exception):
    """A business refusal (业务处理错误): rolled back, answered, recorded like a success."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
