"""Lazy package attributes: ``from mfd_model.x import name`` without importing every submodule up front.

Each package lists ``name -> submodule`` and sets ``__getattr__ = lazy_exports(__name__, EXPORTS)``
(PEP 562), so importing a package stays cheap and heavy dependencies load on first use.
"""
from __future__ import annotations

import importlib
import sys
from typing import Any, Callable


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<exports[name]>`` on first access of ``name``."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{exports[name]}", package), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
