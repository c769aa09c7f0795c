"""Teaching features of the window: the cell diagram follows the view, and Help → Lessons.

Installed as a feature module (see :mod:`rnnviz.gui.features`).
"""

from __future__ import annotations

from shiboken6 import isValid

from rnnviz.gui import lessons


def install(window) -> None:
    """Connect the cell diagram to the view and to whether its dock can be seen, and install
    the lessons controller as ``window.lessons``."""
    panel = window.panels.get("diagram")
    if panel is not None:
        session = window.session

        def follow(view) -> None:
            if isValid(panel):
                panel.follow_view(view)
            else:  # the window is gone; its session may live on
                session.view_changed.disconnect(follow)

        session.view_changed.connect(follow)
        panel.follow_view(session.view)
        # a tab behind another, or a closed dock, is not drawn at every step
        window.docks["diagram"].visibilityChanged.connect(panel.set_shown)
    lessons.install(window)
