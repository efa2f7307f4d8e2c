"""The cross-match backends by name: a new backend is a module with a ``BACKEND`` plus one line here."""

from __future__ import annotations

from skysift.crossmatch import hats, local, tns, xmatch
from skysift.crossmatch.base import Backend
from skysift.io import InputError

__all__ = ["BACKENDS", "get_backend"]

#: Every backend a catalog can use (``crossmatch.catalogs.<name>.backend``).
BACKENDS: dict[str, Backend] = {
    local.BACKEND.name: local.BACKEND,
    xmatch.BACKEND.name: xmatch.BACKEND,
    tns.BACKEND.name: tns.BACKEND,
    hats.BACKEND.name: hats.BACKEND,
}


def get_backend(name: str, where: str = "crossmatch.catalogs.<name>") -> Backend:
    """The backend called ``name``; an unknown one raises an InputError naming the config key."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise InputError(f"{where}.backend: {name!r} is not one of {list(BACKENDS)}") from None
