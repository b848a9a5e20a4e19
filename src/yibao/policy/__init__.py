"""Policy as data (政策参数): date-keyed parameter files per pooling region (统筹区).

Public API: ``resolve(admdvs, on, overrides=None) -> ResolvedPolicy`` (cached per region and date),
``load_tree``, ``parse_region``, ``PolicyError``/``PolicyFileError``. Format: docs/policy-format.md.
"""

from yibao.policy.loader import PolicyFileError, clear_cache, load_tree, parse_region, resolve
from yibao.policy.model import PolicyError, ResolvedPolicy

__all__ = [
    "PolicyError",
    "PolicyFileError",
    "ResolvedPolicy",
    "clear_cache",
    "load_tree",
    "parse_region",
    "resolve",
]
