"""What clearing needs from outside (端口): the cross-province hub (跨省中转平台).

This province's monthly report to the hub (省间清算核对) and the hub's inter-province statement
(省间清算单) go through the hub's client, and the hub in turn builds the report from clearing's
statements; so clearing never imports the hub (that would be an import cycle). The app hands a
:class:`ProvinceHub` to the clearing admin API as ``app.state.clearing_hub``
(:class:`yibao.hub.port.HubClearing`); without one, both calls say the hub is not configured.
"""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa


class HubUnavailable(Exception):
    """The hub refused, did not answer or is not configured; ``message`` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProvinceHub(Protocol):
    """The cross-province hub as the clearing admin uses it."""

    def report(self, conn: sa.Connection, period: str) -> dict[str, Any]:
        """Send this province's figures of ``period``; the hub's answer (``agree`` per direction)."""
        ...

    def statement(self, period: str) -> dict[str, Any]:
        """The hub's inter-province statement of ``period`` for this province."""
        ...


class NoHub:
    """A deployment without the cross-province hub."""

    def report(self, conn: sa.Connection, period: str) -> dict[str, Any]:
        raise HubUnavailable("跨省中转未配置")

    def statement(self, period: str) -> dict[str, Any]:
        raise HubUnavailable("跨省中转未配置")


NO_HUB = NoHub()
