"""Stepping and playback: the transport bar and the player that advances the cursor.

In reveal mode playing runs the forward pass step by step (states appear as they are
computed) and then a backward sweep from the last step to the first (gradients appear as
backpropagation reaches them).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QToolButton,
    QWidget,
)

from rnnviz.session import Session, ViewState

MIN_INTERVAL_MS = 16  # one frame; faster speeds advance several steps per tick
ICON_SIZE = 16
ICONS = ("first", "back", "play", "pause", "forward", "last")


def transport_icon(kind: str, colour: QColor, size: int = ICON_SIZE, ratio: float = 2.0) -> QIcon:
    """A transport button's icon (one of :data:`ICONS`) drawn in ``colour``: the style's own
    media icons are black whatever the palette, invisible on a dark theme's buttons."""
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(colour)
    s = float(size)
    top, bottom, mid = s * 0.2, s * 0.8, s * 0.5

    def right(x0: float, x1: float) -> None:  # a triangle pointing right
        p.drawPolygon(QPolygonF([QPointF(x0, top), QPointF(x1, mid), QPointF(x0, bottom)]))

    def left(x0: float, x1: float) -> None:
        p.drawPolygon(QPolygonF([QPointF(x1, top), QPointF(x0, mid), QPointF(x1, bottom)]))

    bar = s * 0.12
    if kind == "play":
        right(s * 0.3, s * 0.8)
    elif kind == "pause":
        p.drawRect(QRectF(s * 0.28, top, bar * 1.3, bottom - top))
        p.drawRect(QRectF(s * 0.56, top, bar * 1.3, bottom - top))
    elif kind == "forward":
        right(s * 0.12, s * 0.5)
        right(s * 0.5, s * 0.88)
    elif kind == "back":
        left(s * 0.12, s * 0.5)
        left(s * 0.5, s * 0.88)
    elif kind == "last":
        right(s * 0.18, s * 0.68)
        p.drawRect(QRectF(s * 0.7, top, bar, bottom - top))
    elif kind == "first":
        p.drawRect(QRectF(s * 0.18, top, bar, bottom - top))
        left(s * 0.32, s * 0.82)
    else:
        p.end()
        raise ValueError(f"unknown transport icon {kind!r}")
    p.end()
    return QIcon(pixmap)


def reveal_position(view: ViewState, steps: int) -> int:
    """Where ``view`` is on reveal mode's timeline of 2·steps positions: the forward pass
    (position t = step t, states up to t drawn), then the backward sweep (position
    2·steps − 1 − t = gradients from the last step back to t drawn)."""
    if view.phase == "backward":
        return 2 * steps - 1 - view.step
    return view.step


def at_reveal_position(view: ViewState, steps: int, position: int) -> ViewState:
    """``view`` moved to ``position`` of reveal mode's timeline (clamped to it)."""
    position = min(max(int(position), 0), 2 * steps - 1)
    if position < steps:
        return replace(view, step=position, phase="forward")
    return replace(view, step=2 * steps - 1 - position, phase="backward")


def moved_view(view: ViewState, steps: int, delta: int) -> ViewState:
    """``view`` ``delta`` steps later (earlier if negative). In reveal mode it moves along the
    forward pass and on into the backward sweep, and back again: → at the last step of the
    forward pass starts the sweep, ← at its start returns to the forward pass."""
    if view.reveal:
        return at_reveal_position(view, steps, reveal_position(view, steps) + delta)
    return replace(view, step=min(max(view.step + delta, 0), steps - 1))


def first_view(view: ViewState, steps: int) -> ViewState:
    """Home: step 0 (in reveal mode, the start of the forward pass)."""
    return replace(view, step=0, phase="forward")


def last_view(view: ViewState, steps: int) -> ViewState:
    """End: the last step (in reveal mode, the end of the backward sweep: everything)."""
    if view.reveal:
        return at_reveal_position(view, steps, 2 * steps - 1)
    return replace(view, step=steps - 1)


def next_view(view: ViewState, steps: int, count: int) -> tuple[ViewState | None, bool]:
    """The view ``count`` steps of playback after ``view`` and whether playback goes on.

    Returns (new view or None when nothing moves, keep playing)."""
    moved = moved_view(view, steps, count)
    if view.reveal:
        return moved, reveal_position(moved, steps) < 2 * steps - 1
    return moved, moved.step < steps - 1


class Player(QObject):
    """Advances ``session.view`` at ``speed`` steps per second while playing."""

    playing_changed = Signal(bool)

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.speed = 20.0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def set_speed(self, steps_per_second: float) -> None:
        self.speed = max(float(steps_per_second), 0.1)
        if self.playing:
            self._timer.start(self._interval())

    def _interval(self) -> int:
        return max(MIN_INTERVAL_MS, round(1000.0 / self.speed))

    def _per_tick(self) -> int:
        return max(1, round(self.speed * self._interval() / 1000.0))

    def toggle(self) -> None:
        self.stop() if self.playing else self.play()

    def play(self) -> None:
        """Start playing; from the end, start over (in reveal mode with the forward pass)."""
        view = self.session.view
        last = self.session.document.sequence.steps - 1
        if view.reveal and view.phase == "backward" and view.step == 0:
            self.session.set_view(step=0, phase="forward")
        elif not view.reveal and view.step >= last:
            self.session.set_view(step=0)
        if self.playing:
            return
        self._timer.start(self._interval())
        self.playing_changed.emit(True)

    def stop(self) -> None:
        if self.playing:
            self._timer.stop()
            self.playing_changed.emit(False)

    def _tick(self) -> None:
        steps = self.session.document.sequence.steps
        view, keep = next_view(self.session.view, steps, self._per_tick())
        if view is not None:
            self.session.set_view(view)
        if not keep:
            self.stop()


