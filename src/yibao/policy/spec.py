"""One entry of the parameter catalogue (参数目录): a key's kind, Chinese label, dimensions and
default. Shared by :mod:`yibao.policy.schema` and :mod:`yibao.policy.schema_funds`, which both
build entries, so neither has to import the other's half."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ParamSpec:
    kind: str
    label: str
    dims: tuple[str, ...] = ()
    default: Any = None  # raw (YAML-like) default; None = required when used
    choices: tuple[str, ...] = ()
    has_default: bool = False


def spec(kind: str, label: str, dims: tuple[str, ...] = (), **kw: Any) -> ParamSpec:
    """A catalogue entry; ``has_default`` is set when a ``default`` is given (even ``None``)."""
    return ParamSpec(kind, label, dims, has_default="default" in kw, **kw)
