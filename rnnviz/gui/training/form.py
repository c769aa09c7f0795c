"""The Training dock: what to train on and how, the buttons, the run's status, one row per model
and the timeline of weight snapshots. A view: it holds no state of its own beyond its fields,
and the training controller (:mod:`rnnviz.gui.training.controller`) does everything."""

from __future__ import annotations

import math

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from rnnviz.session.training import NEXT_STEP, TaskChoice
from rnnviz.tasks import TASKS, OptionSpec, TrainingDefaults
from rnnviz.train import FIT, OPTIMIZER_TITLES, OPTIMIZERS, TrainSettings
from rnnviz.train.settings import MAX_BATCH, MAX_UPDATES

MAX_LENGTH = 100_000
SPIN_MAX = 2**31 - 1
FIT_TITLE = "Fit this sequence"
NEXT_STEP_TITLE = "Next-step prediction of this sequence"
MODEL_COLUMNS = ("Model", "Parameters", "Updates/s", "Test loss", "Success")


class RateSpinBox(QDoubleSpinBox):
    """A positive number shown as Python's %g (0.01, 3e-05); the arrows step through
    1, 2, 5 × powers of ten."""

    LADDER = (1.0, 2.0, 5.0)

    def __init__(self, minimum: float = 1e-6, maximum: float = 100.0) -> None:
        super().__init__()
        self.setDecimals(12)
        self.setRange(minimum, maximum)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt name)
        return f"{value:g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt name)
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        from PySide6.QtGui import QValidator

        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            ok = stripped in ("", "-", ".") or stripped.lower().endswith(("e", "e-", "e+"))
            return (QValidator.State.Intermediate if ok else QValidator.State.Invalid, text, pos)
        inside = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if inside else QValidator.State.Intermediate,
                text, pos)

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt name)
        value = self.value()
        exponent = math.floor(math.log10(value))
        mantissa = value / 10**exponent
        index = min(range(3), key=lambda k: abs(self.LADDER[k] - mantissa))
        position = exponent * 3 + index + steps
        self.setValue(self.LADDER[position % 3] * 10 ** (position // 3))


def _option_widget(spec: OptionSpec) -> QWidget:
    if spec.kind is bool:
        w = QCheckBox()
        w.setChecked(bool(spec.default))
    elif spec.kind is str:
        w = QComboBox()
        for choice in spec.choices:
            w.addItem(choice, choice)
        w.setCurrentIndex(max(0, w.findData(spec.default)))
    elif spec.kind is int:
        w = QSpinBox()
        w.setRange(int(spec.minimum), int(min(spec.maximum, SPIN_MAX)))
        w.setValue(int(spec.default))
    else:
        w = QDoubleSpinBox()
        w.setDecimals(4)
        w.setRange(float(spec.minimum), float(spec.maximum))
        w.setSingleStep(max((float(spec.maximum) - float(spec.minimum)) / 100, 1e-4))
        w.setValue(float(spec.default))
    w.setToolTip(spec.help)
    return w


def _option_value(spec: OptionSpec, w: QWidget):
    if spec.kind is bool:
        return w.isChecked()
    if spec.kind is str:
        return w.currentData()
    return w.value()


def _set_option(spec: OptionSpec, w: QWidget, value) -> None:
    with QSignalBlocker(w):
        if spec.kind is bool:
            w.setChecked(bool(value))
        elif spec.kind is str:
            w.setCurrentIndex(max(0, w.findData(value)))
        else:
            w.setValue(value)


class TrainingForm(QWidget):
    """The dock's widgets. Signals: ``task_changed`` (the task or its length), ``train``,
    ``pause``, ``step``, ``reset``, ``example`` (make the sequence an example of the task),
    ``timeline_moved(index)``, ``use_snapshot``, ``back_to_current``."""

    task_changed = Signal()
    length_changed = Signal()
    train = Signal()
    pause = Signal()
    step = Signal()
    reset = Signal()
    example = Signal()
    timeline_moved = Signal(int)
    use_snapshot = Signal()
    back_to_current = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)

        # ---- what to train on
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.task_combo = QComboBox()
        self.task_combo.addItem(FIT_TITLE, FIT)
        self.task_combo.addItem(NEXT_STEP_TITLE, NEXT_STEP)
        for spec in TASKS.values():
            if spec.needs == "none" or spec.needs == "text":
                self.task_combo.addItem(spec.title, spec.name)
        self.task_combo.setToolTip("What the models learn: a long-memory task of the "
                                   "literature, or the document's own sequence")
        form.addRow("Task", self.task_combo)
        for combo in (self.task_combo,):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: gray;")
        form.addRow(self.summary)
        self.length_spin = QSpinBox()
        self.length_spin.setRange(1, MAX_LENGTH)
        self.length_spin.setKeyboardTracking(False)
        self.length_label = QLabel("Length T")
        form.addRow(self.length_label, self.length_spin)
        self.options_form = QFormLayout()
        form.addRow(self.options_form)
        self.example_button = QPushButton("Use an example")
        self.example_button.setToolTip("Replace the document's sequence with an example of "
                                       "the task (undoable), so the dashboard shows the "
                                       "network on what it learns")
        form.addRow(self.example_button)
        layout.addLayout(form)

        # ---- how
        how = QFormLayout()
        how.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.optimizer_combo = QComboBox()
        for name in OPTIMIZERS:
            self.optimizer_combo.addItem(OPTIMIZER_TITLES[name], name)
        self.optimizer_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.optimizer_combo.setMinimumContentsLength(8)
        how.addRow("Optimiser", self.optimizer_combo)
        self.lr_spin = RateSpinBox()
        how.addRow("Learning rate", self.lr_spin)
        self.momentum_spin = QDoubleSpinBox()
        self.momentum_spin.setRange(0.0, 0.999)
        self.momentum_spin.setDecimals(3)
        self.momentum_spin.setSingleStep(0.05)
        self.momentum_label = QLabel("Momentum")
        how.addRow(self.momentum_label, self.momentum_spin)
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, MAX_BATCH)
        how.addRow("Batch size", self.batch_spin)
        clip_row = QHBoxLayout()
        self.clip_check = QCheckBox("max norm")
        self.clip_spin = RateSpinBox(1e-6, 1e6)
        clip_row.addWidget(self.clip_check)
        clip_row.addWidget(self.clip_spin, 1)
        how.addRow("Clipping", clip_row)
        self.updates_spin = QSpinBox()
        self.updates_spin.setRange(1, MAX_UPDATES)
        self.updates_spin.setSingleStep(100)
        self.updates_spin.setToolTip("The update count the run trains to")
        how.addRow("Updates", self.updates_spin)
        self.eval_spin = QSpinBox()
        self.eval_spin.setRange(1, MAX_UPDATES)
        self.eval_spin.setToolTip("Updates between evaluations on the test set (and weight "
                                  "snapshots for the timeline)")
        how.addRow("Evaluate every", self.eval_spin)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, SPIN_MAX)
        self.seed_spin.setToolTip("The seed of the batches' random stream")
        how.addRow("Seed", self.seed_spin)
        self.together_check = QCheckBox("Train all models together")
        self.together_check.setToolTip("The same batches, optimiser and budget for every "
                                       "model: a fair race")
        how.addRow(self.together_check)
        layout.addLayout(how)

        # ---- buttons and status
        buttons = QGridLayout()
        self.train_button = QPushButton("Train")
        self.pause_button = QPushButton("Pause")
        self.step_button = QPushButton("Step")
        self.reset_button = QPushButton("Reset")
        self.train_button.setToolTip("Train (Ctrl+Return); continues a paused or saved run "
                                     "exactly")
        self.pause_button.setToolTip("Stop after the update under way (Ctrl+.)")
        self.step_button.setToolTip("One update (Ctrl+Shift+Return)")
        self.reset_button.setToolTip("Back to the weights before training (undoable)")
        for k, b in enumerate((self.train_button, self.pause_button, self.step_button,
                               self.reset_button)):
            buttons.addWidget(b, k // 2, k % 2)
        layout.addLayout(buttons)
        self.status_label = QLabel("Not trained yet")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status_label)
        self.models_table = QTableWidget(0, len(MODEL_COLUMNS))
        self.models_table.setHorizontalHeaderLabels(MODEL_COLUMNS)
        self.models_table.verticalHeader().hide()
        self.models_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.models_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.models_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.models_table.horizontalHeader().setStretchLastSection(True)
        self.models_table.setMaximumHeight(130)
        # the table scrolls sideways itself rather than widening the dock
        self.models_table.setSizePolicy(QSizePolicy.Policy.Ignored,
                                        QSizePolicy.Policy.Preferred)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                        QSizePolicy.Policy.Preferred)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.models_table)

        # ---- timeline
        self.timeline_label = QLabel("Timeline: no snapshots yet")
        self.timeline_label.setWordWrap(True)
        self.timeline_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                          QSizePolicy.Policy.Preferred)
        layout.addWidget(self.timeline_label)
        self.timeline = QSlider(Qt.Orientation.Horizontal)
        self.timeline.setRange(0, 0)
        self.timeline.setPageStep(1)
        self.timeline.setToolTip("Scrub through the weight snapshots: every panel shows the "
                                 "network as it was then")
        layout.addWidget(self.timeline)
        row = QHBoxLayout()
        self.use_button = QPushButton("Use these weights")
        self.back_button = QPushButton("Back to current")
        row.addWidget(self.use_button)
        row.addWidget(self.back_button)
        layout.addLayout(row)
        layout.addStretch(1)

        self._option_specs: tuple[OptionSpec, ...] = ()
        self.option_widgets: dict[str, QWidget] = {}
        self.task_combo.currentIndexChanged.connect(self._task_picked)
        self.length_spin.valueChanged.connect(lambda _v: self.length_changed.emit())
        self.optimizer_combo.currentIndexChanged.connect(lambda _i: self._show_momentum())
        self.clip_check.toggled.connect(self.clip_spin.setEnabled)
        self.train_button.clicked.connect(self.train)
        self.pause_button.clicked.connect(self.pause)
        self.step_button.clicked.connect(self.step)
        self.reset_button.clicked.connect(self.reset)
        self.example_button.clicked.connect(self.example)
        self.timeline.valueChanged.connect(self.timeline_moved)
        self.use_button.clicked.connect(self.use_snapshot)
        self.back_button.clicked.connect(self.back_to_current)
        self._build_options(FIT)
        self.set_settings(TrainSettings())
        self._show_momentum()

    # ---- the task ------------------------------------------------------------------------
    @property
    def task_name(self) -> str:
        return self.task_combo.currentData()

    def _task_picked(self, _index: int) -> None:
        self._build_options(self.task_name)
        self.task_changed.emit()

    def _build_options(self, name: str) -> None:
        while self.options_form.rowCount():
            self.options_form.removeRow(0)
        self.option_widgets = {}
        spec = TASKS.get(name)
        self._option_specs = spec.options if spec is not None else ()
        for option in self._option_specs:
            w = _option_widget(option)
            self.option_widgets[option.name] = w
            self.options_form.addRow(option.name.replace("_", " ").capitalize(), w)
        fit = name == FIT
        self.length_spin.setVisible(not fit)
        self.length_label.setVisible(not fit)
        self.example_button.setVisible(not fit)
        if spec is not None:
            with QSignalBlocker(self.length_spin):
                self.length_spin.setRange(spec.min_length, min(spec.max_length, MAX_LENGTH))
                self.length_spin.setValue(spec.default_length)
            self.length_label.setText("Window T" if spec.needs != "none" else "Length T")
            self.length_spin.setToolTip(spec.length_help)
            self.summary.setText(spec.summary + ".")
        else:
            self.summary.setText("The document's own input → target, as it is.")

    def choice(self) -> TaskChoice:
        """The task as chosen (options as shown)."""
        name = self.task_name
        if name == FIT:
            return TaskChoice(FIT)
        options = {o.name: _option_value(o, self.option_widgets[o.name])
                   for o in self._option_specs}
        return TaskChoice(name, self.length_spin.value(), options)

    def set_choice(self, choice: TaskChoice) -> None:
        with QSignalBlocker(self.task_combo):
            self.task_combo.setCurrentIndex(max(0, self.task_combo.findData(choice.name)))
        self._build_options(self.task_name)
        if choice.length is not None:
            with QSignalBlocker(self.length_spin):
                self.length_spin.setValue(int(choice.length))
        for o in self._option_specs:
            if o.name in choice.options:
                _set_option(o, self.option_widgets[o.name], choice.options[o.name])

    def set_length(self, length: int) -> None:
        with QSignalBlocker(self.length_spin):
            self.length_spin.setValue(int(length))

    # ---- the settings --------------------------------------------------------------------
    def _show_momentum(self) -> None:
        sgd = self.optimizer_combo.currentData() == "sgd"
        self.momentum_spin.setVisible(sgd)
        self.momentum_label.setVisible(sgd)

    def settings(self) -> TrainSettings:
        """The settings as shown (TrainError for a value out of range)."""
        return TrainSettings(
            optimizer=self.optimizer_combo.currentData(), learning_rate=self.lr_spin.value(),
            momentum=self.momentum_spin.value(), batch_size=self.batch_spin.value(),
            clip_norm=self.clip_spin.value() if self.clip_check.isChecked() else None,
            updates=self.updates_spin.value(), eval_every=self.eval_spin.value(),
            seed=self.seed_spin.value(), max_snapshots=self._max_snapshots)

    def set_settings(self, s: TrainSettings) -> None:
        self._max_snapshots = s.max_snapshots
        self.optimizer_combo.setCurrentIndex(max(0, self.optimizer_combo.findData(s.optimizer)))
        self.lr_spin.setValue(s.learning_rate)
        self.momentum_spin.setValue(s.momentum)
        self.batch_spin.setValue(s.batch_size)
        self.clip_check.setChecked(s.clip_norm is not None)
        self.clip_spin.setEnabled(s.clip_norm is not None)
        if s.clip_norm is not None:
            self.clip_spin.setValue(s.clip_norm)
        self.updates_spin.setValue(s.updates)
        self.eval_spin.setValue(s.eval_every)
        self.seed_spin.setValue(min(s.seed, SPIN_MAX))
        self._show_momentum()

    def apply_defaults(self, defaults: TrainingDefaults, only_updates: bool = False) -> None:
        """Fill in what a task suggests (:attr:`rnnviz.tasks.Task.training`)."""
        if only_updates:
            self.updates_spin.setValue(defaults.updates)
            return
        current = self.settings()
        self.set_settings(TrainSettings.from_defaults(defaults, seed=current.seed,
                                                      momentum=current.momentum,
                                                      max_snapshots=current.max_snapshots))

    # ---- the run -------------------------------------------------------------------------
    def set_running(self, running: bool, trained: bool) -> None:
        """Which buttons and fields can be used while a run goes on (or not)."""
        for w in (self.task_combo, self.length_spin, self.example_button, self.optimizer_combo,
                  self.lr_spin, self.momentum_spin, self.batch_spin, self.clip_check,
                  self.clip_spin, self.updates_spin, self.eval_spin, self.seed_spin,
                  self.together_check, *self.option_widgets.values()):
            w.setEnabled(not running)
        if not running:
            self.clip_spin.setEnabled(self.clip_check.isChecked())
        self.train_button.setEnabled(not running)
        self.step_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.reset_button.setEnabled(not running and trained)
        for w in (self.timeline, self.use_button, self.back_button):
            w.setEnabled(not running)

    def set_status(self, text: str) -> None:
        self.status_label.setText(text)

    def set_models(self, rows: list[tuple[str, str, str, str, str]]) -> None:
        table = self.models_table
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    if c:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                              | Qt.AlignmentFlag.AlignVCenter)
                    table.setItem(r, c, item)
                if item.text() != text:
                    item.setText(text)

    def set_timeline(self, updates: list[int], index: int, text: str) -> None:
        with QSignalBlocker(self.timeline):
            self.timeline.setRange(0, max(len(updates) - 1, 0))
            self.timeline.setValue(index)
        self.timeline_label.setText(text)
