"""The Model panel: cell type, sizes, initialisation, recurrent scale, readout and loss.

It shows the selected model (the session's ``view.model``). Every change builds a new document
(``with_config`` of that model, ``with_task``) and hands it to the session, which recomputes at
once. Invalid combinations become a one-line message.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
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
        self.scale.setRange(0.0, 1000.0)
        self.scale.setDecimals(2)
        self.scale.setSingleStep(0.05)
        self.scale.setValue(1.0)
        self.scale_slider = QSlider(Qt.Orientation.Horizontal)
        self.scale_slider.setRange(1, SLIDER_STEPS)
        self.scale_slider.setToolTip("Slide to watch gradients vanish (< 1) or explode (> 1)")
        self.forget_on = QCheckBox("forget bias")
        self.forget = QDoubleSpinBox()
        self.forget.setRange(-100.0, 100.0)
        self.forget.setSingleStep(0.5)
        self.forget.setValue(1.0)
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
        self.scale_on.toggled.connect(lambda _=False: self.apply())
        self.forget_on.toggled.connect(lambda _=False: self.apply())
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
            if cfg.recurrent_scale is not None:
                self.scale.setValue(cfg.recurrent_scale)
            self.scale_slider.setValue(self._slider_pos(self.scale.value()))
            self.forget_on.setChecked(cfg.forget_bias is not None)
            if cfg.forget_bias is not None:
                self.forget.setValue(cfg.forget_bias)
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
            "recurrent_scale": self.scale.value() if self.scale_on.isChecked() else None,
            "forget_bias": self.forget.value() if self.forget_on.isChecked() and lstm else None,
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
        self.where.setEnabled(doc.task.loss != "none")
        cfg = model.config
        out = "no readout" if cfg.output_size is None else f"readout → {cfg.output_size}"
        weights = "trained weights" if model.weights is not None else f"seed {cfg.seed}"
        self.summary.setText(
            f"{doc.sequence.steps} steps × {cfg.input_size} inputs → "
            f"{cfg.num_layers} × {cfg.hidden_size} {cfg.cell}, {out}; {weights}"
        )

    @staticmethod
    def _slider_pos(value: float) -> int:
        return max(1, min(SLIDER_STEPS, round(value / SLIDER_MAX * SLIDER_STEPS)))

    # ---- widgets -> document ---------------------------------------------------------------
    def _scale_slider_changed(self, pos: int) -> None:
        with QSignalBlocker(self.scale):
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
