"""Input & target: x_t per channel with the target; many channels (one-hot text) as an image.

A bar above the plot chooses what a left-button drag on the plot does (``edit_mode``): "pan"
scrolls the shared time axis; "drag" (the default) moves the sample under the mouse vertically,
and pans when the press is not near a sample, so the time axis stays as easy to scroll as in
"pan"; "draw" paints a freehand stroke over the channel chosen in ``channel_combo``. The mouse
wheel zooms the time axis in every mode. The editing itself is done by whoever listens to
``mode_changed`` (see rnnviz.gui.editing).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QComboBox, QHBoxLayout, QLabel, QToolButton

from rnnviz.gui.panels.base import Panel
from rnnviz.gui.panels.items import ValueAxis
from rnnviz.gui.panels.legend import Entry
from rnnviz.gui.panels.ranges import DISPLAY_LIMIT, finite_or_nan
from rnnviz.gui.panels.tables import heatmap_table, lines_table
from rnnviz.gui.theme import Theme
from rnnviz.session import Document, ModelResults, Sequence, ViewState

MAX_LINES = 8  # more channels than this are drawn as a channels × steps image
TARGET_CHANNEL = -1  # the channel combo's data for the target (as rnnviz.session.edits.TARGET)
EDIT_MODES = (
    ("pan", "Pan", "Dragging scrolls the time axis"),
    ("drag", "Drag", "Drag a sample up or down (elsewhere dragging scrolls the time axis)"),
    ("draw", "Draw", "Paint the chosen channel freehand across steps"),
)


LABEL_PIXELS = 11.0  # the height a channel's name needs on the axis


class ChannelAxis(ValueAxis):
    """The left axis of the input plot. With ``names`` (a one-hot image, one row per channel)
    it names as many rows as fit — every row when each is tall enough, else every k-th —
    otherwise it is an ordinary value axis."""

    def __init__(self, **kwargs) -> None:
        super().__init__("left", **kwargs)
        self.names: tuple[str, ...] | None = None

    def set_names(self, names: tuple[str, ...] | None) -> None:
        if names != self.names:
            self.names = names
            self.picture = None
            self.update()

    def every(self, size: float, low: float, high: float) -> int:
        """Name every k-th row of a view from ``low`` to ``high`` over ``size`` pixels."""
        rows = max(high - low, 1e-9)
        return max(1, int(np.ceil(LABEL_PIXELS / max(size / rows, 1e-9))))

    def tickValues(self, minVal: float, maxVal: float, size: float):  # noqa: N802 (Qt name)
        if not self.names:
            return super().tickValues(minVal, maxVal, size)
        k = self.every(size, minVal, maxVal)
        first = max(0, int(np.ceil(minVal)))
        last = min(len(self.names) - 1, int(np.floor(maxVal)))
        return [(float(k), [float(r) for r in range(first, last + 1) if r % k == 0])]

    def tickStrings(self, values, scale: float, spacing: float):  # noqa: N802 (Qt name)
        if not self.names:
            return super().tickStrings(values, scale, spacing)
        return [self.names[int(round(v))] if 0 <= int(round(v)) < len(self.names) else ""
                for v in values]


def _ink(theme: Theme) -> pg.ColorMap:
    """Background (0) to foreground (1): one-hot inputs read as ink on paper."""
    return pg.ColorMap(pos=[0.0, 1.0], color=[theme.background, theme.foreground])


class EditableViewBox(pg.ViewBox):
    """The input plot's view box: an editor may take over its mouse drags.

    ``drag_handler(event, axis) -> bool`` is offered every drag event first; when it returns
    True the event is the editor's, otherwise the view box pans (or zooms) as usual."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.drag_handler = None

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph's name)
        handler = self.drag_handler
        if handler is not None and handler(ev, axis):
            return
        super().mouseDragEvent(ev, axis=axis)


