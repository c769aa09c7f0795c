"""The window's feature modules, installed in order after its core (panels, files, exports,
editing) and before its menus are built.

Each entry names a function ``install(window)`` that adds what the feature needs: a controller
as an attribute of the window (the handlers its entries in :data:`rnnviz.gui.actions.ACTIONS`
call), docks (``window.add_dock``), connections to the session. Panels with plots belong in the
panel registry instead.
"""

from __future__ import annotations

import importlib

FEATURES: tuple[str, ...] = (
    "rnnviz.gui.teaching:install",
    "rnnviz.gui.compare:install",
    "rnnviz.gui.analysis:install",
    "rnnviz.gui.training:install",
)


def install_features(window) -> None:
    for entry in FEATURES:
        module, name = entry.split(":")
        getattr(importlib.import_module(module), name)(window)