class TransportBar(QWidget):
    """|◀ ◀ ▶ ▶ ▶| buttons, "Full range" (``zoom_button``: the window connects it to its zoom
    reset), a step slider and spin box, the speed, and the reveal switch. Bound two-way to
    ``session.view`` (widgets updated under signal blockers)."""

    def __init__(self, session: Session, player: Player, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.player = player
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)

        self._icons: dict[QToolButton, str] = {}
        self._colour: QColor | None = None

        def button(icon: str, tip: str, slot) -> QToolButton:
            b = QToolButton()
            self._icons[b] = icon
            b.setToolTip(tip)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(slot)
            layout.addWidget(b)
            return b

        self.first_button = button("first", "First step (Home)", lambda: self.go(0))
        self.back_button = button("back", "Previous step (←)", lambda: self.move(-1))
        self.play_button = button("play", "Play / pause (Space)", player.toggle)
        self.forward_button = button("forward", "Next step (→)", lambda: self.move(1))
        self.last_button = button("last", "Last step (End)", lambda: self.go(-1))
        self.zoom_button = QToolButton()
        self.zoom_button.setText("Full range")
        self.zoom_button.setToolTip("Reset zoom: every panel shows every step (A, Ctrl+0)")
        self.zoom_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(self.zoom_button)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.setToolTip("Cursor step")
        layout.addWidget(self.slider, 1)
        layout.addWidget(QLabel("Step"))
        self.step_spin = QSpinBox()
        self.step_spin.setKeyboardTracking(False)
        self.step_spin.setToolTip("Type a step and press Enter")
        layout.addWidget(self.step_spin)
        self.steps_label = QLabel()
        layout.addWidget(self.steps_label)
        layout.addSpacing(12)
        layout.addWidget(QLabel("Speed"))
        self.speed_spin = QSpinBox()
        self.speed_spin.setRange(1, 2000)
        self.speed_spin.setSuffix(" steps/s")
        self.speed_spin.setValue(round(player.speed))
        self.speed_spin.setKeyboardTracking(False)
        layout.addWidget(self.speed_spin)
        layout.addSpacing(12)
        self.reveal_check = QCheckBox("Reveal")
        self.reveal_check.setToolTip(
            "Show only what has been computed so far: the forward pass "
            "step by step, then gradients flowing backwards"
        )
        self.reveal_check.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(self.reveal_check)
        self.phase_label = QLabel()
        self.phase_label.setMinimumWidth(120)
        layout.addWidget(self.phase_label)

        self.slider.valueChanged.connect(lambda v: self.session.set_view(step=v))
        self.step_spin.valueChanged.connect(lambda v: self.session.set_view(step=v))
        self.speed_spin.valueChanged.connect(player.set_speed)
        self.reveal_check.toggled.connect(self.set_reveal)
        player.playing_changed.connect(self._playing_changed)
        self.paint_icons()
        self.show_view(session.view)

    def _playing_changed(self, on: bool) -> None:
        self._icons[self.play_button] = "pause" if on else "play"
        self.paint_icons()

    def paint_icons(self, colour: QColor | str | None = None) -> None:
        """Draw the buttons' icons in ``colour`` (the theme's text colour; by default the
        palette's button text colour)."""
        if colour is not None:
            self._colour = QColor(colour)
        shown = self._colour or self.palette().color(QPalette.ColorRole.ButtonText)
        for b, kind in self._icons.items():
            b.setIcon(transport_icon(kind, shown))

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.paint_icons()

    def go(self, step: int) -> None:
        """Jump to ``step`` (0: the first, -1: the last, as Home and End do)."""
        steps = self.session.document.sequence.steps
        view = self.session.view
        if step == 0:
            self.session.set_view(first_view(view, steps))
        elif step == -1:
            self.session.set_view(last_view(view, steps))
        else:
            self.session.set_view(step=step % steps if step < 0 else step)

    def move(self, delta: int) -> None:
        """``delta`` steps on (in reveal mode, along the forward pass and the sweep back)."""
        steps = self.session.document.sequence.steps
        self.session.set_view(moved_view(self.session.view, steps, delta))

    def set_reveal(self, on: bool) -> None:
        self.session.set_view(reveal=on, phase="forward")

    def show_view(self, view: ViewState) -> None:
        """Reflect ``view`` in the widgets without feeding changes back."""
        last = self.session.document.sequence.steps - 1
        with (
            QSignalBlocker(self.slider),
            QSignalBlocker(self.step_spin),
            QSignalBlocker(self.reveal_check),
        ):
            if self.slider.maximum() != last:  # a new range re-lays out the bar
                self.slider.setRange(0, last)
                self.step_spin.setRange(0, last)
            self.slider.setValue(view.step)
            self.step_spin.setValue(view.step)
            self.reveal_check.setChecked(view.reveal)
        self.steps_label.setText(f"/ {last}")
        if view.reveal:
            self.phase_label.setText(
                "forward pass" if view.phase == "forward" else "backward (BPTT)"
            )
        else:
            self.phase_label.setText("")
