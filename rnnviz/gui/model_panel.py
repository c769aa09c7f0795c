"""The Model panel: cell type, sizes, initialisation, recurrent scale, readout and loss.

It shows the selected model (the session's ``view.model``). Every change builds a new document
(``with_config`` of that model, ``with_task``) and hands it to the session, which recomputes at
once. Invalid combinations become a one-line message.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnnviz.engine import EngineError
from rnnviz.engine.config import MAX_HIDDEN, MAX_LAYERS
from rnnviz.gui.undo import Editor
from rnnviz.session import Document, Model, Session, SessionError, Task

CELLS = (("RNN (tanh)", "rnn_tanh"), ("RNN (ReLU)", "rnn_relu"), ("LSTM", "lstm"), ("GRU", "gru"))
INITS = (("default (uniform ±1/√H)", "default"), ("Xavier", "xavier"), ("orthogonal", "orthogonal"))
READOUTS = ("identity", "tanh", "sigmoid", "softmax")
LOSSES = (("mean squared error", "mse"), ("cross-entropy", "ce"), ("none (Σ h_T)", "none"))
WHERES = (("every step", "all"), ("last step only", "last"))
SLIDER_MAX = 3.0  # the slider covers 0..3; the spin box goes further
SLIDER_STEPS = 300
OFF = "off"  # what a setting's number box shows while its check box is off
SCALE_RANGE = (0.0, 1000.0)
FORGET_RANGE = (-100.0, 100.0)
DEFAULT_SCALE = 1.0
DEFAULT_FORGET = 3.0  # f_t ≈ σ(3) ≈ 0.95: lets an untrained LSTM remember, and still learn
FORGET_TIP = ("The forget gate's bias b_f. At the start f_t ≈ σ(b_f): the initialiser's small "
              "biases give f_t ≈ 0.5, so an untrained LSTM forgets within a few steps and its "
              "gradients vanish; b_f ≈ 3 gives f_t ≈ 0.95, so c_t and its gradients last "
              "(Gers et al. 2000, Jozefowicz et al. 2015). Much larger, c_t piles up the input "
              "of every step and saturates, and training slows down.")


def forget_note(config) -> str:
    """What the forget bias does for this LSTM, in one or two lines (empty for other cells)."""
    if config.cell != "lstm":
        return ""
    bias = config.forget_bias
    if bias is None or bias < 2.0:
        shown = "off" if bias is None else f"{bias:g}"
        return (f"Forget bias {shown}: f_t starts near {_sigmoid(bias or 0.0):.2f}, so this "
                "LSTM forgets within a few steps and gradients from far steps vanish. Set it "
                "near 3 (f_t ≈ 0.95) to see it remember.")
    return (f"Forget bias {bias:g}: f_t starts near {_sigmoid(bias):.2f}, so c_t — and the "
            "gradient through it — lasts many steps.")


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _show_setting(spin: QDoubleSpinBox, limits: tuple[float, float], value: float | None,
                  step: float) -> None:
    """Show ``value`` in ``spin``, or "off" (no stale number from an earlier document) when
    the setting is not used: one step below the range, shown as its special text."""
    low, high = limits
    if value is None:
        spin.setRange(low - step, high)
        spin.setSpecialValueText(OFF)
        spin.setValue(low - step)
    else:
        spin.setSpecialValueText("")
        spin.setRange(low, high)
        spin.setValue(value)


def _setting_value(spin: QDoubleSpinBox, limits: tuple[float, float]) -> float | None:
    return None if spin.value() < limits[0] else spin.value()


def _combo(items) -> QComboBox:
    combo = QComboBox()
    for item in items:
        label, value = item if isinstance(item, tuple) else (item, item)
        combo.addItem(label, value)
    return combo


def _select(combo: QComboBox, value: object) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)


class ModelPanel(QWidget):
    """Edits the network configuration and task of ``session``'s document.

    ``message`` carries one-line complaints (shown in the status bar)."""

    message = Signal(str)

    def __init__(self, session: Session, editor: Editor | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.editor = editor
        self._shown: tuple = ()
        self._displayed: dict[str, object] = {}
        self.cell = _combo(CELLS)
        self.hidden = QSpinBox()
        self.hidden.setRange(1, MAX_HIDDEN)
        self.layers = QSpinBox()
        self.layers.setRange(1, MAX_LAYERS)
        self.init = _combo(INITS)
        self.scale_on = QCheckBox("spectral radius")
        self.scale_on.setToolTip("Rescale every W_hh so its spectral radius is this value")
        self.scale = QDoubleSpinBox()
        self.scale.setRange(*SCALE_RANGE)
        self.scale.setDecimals(2)
        self.scale.setSingleStep(0.05)
        self.scale.setValue(DEFAULT_SCALE)
        self.scale_slider = QSlider(Qt.Orientation.Horizontal)
        self.scale_slider.setRange(1, SLIDER_STEPS)
        self.scale_slider.setToolTip("Slide to watch gradients vanish (< 1) or explode (> 1)")
        self.forget_on = QCheckBox("forget bias")
        self.forget_on.setToolTip(FORGET_TIP)
        self.forget = QDoubleSpinBox()
        self.forget.setRange(*FORGET_RANGE)
        self.forget.setSingleStep(0.5)
        self.forget.setValue(DEFAULT_FORGET)
        self.forget.setToolTip(FORGET_TIP)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.readout = _combo(READOUTS)
        self.loss = _combo(LOSSES)
        self.where = _combo(WHERES)
        for spin in (self.hidden, self.layers, self.scale, self.forget, self.seed):
            spin.setKeyboardTracking(False)
            spin.setAccelerated(True)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Cell", self.cell)
        form.addRow("Hidden size", self.hidden)
        form.addRow("Layers", self.layers)
        form.addRow("Initialiser", self.init)
        scale_row = QHBoxLayout()
        scale_row.addWidget(self.scale_on)
        scale_row.addWidget(self.scale, 1)
        form.addRow("W_hh scale", scale_row)
        form.addRow("", self.scale_slider)
        forget_row = QHBoxLayout()
        forget_row.addWidget(self.forget_on)
        forget_row.addWidget(self.forget, 1)
        form.addRow("LSTM", forget_row)
        self.forget_note = QLabel()
        self.forget_note.setWordWrap(True)
        self.forget_note.setToolTip(FORGET_TIP)
        self.forget_note.setStyleSheet("color: palette(placeholder-text);")
        form.addRow("", self.forget_note)
        form.addRow("Seed", self.seed)
        form.addRow("Readout", self.readout)
        form.addRow("Loss", self.loss)
        form.addRow("Loss over", self.where)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addLayout(form)
        outer.addWidget(self.summary)
        outer.addStretch(1)

        for combo in (self.cell, self.init, self.readout, self.loss, self.where):
            combo.currentIndexChanged.connect(lambda _=0: self.apply())
        # A run of spin-box steps of one setting is one undo step.
        for name, spin in (("hidden", self.hidden), ("layers", self.layers), ("seed", self.seed),
                           ("forget", self.forget)):
            spin.valueChanged.connect(lambda _=0, n=name: self.apply(merge=n))
        self.scale.valueChanged.connect(self._scale_spin_changed)
        self.scale_slider.valueChanged.connect(self._scale_slider_changed)
        self.scale_slider.sliderReleased.connect(self._seal)
        self.scale_on.toggled.connect(lambda on: self._switched(self.scale, SCALE_RANGE,
                                                                DEFAULT_SCALE, on))
        self.forget_on.toggled.connect(lambda on: self._switched(self.forget, FORGET_RANGE,
                                                                 DEFAULT_FORGET, on))
        self.show_document(session.document)

    # ---- document -> widgets ---------------------------------------------------------------
    def show_document(self, doc: Document) -> None:
        """Show the settings of ``doc``'s selected model without triggering edits."""
        index = min(self.session.view.model, len(doc.models) - 1)
        model = doc.models[index]
        cfg, task = model.config, doc.task
        shown = (index, cfg, task, doc.sequence.steps, doc.sequence.targets is None,
                 model.weights is None)
        if shown == self._shown:
            return  # e.g. an edit of input values: nothing here changes
        self._shown = shown
        widgets = (
            self.cell,
            self.hidden,
            self.layers,
            self.init,
            self.scale_on,
            self.scale,
            self.scale_slider,
            self.forget_on,
            self.forget,
            self.seed,
            self.readout,
            self.loss,
            self.where,
        )
        blockers = [QSignalBlocker(w) for w in widgets]
        try:
            _select(self.cell, cfg.cell)
            self.hidden.setValue(cfg.hidden_size)
            self.layers.setValue(cfg.num_layers)
            _select(self.init, cfg.init)
            self.scale_on.setChecked(cfg.recurrent_scale is not None)
            _show_setting(self.scale, SCALE_RANGE, cfg.recurrent_scale,
                          self.scale.singleStep())
            self.scale_slider.setValue(self._slider_pos(cfg.recurrent_scale or DEFAULT_SCALE))
            lstm_bias = cfg.forget_bias if cfg.cell == "lstm" else None
            self.forget_on.setChecked(lstm_bias is not None)
            _show_setting(self.forget, FORGET_RANGE, lstm_bias, self.forget.singleStep())
            self.seed.setValue(min(cfg.seed, self.seed.maximum()))
            _select(self.readout, cfg.readout)
            _select(self.loss, task.loss)
            _select(self.where, task.where)
        finally:
            for blocker in blockers:
                blocker.unblock()
        self._displayed = self._widget_settings()
        self._enable(doc, model)

    def _widget_settings(self) -> dict[str, object]:
        """The network settings as the widgets show them."""
        lstm = self.cell.currentData() == "lstm"
        return {
            "cell": self.cell.currentData(),
            "hidden_size": self.hidden.value(),
            "num_layers": self.layers.value(),
            "init": self.init.currentData(),
            "recurrent_scale": (_setting_value(self.scale, SCALE_RANGE)
                                if self.scale_on.isChecked() else None),
            "forget_bias": (_setting_value(self.forget, FORGET_RANGE)
                            if self.forget_on.isChecked() and lstm else None),
            "seed": self.seed.value(),
            "readout": self.readout.currentData(),
        }

    def _enable(self, doc: Document, model: Model) -> None:
        lstm = model.config.cell == "lstm"
        self.forget_on.setEnabled(lstm)
        self.forget.setEnabled(lstm and self.forget_on.isChecked())
        self.scale.setEnabled(self.scale_on.isChecked())
        self.scale_slider.setEnabled(self.scale_on.isChecked())
        has_targets = doc.sequence.targets is not None
        for k in range(self.loss.count()):
            item = self.loss.model().item(k)
            item.setEnabled(has_targets or self.loss.itemData(k) == "none")
        self.readout.setEnabled(model.config.output_size is not None)
        note = forget_note(model.config)
        self.forget_note.setText(note)
        self.forget_note.setVisible(bool(note))
        self._fit_height()
        self.where.setEnabled(doc.task.loss != "none")
        cfg = model.config
        out = "no readout" if cfg.output_size is None else f"readout → {cfg.output_size}"
        weights = "trained weights" if model.weights is not None else f"seed {cfg.seed}"
        self.summary.setText(
            f"{doc.sequence.steps} steps × {cfg.input_size} inputs → "
            f"{cfg.num_layers} × {cfg.hidden_size} {cfg.cell}, {out}; {weights}"
        )

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        """Ask for the height the panel needs at its width. A dock gives its widget no less
        than its minimum size, and a wrapped label's minimum is one line whatever its width:
        the forget-bias note got one line of its four."""
        need = self.layout().totalHeightForWidth(self.width())
        if need > 0 and need != self.minimumHeight():
            self.setMinimumHeight(need)

    @staticmethod
    def _slider_pos(value: float) -> int:
        return max(1, min(SLIDER_STEPS, round(value / SLIDER_MAX * SLIDER_STEPS)))

    # ---- widgets -> document ---------------------------------------------------------------
    def _switched(self, spin: QDoubleSpinBox, limits: tuple[float, float], default: float,
                  on: bool) -> None:
        """A setting's check box: on shows (and applies) a sensible value, off shows "off"."""
        with QSignalBlocker(spin):
            _show_setting(spin, limits, default if on else None, spin.singleStep())
        if spin is self.scale:
            with QSignalBlocker(self.scale_slider):
                self.scale_slider.setValue(self._slider_pos(default))
        self.apply()

    def _scale_slider_changed(self, pos: int) -> None:
        with QSignalBlocker(self.scale):
            if not self.scale_on.isChecked():
                return
            self.scale.setValue(pos * SLIDER_MAX / SLIDER_STEPS)
        self.apply(merge="scale")

    def _scale_spin_changed(self, value: float) -> None:
        with QSignalBlocker(self.scale_slider):
            self.scale_slider.setValue(self._slider_pos(value))
        self.apply(merge="scale")

    def _seal(self) -> None:
        if self.editor is not None:
            self.editor.seal()

    def build_document(self) -> Document:
        """The session's document with the settings shown; raises EngineError/SessionError."""
        doc = self.session.document
        index = self.session.view.model
        config = doc.model(index).config
        # Only what the user changed is taken from the widgets: a setting they cannot show
        # exactly (a seed beyond their range, a scale with more decimals) stays as it is.
        shown = self._displayed
        changes = {k: v for k, v in self._widget_settings().items()
                   if k not in shown or shown[k] != v}
        cfg = config.replace(**changes) if changes else config
        task = Task(self.loss.currentData(), self.where.currentData())
        new = doc.with_config(index, cfg)
        if task != doc.task:
            new = new.with_task(task)
        return new

    def apply(self, merge: str | None = None) -> None:
        """Send the shown settings to the session as an undoable edit (a one-line message if
        they do not fit). Edits with the same ``merge`` key in a row are one undo step."""
        try:
            doc = self.build_document()
        except (EngineError, SessionError, ValueError) as exc:
            self.message.emit(str(exc))
            self._shown = ()
            self.show_document(self.session.document)
            return
        if self.editor is not None:
            # Slider drags and spin-box runs of one setting merge into one undo step.
            key = None if merge is None else f"model:{merge}"
            self.editor.apply(doc, "Change model settings", merge_key=key)
            if merge is None:
                self.editor.seal()
        else:
            self.session.set_document(doc)
        doc = self.session.document
        self._enable(doc, doc.model(self.session.view.model))
