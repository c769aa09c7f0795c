"""Heatmaps reach the screen: painted as part of the whole window (as a window system's backing
store paints each widget at its offset in the window), not only when a panel is drawn alone."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint


def test_heatmaps_are_coloured_in_a_picture_of_the_whole_window(window, qtbot):
    window.resize(1280, 800)
    window.reset_layout()
    qtbot.wait(50)
    window.redraw_now()
    picture = window.grab().toImage()
    for key in ("hidden", "gates"):
        heat = window.panels[key].heatmaps[0]
        vb = heat.plot.getViewBox()
        view = heat.plot.scene().views()[0]
        rect = view.mapFromScene(vb.sceneBoundingRect()).boundingRect()
        corner = view.viewport().mapTo(window, rect.topLeft() + QPoint(3, 3))
        w, h = rect.width() - 6, rect.height() - 6
        assert w > 20 and h > 5, key
        shot = picture.copy(corner.x(), corner.y(), w, h).convertToFormat(
            picture.Format.Format_RGB32)
        pixels = np.frombuffer(shot.constBits(), np.uint8).reshape(h, shot.bytesPerLine())
        rgb = pixels[:, : 4 * w].reshape(h, w, 4)[..., :3].astype(int)
        coloured = (rgb.max(axis=2) - rgb.min(axis=2)) > 25  # not white, grey or black
        assert coloured.mean() > 0.1, (key, coloured.mean())  # blank: well under 0.01
