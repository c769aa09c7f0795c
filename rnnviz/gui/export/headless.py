"""Figures, data and animations of a session without a display (``rnnviz export``).

The real main window is built offscreen at :data:`WINDOW_SIZE` in the light theme, with its
settings in a throwaway file (the user's saved layout is neither used nor changed), and each
panel is exported exactly as the app would.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from rnnviz.gui.export.controller import ExportController
from rnnviz.gui.export.figures import prepare_offscreen
from rnnviz.gui.panels.registry import DASHBOARD, export_targets, panel_spec
from rnnviz.gui.theme import LIGHT, apply_palette
from rnnviz.io.run_export import ExportError
from rnnviz.session import Session

__all__ = ["FORMATS", "PANELS", "WINDOW_SIZE", "HandoutOptions", "export_views"]

WINDOW_SIZE = (1600, 1000)
PANELS = export_targets()
FORMATS = ("png", "svg", "pdf", "csv", "gif", "mp4")
_IMAGE_FORMATS = ("png", "svg", "pdf")
_ANIMATION_FORMATS = ("gif", "mp4")
# Harmless notices of the offscreen platform, which has no window manager.
_QUIET = ("This plugin does not support",)


@dataclass(frozen=True)
class HandoutOptions:
    """How ``rnnviz export --figure`` composes its figure (see :mod:`.handout`)."""

    title: str = ""
    caption: str | None = None  # None: the model's description
    width_in: float = 7.0
    dpi: int = 300
    cursor: bool = False


def export_views(
    session: Session,
    out_dir: str | os.PathLike[str],
    formats: Sequence[str],
    panels: Sequence[str],
    width: int = 1600,
    fps: float = 10,
    stride: int = 1,
    skip_empty: bool = False,
    progress: Callable[[str, float], None] | None = None,
    handout: HandoutOptions | None = None,
) -> list[Path]:
    """Write each of ``panels`` (keys of the panel registry, or "dashboard") in each of
    ``formats`` ("png" ``width`` pixels wide, "svg", "pdf", "csv", "gif"/"mp4" animations at
    ``fps`` of every ``stride``-th step) into ``out_dir`` as
    ``<panel>.<format>`` (CSV: ``<panel>.csv``, or ``<panel>_<table>.csv`` for each of several
    tables). With ``skip_empty``, panels with nothing to show for this network are left out
    (cell memory without an LSTM, the output without a readout); otherwise asking for one is an
    ExportError. ``progress(name, fraction)`` follows each file being written (animations frame
    by frame). With ``handout``, the image formats (png, svg, pdf) are one figure of the panels
    for a handout, ``figure.<format>``, instead of a file per panel. Returns the files in order.
    """
    report = progress or (lambda _name, _fraction: None)
    formats = [f.lower().lstrip(".") for f in formats]
    panels = [p.lower() for p in panels]
    for kind, given, known in (("format", formats, FORMATS), ("panel", panels, PANELS)):
        bad = [x for x in given if x not in known]
        if bad:
            raise ExportError(f"unknown {kind} {bad[0]!r}; choose from {', '.join(known)}")
    out = Path(out_dir)
    if not out.is_dir():
        raise ExportError(f"{out}: the output folder does not exist")
    config = session.model.config
    written: list[Path] = []
    with _offscreen_window(session) as controller:
        if handout is not None:
            keys = [p for p in panels if p != DASHBOARD and (
                panel_spec(p).has_content(config) or not skip_empty)]
            for fmt in [f for f in formats if f in _IMAGE_FORMATS]:
                path = out / f"figure.{fmt}"
                report(path.name, 0.0)
                written.append(controller.export_handout(
                    path, keys, title=handout.title, caption=handout.caption,
                    width_in=handout.width_in, dpi=handout.dpi, cursor=handout.cursor))
                report(path.name, 1.0)
            formats = [f for f in formats if f not in _IMAGE_FORMATS]
        for panel in panels:
            spec = panel_spec(panel) if panel != DASHBOARD else None
            if spec is not None and not (spec.has_content(config) and (
                    spec.has_data is None or spec.has_data(session.document))):
                if skip_empty:
                    continue
                raise ExportError(f"{spec.title}: nothing is plotted for this network")
            dock = controller.window.docks.get(panel)
            if dock is not None and dock.isHidden():
                dock.show()  # panels closed by default (the analysis views) open to export
            for fmt in formats:
                path = out / f"{panel}.{fmt}"
                report(path.name, 0.0)
                if fmt in _ANIMATION_FORMATS:
                    controller.export_animation(
                        panel, path, fps, stride, width,
                        lambda f, name=path.name: report(name, f))
                    written.append(path)
                elif fmt == "png":
                    written += controller.export(panel, path, width)
                else:
                    written += controller.export(panel, path)
                report(path.name, 1.0)
    return written


@contextmanager
def _offscreen_window(session: Session) -> Iterator[ExportController]:
    """The main window over ``session``, laid out offscreen, and its export controller."""
    from rnnviz.gui.main_window import MainWindow

    created = QApplication.instance() is None
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "rnnviz"])
    if created:
        apply_palette(LIGHT)
    previous = qInstallMessageHandler(_quiet_handler)
    try:
        with tempfile.TemporaryDirectory(prefix="rnnviz-export-") as folder:
            settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
            window = MainWindow(session, settings=settings, theme=LIGHT, restore_layout=False)
            try:
                prepare_offscreen(window, WINDOW_SIZE)
                window.reset_layout()  # arrange the docks for this size
                app.processEvents()
                window.redraw_now()
                yield window.exports
            finally:
                window.close()
                window.deleteLater()
                settings.sync()
                app.processEvents()
    finally:
        qInstallMessageHandler(previous)


def _quiet_handler(kind: QtMsgType, context: object, message: str) -> None:
    if message.startswith(_QUIET):
        return
    if kind != QtMsgType.QtDebugMsg:
        sys.stderr.write(message + "\n")
