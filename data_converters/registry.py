"""The explicit converter registry: name → converter class.

Converters are registered by :mod:`data_converters` itself, one line each, in a fixed order (no import-time
decorators scattered over modules). ``terrasense list`` shows them in that order.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from ts_instruct.errors import UnknownConverterError

if TYPE_CHECKING:
    from data_converters.base import Converter

_REGISTRY: dict[str, type[Converter]] = {}
_ALIASES: dict[str, str] = {}


def register_converter(cls: type[Converter]) -> type[Converter]:
    """Add a converter class under ``cls.name``.

    Raises:
        UnknownConverterError: the name is empty or already registered (by this or another class).
    """
    name = getattr(cls, "name", "")
    if not name:
        raise UnknownConverterError(f"converter {cls.__name__} must define a non-empty `name`")
    if name in _REGISTRY:
        raise UnknownConverterError(
            f"converter name {name!r} is registered twice ({_REGISTRY[name].__name__} and {cls.__name__})"
        )
    _REGISTRY[name] = cls
    return cls


def register_alias(alias: str, name: str) -> None:
    """Let ``alias`` name the converter registered as ``name`` (a dataset known under two names).

    Aliases resolve in :func:`get_converter` only; :func:`list_converters` lists each converter once.

    Raises:
        UnknownConverterError: ``name`` is not registered, or ``alias`` is already a name or an alias.
    """
    if name not in _REGISTRY:
        raise UnknownConverterError(f"cannot alias {alias!r} to {name!r}: no converter named {name!r} is registered")
    if alias in _REGISTRY or alias in _ALIASES:
        raise UnknownConverterError(f"alias {alias!r} is already registered")
    _ALIASES[alias] = name


def get_converter(name: str) -> type[Converter]:
    """Return the converter class registered under ``name`` (or an alias of it).

    Raises:
        UnknownConverterError: unknown name; the message lists close matches and points to ``terrasense list``.
    """
    try:
        return _REGISTRY[_ALIASES.get(name, name)]
    except KeyError:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UnknownConverterError(
            f"no converter named {name!r}{hint} Run `terrasense list` to see the {len(_REGISTRY)} converters."
        ) from None


def list_converters() -> list[type[Converter]]:
    """All registered converter classes, in registration order."""
    return list(_REGISTRY.values())
