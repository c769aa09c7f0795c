"""The Models dock: the document's models with their cell, size, parameter count, loss and
memory horizon; clicking one shows its dashboard; buttons to compare, add, duplicate, rename
and remove."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from rnnviz.gui.compare.view import model_colour
from rnnviz.session import MAX_MODELS, Document, Results, ViewState
from rnnviz.session.compare import cached_influence, summarise
from rnnviz.session.document import CELL_NAMES

COLUMNS = ("model", "params", "loss", "horizon")


class ModelsDock(QWidget):
    """The list of models (``table``, one row per model, the selected one highlighted) and the
    buttons ``compare_button``, ``add_button``, ``duplicate_button``, ``rename_button``,
    ``remove_button``, all calling ``controller``
    (:class:`~rnnviz.gui.compare.controller.ModelsController`)."""

    def __init__(self, controller) -> None:
        super().__init__()
        self.controller = controller
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.cellDoubleClicked.connect(lambda *_: controller.rename_dialog())
        layout.addWidget(self.table, 1)

        buttons = QGridLayout()
        buttons.setSpacing(4)
        self.compare_button = QToolButton()
        self.compare_button.setText("Compare")
        self.compare_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.compare_button)
        controller.fill_compare_menu(menu)
        self.compare_button.setMenu(menu)
        self.compare_button.setToolTip("Compare the selected model as an RNN, an LSTM and a GRU")
        self.add_button = QToolButton()
        self.add_button.setText("Add…")
        self.add_button.clicked.connect(controller.add_dialog)
        self.duplicate_button = QToolButton()
        self.duplicate_button.setText("Duplicate")
        self.duplicate_button.clicked.connect(lambda: controller.duplicate())
        self.rename_button = QToolButton()
        self.rename_button.setText("Rename…")
        self.rename_button.clicked.connect(controller.rename_dialog)
        self.remove_button = QToolButton()
        self.remove_button.setText("Remove")
        self.remove_button.clicked.connect(lambda: controller.remove())
        for k, button in enumerate((self.compare_button, self.add_button, self.duplicate_button,
                                    self.rename_button, self.remove_button)):
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            buttons.addWidget(button, k // 3, k % 3)
        layout.addLayout(buttons)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self._shown: tuple = ()

    # ---- session -> widgets ------------------------------------------------------------------
    def show_document(self, doc: Document, view: ViewState) -> None:
        """Rows for ``doc``'s models, the selected one (``view.model``) highlighted."""
        shown = (tuple(doc.models), view.model)
        if shown == self._shown:
            return
        rows_changed = not self._shown or self._shown[0] != shown[0]
        self._shown = shown
        theme = self.controller.window.theme
        with QSignalBlocker(self.table):
            if rows_changed:
                self.table.setRowCount(len(doc.models))
                for k, model in enumerate(doc.models):
                    cfg = model.config
                    weights = "trained or loaded weights" if model.weights is not None \
                        else f"initialised from seed {cfg.seed}"
                    units = str(cfg.hidden_size) if cfg.num_layers == 1 \
                        else f"{cfg.num_layers}×{cfg.hidden_size}"
                    values = (f"■ {model.name}", f"{model.parameter_count:,}", "", "")
                    for c, text in enumerate(values):
                        item = QTableWidgetItem(text)
                        if c == 0:
                            item.setForeground(QColor(model_colour(theme, k)))
                            item.setToolTip(f"{model.name}: {CELL_NAMES.get(cfg.cell, cfg.cell)}"
                                            f", {units} units, {weights}")
                        else:
                            item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                                  | Qt.AlignmentFlag.AlignVCenter)
                        self.table.setItem(k, c, item)
            self.table.selectRow(view.model)
        count = len(doc.models)
        self.add_button.setEnabled(count < MAX_MODELS)
        self.duplicate_button.setEnabled(count < MAX_MODELS)
        self.remove_button.setEnabled(count > 1)
        self.note.setText("Click a model to show its dashboard. "
                          f"{count} of at most {MAX_MODELS} models.")
        if rows_changed and self.controller.session.last_results is not None:
            self.show_results(self.controller.session.last_results)

    def show_results(self, results: Results) -> None:
        """Each model's loss and memory horizon (when computed)."""
        if results.document is not self.controller.session.document:
            return
        for k, r in enumerate(results.models):
            if k >= self.table.rowCount():
                break
            s = summarise(r)
            inf = cached_influence(r)
            loss = "" if s.loss is None else f"{s.loss:.3g}"
            horizon = "" if inf is None else inf.horizon_text.replace(" steps", "")
            for c, text in ((2, loss), (3, horizon)):
                item = self.table.item(k, c)
                if item is not None and item.text() != text:
                    item.setText(text)

    def _selection_changed(self) -> None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        if len(rows) == 1:
            self.controller.select(rows.pop())
