"""Sequence → Generate…: a test signal or a long-term-dependency task as the new sequence.

The form is built from the generator's :class:`ParamSpec` list (a spin box per parameter, with
its range and help), plus the length and the seed; a small plot previews the inputs and the
target. Problems (a length too short for a task, inconsistent parameters) are shown in the
dialog, which then stays open.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnnviz.gui.editing.apply import EDIT_ERRORS
from rnnviz.session import MAX_STEPS, Document, Task
from rnnviz.session.demos import sequence_from_generated
from rnnviz.tasks.generators import (
    GENERATORS,
    GeneratedSequence,
    GeneratorError,
    GeneratorSpec,
    generate,
)

MAX_SEED = 2**31 - 1
PREVIEW_MS = 150
PREVIEW_CHANNELS = 4


def task_where(gen: GeneratedSequence) -> str:
    """ "last" when only the final step is scored (the long-term-dependency tasks), else "all"."""
    mask = gen.target_mask
    return "last" if bool(mask[-1]) and int(mask.sum()) == 1 else "all"


def generated_document(doc: Document, gen: GeneratedSequence) -> Document:
    """``doc`` with the generated sequence and the generator's task (its loss; "last" for
    last-step tasks). The network's sizes follow; weights stay when every shape stays."""
    return doc.with_sequence_and_task(sequence_from_generated(gen),
                                      Task(gen.loss, task_where(gen)))


def _ordered_specs() -> list[GeneratorSpec]:
    return sorted(GENERATORS.values(), key=lambda s: s.category != "signal")


class GeneratorDialog(QDialog):
    """Choose a generator and its parameters. After OK, ``generated`` holds the sequence."""

    def __init__(self, parent: QWidget | None = None, length: int | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Generate a sequence")
        self.generated: GeneratedSequence | None = None
        layout = QVBoxLayout(self)
        self.combo = QComboBox()
        for spec in _ordered_specs():
            self.combo.addItem(f"{spec.title}  ({spec.category}, {spec.loss})", spec.name)
        layout.addWidget(self.combo)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.form = QFormLayout()
        layout.addLayout(self.form)
        self.length = QSpinBox()
        self.length.setRange(1, MAX_STEPS)
        self.length.setToolTip("T, the number of steps")
        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed.setToolTip("The same seed and parameters always give the same sequence")
        self.params: dict[str, QSpinBox | QDoubleSpinBox] = {}
        self.preview = pg.PlotWidget()
        self.preview.setMinimumHeight(130)
        self.preview.setMouseEnabled(x=False, y=False)
        self.preview.hideButtons()
        self.preview.getPlotItem().setDownsampling(auto=True, mode="peak")
        self.preview.getPlotItem().setClipToView(True)
        self.preview.addLegend(offset=(-4, 2), labelTextSize="8pt")
        layout.addWidget(self.preview, 1)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_MS)
        self._preview_timer.timeout.connect(self.update_preview)
        self.combo.currentIndexChanged.connect(lambda _i: self._build_form())
        for box in (self.length, self.seed):
            box.valueChanged.connect(lambda _v: self._preview_timer.start())
        self._build_form()
        if length is not None:
            self.length.setValue(length)
        self.resize(460, 520)

    @property
    def spec(self) -> GeneratorSpec:
        return GENERATORS[self.combo.currentData()]

    def select(self, name: str) -> None:
        """Choose the generator called ``name`` (its form shows its defaults)."""
        self.combo.setCurrentIndex(self.combo.findData(name))

    def _build_form(self) -> None:
        while self.form.rowCount():
            row = self.form.takeRow(0)
            for item in (row.labelItem, row.fieldItem):
                widget = item.widget() if item is not None else None
                if widget is not None and widget not in (self.length, self.seed):
                    widget.deleteLater()
        spec = self.spec
        self.summary.setText(
            spec.summary + (f"<br><i>{spec.reference}</i>" if spec.reference else "")
        )
        self.length.setValue(spec.default_length)
        self.form.addRow("Length", self.length)
        self.form.addRow("Seed", self.seed)
        self.params = {}
        for p in spec.params:
            if p.kind is int:
                box: QSpinBox | QDoubleSpinBox = QSpinBox()
                box.setRange(int(p.minimum), int(p.maximum))
            else:
                box = QDoubleSpinBox()
                box.setDecimals(6)
                box.setRange(float(p.minimum), float(p.maximum))
                box.setSingleStep(0.1 if p.maximum - p.minimum <= 10 else 1.0)
                box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
            box.setValue(p.default)
            box.setToolTip(p.help)
            box.valueChanged.connect(lambda _v: self._preview_timer.start())
            self.form.addRow(p.name, box)
            self.params[p.name] = box
        self._preview_timer.start()

    def values(self) -> dict[str, int | float]:
        return {name: box.value() for name, box in self.params.items()}

    def build(self) -> GeneratedSequence:
        """The sequence the form describes; GeneratorError if it cannot be made."""
        return generate(self.spec.name, self.length.value(), self.seed.value(), **self.values())

    def update_preview(self) -> None:
        self._preview_timer.stop()
        self.preview.clear()
        try:
            gen = self.build()
        except GeneratorError as exc:
            self.error.setText(str(exc))
            return
        self.error.clear()
        steps = np.arange(gen.length)
        for k in range(min(gen.inputs.shape[1], PREVIEW_CHANNELS)):
            self.preview.plot(
                steps,
                gen.inputs[:, k],
                name=gen.channel_names[k],
                pen=pg.intColor(k, hues=PREVIEW_CHANNELS + 1),
            )
        target = gen.target_classes if gen.target_classes is not None else gen.targets[:, 0]
        scored = gen.target_mask
        self.preview.plot(
            steps[scored],
            np.asarray(target, dtype=np.float64)[scored],
            name="target",
            pen=None,
            symbol="o",
            symbolSize=4,
        )

    def _ok(self) -> None:
        try:
            self.generated = self.build()
        except (GeneratorError, *EDIT_ERRORS) as exc:
            self.error.setText(str(exc))
            return
        self.accept()
