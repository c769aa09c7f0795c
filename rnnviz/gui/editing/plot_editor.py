"""Editing the input on its plot: drag one sample up or down, or draw a freehand stroke.

The input panel's :class:`~rnnviz.gui.panels.input.EditableViewBox` offers its drags to this
editor first and keeps its own handling of the mouse wheel and the right button; only
left-button drags are taken over, and only in the panel's "drag" and "draw" modes. In
"drag" mode a press that is not within :data:`PICK_RADIUS` pixels of a sample pans as usual, so
the shared time axis scrolls the same way in every mode.

Every mouse move of a drag or stroke is pushed as an edit with one merge key, so the network
recomputes while the mouse moves, and the release seals the run: one drag, one undo step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QPointF, Qt

from rnnviz.gui.editing.apply import apply_sequence
from rnnviz.gui.panels.input import MAX_LINES
from rnnviz.session import Sequence, edits

PICK_RADIUS = 8.0  # pixels: how near a press must be to a sample to grab it
MAX_CANDIDATES = 20_000  # steps examined around the press (the plot may show 100,000s)
TEXT_HINT = "a text sequence is edited through its text (Sequence → Text…)"


@dataclass
class _Gesture:
    kind: str  # "drag" or "draw"
    channel: int  # an input channel, or edits.TARGET
    step: int  # the dragged step (drag only)
    base: Sequence  # the sequence when the gesture started (draw replaces values in it)
    points: list[tuple[float, float]]


def channel_name(seq: Sequence, channel: int) -> str:
    return "target" if channel == edits.TARGET else seq.channel_names[channel]


def pick_sample(
    seq: Sequence, x: float, y: float, pixel: tuple[float, float], radius: float = PICK_RADIUS
) -> tuple[int, int] | None:
    """The (channel, step) of the sample nearest the view point (x, y), within ``radius``
    pixels, or None. ``pixel`` is the (width, height) of one screen pixel in view units.
    Channels are the inputs and the first target column (steps without a target excluded)."""
    pw, ph = abs(pixel[0]) or 1e-12, abs(pixel[1]) or 1e-12
    lo = max(math.ceil(x - radius * pw), 0, round(x) - MAX_CANDIDATES // 2)
    hi = min(math.floor(x + radius * pw), seq.steps - 1, round(x) + MAX_CANDIDATES // 2)
    if hi < lo:
        return None
    steps = np.arange(lo, hi + 1)
    columns = [(k, seq.inputs[steps, k]) for k in range(seq.channels)]
    if seq.targets is not None:
        target = seq.targets[steps, 0].astype(np.float64)
        if seq.target_mask is not None:
            target = np.where(seq.target_mask[steps], target, np.nan)
        columns.append((edits.TARGET, target))
    best: tuple[float, int, int] | None = None
    for channel, values in columns:
        with np.errstate(invalid="ignore"):
            dist = np.hypot((steps - x) / pw, (values - y) / ph)
        dist = np.where(np.isfinite(dist), dist, np.inf)
        k = int(np.argmin(dist))
        if dist[k] <= radius and (best is None or dist[k] < best[0]):
            best = (float(dist[k]), channel, int(steps[k]))
    return None if best is None else (best[1], best[2])


def class_values(values: np.ndarray) -> np.ndarray:
    """Class-index targets must be whole numbers ≥ 0: ``values`` rounded and clipped."""
    return np.maximum(np.rint(values), 0.0)


class PlotEditor(QObject):
    """Takes over left-button drags on the input panel's plot (see the module docstring)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.panel = window.panels["input"]
        self.vb = self.panel.input_plot.getViewBox()
        self.vb.drag_handler = self._on_drag
        self.gesture: _Gesture | None = None
        self.panel.mode_changed.connect(self._mode_changed)
        self._mode_changed(self.panel.edit_mode)

    def _mode_changed(self, mode: str) -> None:
        if mode == "draw":
            self.vb.setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.vb.unsetCursor()

    # ---- the mouse -----------------------------------------------------------------------
    def _on_drag(self, ev, axis=None) -> bool:
        """The view box's drag events: True when this is (part of) an edit, False to let the
        view box pan."""
        if self.gesture is None:
            if not (
                ev.isStart()
                and axis is None
                and ev.button() == Qt.MouseButton.LeftButton
                and self._start(ev.buttonDownScenePos())
            ):
                return False
        ev.accept()
        self._move(ev.scenePos())
        if ev.isFinish():
            self._finish()
        return True

    def _view_point(self, scene_pos: QPointF) -> tuple[float, float]:
        p = self.vb.mapSceneToView(scene_pos)
        return p.x(), p.y()

    def _start(self, scene_pos: QPointF) -> bool:
        mode = self.panel.edit_mode
        if mode == "pan":
            return False
        seq = self.window.session.document.sequence
        if seq.text is not None:
            self.window.show_message(TEXT_HINT)
            return False
        if seq.channels > MAX_LINES:
            self.window.show_message(
                f"{seq.channels} channels are drawn as an image; edit their values in the table"
            )
            return False
        x, y = self._view_point(scene_pos)
        if mode == "drag":
            hit = pick_sample(seq, x, y, self.vb.viewPixelSize())
            if hit is None:
                return False
            channel, step = hit
            self.gesture = _Gesture("drag", channel, step, seq, [])
        else:
            channel = self.panel.draw_channel
            if channel is None or (channel == edits.TARGET and seq.targets is None):
                return False
            self.gesture = _Gesture("draw", channel, -1, seq, [(x, y)])
        self.panel.set_hold_y(True)
        return True

    def _move(self, scene_pos: QPointF) -> None:
        g = self.gesture
        if g is None:
            return
        x, y = self._view_point(scene_pos)
        if g.kind == "drag":
            self.drag_to(g.channel, g.step, y)
        else:
            g.points.append((x, y))
            self.draw_stroke(g.channel, g.base, g.points)

    def _finish(self) -> None:
        self.gesture = None
        self.window.editor.seal()
        self.panel.set_hold_y(False)

    # ---- the edits (also used directly by tests and keyboard tools) -------------------------
    def _is_class_target(self, channel: int) -> bool:
        return channel == edits.TARGET and self.window.session.document.task.loss == "ce"

    def drag_to(self, channel: int, step: int, value: float) -> None:
        """Set one sample to ``value`` as part of the current drag (merged undo step)."""
        if self._is_class_target(channel):
            value = float(class_values(np.array([value]))[0])
        seq = self.window.session.document.sequence
        name = channel_name(seq, channel)

        def build(s: Sequence) -> Sequence:
            return edits.set_values(s, channel, [step], [value])

        apply_sequence(self.window, build, f"Drag {name} at step {step}", merge_key="drag")

    def draw_stroke(self, channel: int, base: Sequence, points: list[tuple[float, float]]) -> None:
        """Replace the values of ``base`` under the stroke through ``points`` (step, value)
        so far; part of the current stroke's merged undo step."""
        class_target = self._is_class_target(channel)

        def build(_current: Sequence) -> Sequence:
            new = edits.stroke(base, channel, points)
            if class_target and new is not base:
                new = edits.set_values(
                    new, channel, np.arange(new.steps), class_values(new.targets[:, 0])
                )
            return new

        apply_sequence(
            self.window, build, f"Draw {channel_name(base, channel)}", merge_key="stroke"
        )