class InputPanel(Panel):
    """x_t per channel (solid) and the target (dashed); ``input_plot`` is its PlotItem."""

    key = "input"
    mode_changed = Signal(str)
    # pixels the plot's data area needs to name every row of a one-hot image (the window
    # makes room in the layout when it can)
    needs_height = Signal(int)

    def __init__(self, theme: Theme, parent=None) -> None:
        super().__init__(theme, parent)
        self._build_edit_bar()
        self.hold_y = False  # while True the y range stays put (during a drag)
        self._fit_arrays: tuple[np.ndarray, ...] = ()
        self.channel_axis = ChannelAxis()
        self.input_plot = self.add_time_plot(0, viewbox=EditableViewBox(),
                                             left=self.channel_axis)
        self.input_plot.setLabel("left", "x, target")
        self.input_plot.setLabel("bottom", "step")
        self.add_legend(self.input_plot)
        self.input_plot.setMouseEnabled(x=True, y=False)
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setZValue(-10)
        self._image.setColorMap(_ink(theme))
        self._classes = pg.ScatterPlotItem(
            size=5, symbol="s", pen=None, brush=pg.mkBrush(theme.alarm)
        )
        self._structure: tuple = ()
        self._sequence: Sequence | None = None
        self.x_lines: list[pg.PlotDataItem] = []
        self.target_lines: list[pg.PlotDataItem] = []

    def _build_edit_bar(self) -> None:
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 0)
        bar.setSpacing(2)
        bar.addWidget(QLabel("Mouse"))
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[str, QToolButton] = {}
        for mode, text, tip in EDIT_MODES:
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setCheckable(True)
            button.setAutoRaise(True)
            self.mode_group.addButton(button)
            self.mode_buttons[mode] = button
            bar.addWidget(button)
            button.toggled.connect(lambda on, m=mode: on and self.mode_changed.emit(m))
        self.mode_buttons["drag"].setChecked(True)
        bar.addSpacing(8)
        bar.addWidget(QLabel("Draw on"))
        self.channel_combo = QComboBox()
        self.channel_combo.setToolTip("The channel (or the target) that Draw paints")
        self.channel_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        bar.addWidget(self.channel_combo)
        bar.addStretch(1)
        self._layout.insertLayout(0, bar)

    @property
    def edit_mode(self) -> str:
        """What a left-button drag does: "pan", "drag" or "draw"."""
        for mode, button in self.mode_buttons.items():
            if button.isChecked():
                return mode
        return "pan"

    def set_edit_mode(self, mode: str) -> None:
        self.mode_buttons[mode].setChecked(True)

    @property
    def draw_channel(self) -> int | None:
        """The channel Draw paints (TARGET_CHANNEL for the target), None if there is none."""
        data = self.channel_combo.currentData()
        return None if data is None else int(data)

    def _fill_channels(self, names: tuple[str, ...], has_target: bool) -> None:
        keep = self.channel_combo.currentData()
        self.channel_combo.blockSignals(True)
        self.channel_combo.clear()
        for k, name in enumerate(names):
            self.channel_combo.addItem(name, k)
        if has_target:
            self.channel_combo.addItem("target", TARGET_CHANNEL)
        index = self.channel_combo.findData(keep)
        self.channel_combo.setCurrentIndex(max(index, 0))
        self.channel_combo.blockSignals(False)

    def set_hold_y(self, hold: bool) -> None:
        """Keep the y range as it is (True) or fit it to the data again (False)."""
        self.hold_y = hold
        if not hold and self._fit_arrays:
            self.fit_y(self.input_plot, *self._fit_arrays)

    def _rebuild(self, names: tuple[str, ...], target_cols: int, image: bool) -> None:
        plot = self.input_plot
        self.remove_lines(plot, self.x_lines + self.target_lines)
        self.x_lines, self.target_lines = [], []
        if self._image.scene() is not None:
            plot.removeItem(self._image)
            plot.removeItem(self._classes)
        header = self.header(plot)
        if image:
            plot.addItem(self._image)
            plot.addItem(self._classes)
            self.channel_axis.set_names(names)  # as many rows named as fit
            self.needs_height.emit(round(len(names) * LABEL_PIXELS))
            plot.setLabel("left", "channel")
            plot.setYRange(-0.5, len(names) - 0.5, padding=0)
            plot.enableAutoRange(y=False)
            header.set_title("")
            self._image_entries(target_cols > 0)
        else:
            self.channel_axis.set_names(None)
            header.extra = []
            plot.setLabel("left", "x, target")
            for k, name in enumerate(names):
                self.x_lines.append(self.add_line(plot, name, k))
            for k in range(target_cols):
                label = "target" if target_cols == 1 else f"target {k}"
                self.target_lines.append(self.add_line(plot, label, -1, dashed=True))
            self._yranges.pop(id(plot), None)

    def show_document(self, document: Document, view: ViewState) -> None:
        """Draw the document's sequence at once, before any results are computed, so the
        curve follows the mouse during an edit however long the computation takes."""
        self.show_sequence(document.sequence)

    def show_results(self, results: ModelResults, view: ViewState) -> None:
        self.results = results
        self.show_sequence(results.sequence)

    def _image_entries(self, has_target: bool) -> None:
        """What the one-hot image's marks mean, in the legend."""
        entries = [Entry("character read (one-hot)", self.theme.foreground, "block")]
        if has_target:
            entries.append(Entry("target: the next character", self.theme.alarm, "block"))
        self.header(self.input_plot).extra = entries
        self.fit_legend(self.input_plot)

    def show_sequence(self, seq: Sequence) -> None:
        """Draw ``seq``'s inputs and targets (nothing to do when it is what is drawn). Values
        beyond ±DISPLAY_LIMIT are not drawn (Qt cannot paint them), and the header says so."""
        if seq is self._sequence:
            return
        self._sequence = seq
        image = seq.channels > MAX_LINES
        targets = seq.masked_targets
        target_cols = 0 if targets is None else targets.shape[1]
        structure = (seq.channel_names, target_cols, image)
        if structure != self._structure:
            self._structure = structure
            self._rebuild(seq.channel_names, target_cols, image)
            self._fill_channels(seq.channel_names, target_cols > 0)
            self.fit_legend(self.input_plot)
        steps = np.arange(seq.steps, dtype=np.float64)
        inputs = finite_or_nan(seq.inputs)
        shown_targets = None if targets is None else finite_or_nan(targets)
        hidden = inputs is not seq.inputs or (
            shown_targets is not None
            and np.count_nonzero(np.isfinite(shown_targets)) < np.count_nonzero(
                np.isfinite(targets)))
        self.set_status(self.input_plot,
                        f"values beyond ±{DISPLAY_LIMIT:.0e} are not drawn" if hidden else "")
        if image:
            data = seq.inputs.T
            shown = inputs.T
            with np.errstate(invalid="ignore"):
                finite = shown[np.isfinite(shown)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            self._image.setImage(shown, autoLevels=False, levels=(lo, hi if hi > lo else lo + 1))
            self._image.setRect(-0.5, -0.5, seq.steps, seq.channels)
            self._tables = {"input": partial(heatmap_table, data, row_name="channel")}
            if targets is not None:
                cls = targets[:, 0]
                keep = np.isfinite(cls)
                if keep.any():
                    self._classes.setData(steps[keep], cls[keep])
                else:
                    self._classes.clear()
                self._tables["target"] = partial(lines_table, {"target": cls})
            return
        columns: dict[str, np.ndarray] = {}
        drawn: list[np.ndarray] = []
        for k, item in enumerate(self.x_lines):
            self.set_line(item, steps, inputs[:, k])
            columns[seq.channel_names[k]] = seq.inputs[:, k]
            drawn.append(inputs[:, k])
        for k, item in enumerate(self.target_lines):
            self.set_line(item, steps, shown_targets[:, k])
            columns["target" if target_cols == 1 else f"target {k}"] = targets[:, k]
            drawn.append(shown_targets[:, k])
        self._fit_arrays = tuple(drawn)
        if not self.hold_y:
            self.fit_y(self.input_plot, *self._fit_arrays)
        self._tables = {"input": partial(lines_table, columns)}

    def reset_zoom(self) -> None:
        super().reset_zoom()
        # drawn again at the next redraw, its y range fitted (or, for an image, every row shown)
        self._sequence = None
        self._structure = ()

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self._image.setColorMap(_ink(theme))
        self._classes.setBrush(pg.mkBrush(theme.alarm))
        if self._structure and self._structure[2]:
            self._image_entries(self._structure[1] > 0)
