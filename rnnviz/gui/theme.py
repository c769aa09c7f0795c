"""Light and dark themes: pyqtgraph colours and colormaps that follow the OS colour scheme.

View → Theme chooses System, Light or Dark (remembered). System means the OS setting
(``QStyleHints.colorScheme()``), which the environment variable ``RNNVIZ_THEME`` ("light" or
"dark") overrides, e.g. for screenshots.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette


@dataclass(frozen=True)
class Theme:
    """Colours for one scheme. ``lines`` cycles over traces; diverging/sequential name
    pyqtgraph colormaps for signed and [0, 1] quantities."""

    name: str
    background: str
    foreground: str
    grid_alpha: float
    cursor: str
    alarm: str
    target: str
    lines: tuple[str, ...]
    diverging: str
    sequential: str = "viridis"

    @property
    def dark(self) -> bool:
        return self.name == "dark"


LIGHT = Theme(
    name="light",
    background="#ffffff",
    foreground="#303030",
    grid_alpha=0.25,
    cursor="#e08000",
    alarm="#d01010",
    target="#606060",
    lines=("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"),
    diverging="CET-D1",
)
DARK = Theme(
    name="dark",
    background="#1e1e1e",
    foreground="#d8d8d8",
    grid_alpha=0.3,
    cursor="#ffb000",
    alarm="#ff4040",
    target="#b0b0b0",
    lines=("#4fa3e0", "#ff6b6b", "#6bd06b", "#c09af0", "#d9a47a", "#f59fd8", "#4fd8e8", "#e0e070"),
    diverging="CET-D4",
)


def scheme_is_dark() -> bool:
    """Whether to use the dark theme: ``RNNVIZ_THEME`` if set, else the OS setting."""
    forced = os.environ.get("RNNVIZ_THEME", "").strip().lower()
    if forced in ("dark", "light"):
        return forced == "dark"
    app = QGuiApplication.instance()
    if app is None:
        return False
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def current_theme() -> Theme:
    return DARK if scheme_is_dark() else LIGHT


@lru_cache(maxsize=8)
def colormap(name: str) -> pg.ColorMap:
    """A pyqtgraph colormap by name (cached; they are immutable in use)."""
    return pg.colormap.get(name)


def apply_global(theme: Theme) -> None:
    """pyqtgraph defaults for widgets created from now on."""
    pg.setConfigOptions(
        background=theme.background,
        foreground=theme.foreground,
        antialias=False,
        imageAxisOrder="row-major",
    )


def dark_palette() -> QPalette:
    """A Fusion dark palette, for platforms that do not provide one."""
    p = QPalette()
    base, window, text = QColor("#232323"), QColor("#2d2d2d"), QColor("#e0e0e0")
    for role, colour in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, window),
        (QPalette.ColorRole.ToolTipBase, window),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.BrightText, QColor("#ff5050")),
        (QPalette.ColorRole.Highlight, QColor("#3d7cc9")),
        (QPalette.ColorRole.HighlightedText, QColor("#ffffff")),
        (QPalette.ColorRole.PlaceholderText, QColor("#909090")),
    ):
        p.setColor(role, colour)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return p


def apply_palette(theme: Theme) -> None:
    """Make the Qt widgets' palette match ``theme`` when the platform's does not."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    is_dark = app.palette().color(QPalette.ColorRole.Window).lightness() < 128
    if theme.dark and not is_dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    elif not theme.dark and is_dark:
        from PySide6.QtWidgets import QStyleFactory

        # Fusion's own palette is light whatever the platform's colour scheme
        app.setStyle("Fusion")
        app.setPalette(QStyleFactory.create("Fusion").standardPalette())
