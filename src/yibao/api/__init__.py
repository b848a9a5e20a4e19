"""HTTP entry points: the national interface gateway, mobile/channel API, admin API and console."""
