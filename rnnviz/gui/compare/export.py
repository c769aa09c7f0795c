"""Headless export of a comparison (``rnnviz export`` on a document with several models).

The panels that draw only the document (the input) are written once, as ``<panel>.<format>``.
Each model's other panels are written as the app shows them with that model selected, named
``<panel>-<model>.<format>`` (the model part from
:func:`rnnviz.session.compare.model_file_names`, e.g. ``hidden-LSTM_32.png``; CSV tables
``<panel>-<model>.csv`` or ``<panel>-<model>_<table>.csv``), then the comparison view as
``compare.<format>`` (CSV: ``compare_<table>.csv``, one per table: output, loss, gradients,
influence, gates, summary). A document with one model is exported by
:func:`rnnviz.gui.export.headless.export_views` with its usual names (``<panel>.<format>``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtWidgets import QApplication

from rnnviz.gui.export.headless import FORMATS, _offscreen_window, export_views
from rnnviz.gui.panels.registry import DASHBOARD, PANELS, export_targets, panel_spec
from rnnviz.io.run_export import ExportError
from rnnviz.session import Session
from rnnviz.session.compare import model_file_names

COMPARE = "compare"
SHARED = ("input", "training")  # the same for every model: the document, every model's record
_ANIMATIONS = ("gif", "mp4")


def default_panels(several: bool) -> list[str]:
    """What ``rnnviz export`` writes without ``--panels``: every panel open by default, and
    the comparison view when there are several models."""
    keys = [spec.key for spec in PANELS if spec.shown]
    if several and COMPARE not in keys:
        keys.append(COMPARE)
    return keys


def export_comparison(
    session: Session,
    out_dir: str | os.PathLike[str],
    formats: Sequence[str],
    panels: Sequence[str] | None = None,
    width: int = 1600,
    fps: float = 10,
    stride: int = 1,
    progress: Callable[[str, float], None] | None = None,
) -> list[Path]:
    """Write ``panels`` (default :func:`default_panels`) of every model of ``session``'s
    document in each of ``formats`` into ``out_dir`` (names in the module docstring); the
    comparison view once, with the influence computed. Panels a model has nothing for (cell
    memory without an LSTM) are left out for that model; a panel no model has anything for
    is an ExportError when asked for by name. ``progress(name, fraction)`` follows each file
    being written. Returns the files in order."""
    doc = session.document
    several = len(doc.models) > 1
    given = panels is not None
    panels = [p.lower() for p in (panels if given else default_panels(several))]
    if not several:
        return export_views(session, out_dir, formats, panels, width=width, fps=fps,
                            stride=stride, skip_empty=not given, progress=progress)
    formats = [f.lower().lstrip(".") for f in formats]
    for kind, values, known in (("format", formats, FORMATS), ("panel", panels,
                                                               export_targets())):
        bad = [v for v in values if v not in known]
        if bad:
            raise ExportError(f"unknown {kind} {bad[0]!r}; choose from {', '.join(known)}")
    def plotted(key: str) -> bool:
        spec = panel_spec(key)
        return any(spec.has_content(m.config) for m in doc.models) and (
            spec.has_data is None or spec.has_data(doc))

    for key in [k for k in panels if k not in (DASHBOARD, COMPARE) and not plotted(k)]:
        if not given:
            panels.remove(key)  # e.g. the training curves of models not trained
        else:
            raise ExportError(f"{panel_spec(key).title}: nothing is plotted for these networks")
    out = Path(out_dir)
    if not out.is_dir():
        raise ExportError(f"{out}: the output folder does not exist")
    report = progress or (lambda _name, _fraction: None)
    names = model_file_names(doc)
    written: list[Path] = []
    saved_view = session.view
    with _offscreen_window(session) as controller:
        window = controller.window
        window.redraw_now()
        for key in (p for p in panels if p in SHARED):
            for fmt in formats:
                written += _write(controller, key, out / f"{key}.{fmt}", fmt, width, fps,
                                  stride, report)
        per_model = [p for p in panels if p != COMPARE and p not in SHARED]
        for k, (model, name) in enumerate(zip(doc.models, names, strict=True)):
            session.set_view(model=k)
            window.dashboard.forget()
            window.redraw_now()
            for key in per_model:
                if key != DASHBOARD and not panel_spec(key).has_content(model.config):
                    continue
                for fmt in formats:
                    written += _write(controller, key, out / f"{key}-{name}.{fmt}", fmt,
                                      width, fps, stride, report)
        session.set_view(saved_view)
        if COMPARE in panels:
            window.models.show_comparison()
            _settle()
            window.models.influence_now()
            window.redraw_now()
            for fmt in formats:
                written += _write(controller, COMPARE, out / f"{COMPARE}.{fmt}", fmt, width,
                                  fps, stride, report)
    return written


def _write(controller, key: str, path: Path, fmt: str, width: int, fps: float,
           stride: int, report: Callable[[str, float], None]) -> list[Path]:
    report(path.name, 0.0)
    if fmt in _ANIMATIONS:
        controller.export_animation(key, path, fps, stride, width,
                                    lambda f: report(path.name, f))
        written = [path]
    elif fmt == "png":
        written = controller.export(key, path, width)
    else:
        written = controller.export(key, path)
    report(path.name, 1.0)
    return written


def _settle() -> None:
    for _ in range(3):
        QApplication.processEvents()
