"""Model → Add model…: a dialog for the new model's cell, sizes, initialisation, recurrent
scale, seed, name and (optionally) trained weights from a file."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from rnnviz.engine.config import INITIALISERS, MAX_HIDDEN, MAX_LAYERS
from rnnviz.io.weights import WEIGHT_SUFFIXES
from rnnviz.session import Document
from rnnviz.session.document import CELL_NAMES, parameter_count


class AddModelDialog(QDialog):
    """Starts from the selected model's settings; OK adds the model (one undoable edit) or
    shows why it cannot in ``error``."""

    def __init__(self, controller, document: Document, base: int) -> None:
        super().__init__(controller.window)
        self.controller = controller
        self.setWindowTitle("Add model")
        self._base = document.model(base).config
        cfg = self._base
        form = QFormLayout(self)
        self.cell = QComboBox()
        for key, text in CELL_NAMES.items():
            self.cell.addItem(text, key)
        self.cell.setCurrentIndex(max(self.cell.findData(cfg.cell), 0))
        self.hidden = QSpinBox()
        self.hidden.setRange(1, MAX_HIDDEN)
        self.hidden.setValue(cfg.hidden_size)
        self.layers = QSpinBox()
        self.layers.setRange(1, MAX_LAYERS)
        self.layers.setValue(cfg.num_layers)
        self.init = QComboBox()
        for name in INITIALISERS:
            self.init.addItem(name, name)
        self.init.setCurrentIndex(max(self.init.findData(cfg.init), 0))
        self.scale_on = QCheckBox("W_hh spectral radius")
        self.scale = QDoubleSpinBox()
        self.scale.setRange(0.0, 10.0)
        self.scale.setDecimals(3)
        self.scale.setSingleStep(0.05)
        self.scale_on.setChecked(cfg.recurrent_scale is not None)
        self.scale.setValue(cfg.recurrent_scale if cfg.recurrent_scale is not None else 1.0)
        self.scale.setEnabled(self.scale_on.isChecked())
        self.scale_on.toggled.connect(self.scale.setEnabled)
        scale_row = QWidget()
        row = QHBoxLayout(scale_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.scale_on)
        row.addWidget(self.scale)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(min(cfg.seed, 2**31 - 1))
        self.name = QLineEdit()
        self.name.setPlaceholderText("automatic (cell and size)")
        self.weights = QLineEdit()
        self.weights.setPlaceholderText("none: initialise from the seed")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        weights_row = QWidget()
        row = QHBoxLayout(weights_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.weights, 1)
        row.addWidget(browse)
        self.count = QLabel("")
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        form.addRow("Cell", self.cell)
        form.addRow("Hidden units", self.hidden)
        form.addRow("Layers", self.layers)
        form.addRow("Initialisation", self.init)
        form.addRow("Recurrent scale", scale_row)
        form.addRow("Seed", self.seed)
        form.addRow("Name", self.name)
        form.addRow("Weights file", weights_row)
        form.addRow("Parameters", self.count)
        form.addRow(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept_settings)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        for signal in (self.cell.currentIndexChanged, self.hidden.valueChanged,
                       self.layers.valueChanged, self.weights.textChanged):
            signal.connect(self._show_count)
        self._show_count()

    def settings(self) -> dict:
        """The NetworkConfig fields the dialog sets."""
        return {
            "cell": self.cell.currentData(),
            "hidden_size": self.hidden.value(),
            "num_layers": self.layers.value(),
            "init": self.init.currentData(),
            "recurrent_scale": self.scale.value() if self.scale_on.isChecked() else None,
            "seed": self.seed.value(),
        }

    def _show_count(self) -> None:
        if self.weights.text().strip():
            self.count.setText("from the weights file")
            return
        try:
            cfg = self._base.replace(**{k: v for k, v in self.settings().items()
                                        if k in ("cell", "hidden_size", "num_layers")})
            self.count.setText(f"{parameter_count(cfg):,}")
        except ValueError as exc:
            self.count.setText(str(exc))

    def _browse(self) -> None:
        patterns = " ".join(f"*{s}" for s in WEIGHT_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Weights for the new model", "",
                                              f"Weights ({patterns})")
        if path:
            self.weights.setText(path)

    def accept_settings(self) -> bool:
        """Add the model; close on success, else show the reason and stay open."""
        from rnnviz.gui.compare.controller import ADD_ERRORS

        try:
            document = self.controller.added(self.settings(), self.name.text().strip() or None,
                                             self.weights.text().strip() or None)
        except ADD_ERRORS as exc:
            self.error.setText(str(exc))
            return False
        self.controller.install_added(document)
        self.accept()
        return True
