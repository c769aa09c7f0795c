"""Comparing models in the window: the Models dock, the Model menu's comparison commands and
the comparison view (a panel of the registry, ``rnnviz.gui.compare.view``).

:func:`install` (a feature of :mod:`rnnviz.gui.features`) sets ``window.models``, a
:class:`~rnnviz.gui.compare.controller.ModelsController`.
"""

from __future__ import annotations


def install(window) -> None:
    from rnnviz.gui.compare.controller import ModelsController

    window.models = ModelsController(window)
