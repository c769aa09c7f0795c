"""The commands behind the Model menu's comparison entries and the Models dock:
:class:`ModelsController` (``window.models``).

Every change of the models is one undoable edit (``window.editor.apply``); the session keeps
the selected model selected across them (by name). The comparison
view's influence rows are computed off the GUI thread in the runner's "influence" slot once
the results have rested for :data:`INFLUENCE_DELAY_MS` (a drag's edits never wait for them),
or at once when they cost little.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMenu

from rnnviz.engine import EngineError
from rnnviz.gui.compare.dialogs import AddModelDialog
from rnnviz.gui.compare.models_dock import ModelsDock
from rnnviz.io.errors import FileFormatError
from rnnviz.io.opener import open_file
from rnnviz.jobs import FunctionJob
from rnnviz.session import Document, Results, SessionError
from rnnviz.session import compare as cmp

SLOT = "influence"
INFLUENCE_DELAY_MS = 150
# Below this many multiply-adds (a few ms) the influence of every model is computed at once.
LIVE_INFLUENCE = 2e7
ADD_ERRORS = (SessionError, EngineError, FileFormatError)
# Heights (percent) of the input, hidden-state and comparison docks when a comparison opens.
COMPARE_SPLIT = (20, 28, 52)


class ModelsController(QObject):
    """Adding, removing, renaming, duplicating and selecting models, comparisons, and the
    comparison view's background work. ``dock`` is the Models dock's widget; ``view`` the
    comparison panel."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.view = window.panels["compare"]
        self.view.attach(self.session)
        self.view.model_clicked.connect(self.select)
        self.view.drawn.connect(self._view_drawn)
        self.dock = ModelsDock(self)
        window.add_dock("models", "Models", self.dock)
        self.dialog: AddModelDialog | None = None
        self._document = self.session.document
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.start_influence)
        self.session.document_changed.connect(self._document_changed)
        self.session.results_changed.connect(self._results_changed)
        self.session.view_changed.connect(self._view_changed)
        window.runner.ended.connect(self._job_ended)
        window.runner.progressed.connect(self._job_progressed)
        self.dock.show_document(self.session.document, self.session.view)
        if len(self.session.document.models) > 1:  # once the window has its layout
            QTimer.singleShot(0, self.show_comparison)

    # ---- commands ----------------------------------------------------------------------------
    def fill_compare_menu(self, menu: QMenu) -> None:
        """Model → Compare: the comparisons of the selected model with the other cells."""
        menu.clear()
        menu.addAction("RNN vs LSTM vs GRU (same hidden size)", self.compare_cells)
        menu.addAction("RNN vs LSTM vs GRU, matched parameters", self.compare_matched)

    def compare_cells(self) -> bool:
        """Replace the models by the selected one as an RNN, an LSTM and a GRU of its size."""
        return self._compare(matched=False)

    def compare_matched(self) -> bool:
        """As :meth:`compare_cells`, each sized to the selected model's parameter count."""
        return self._compare(matched=True)

    def _compare(self, matched: bool) -> bool:
        doc = self.session.document
        try:
            new = cmp.compare_cells(doc, self.session.view.model, matched=matched)
        except SessionError as exc:
            self.message(str(exc))
            return False
        what = "matched parameters" if matched else "same size"
        self.apply(new, f"Compare RNN vs LSTM vs GRU ({what})")
        counts = ", ".join(f"{m.name}: {m.parameter_count:,}" for m in new.models)
        self.message(f"comparing {counts} parameters")
        self.show_comparison()
        return True

    def add_dialog(self) -> AddModelDialog:
        """Model → Add model…: ask for a cell, sizes, initialisation and optional weights."""
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = AddModelDialog(self, self.session.document, self.session.view.model)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.destroyed.connect(lambda *_: setattr(self, "dialog", None))
        self.dialog.open()
        return self.dialog

    def add(self, settings: dict, name: str | None = None, weights: str | None = None) -> bool:
        """Add a model with ``settings`` (NetworkConfig fields) changed from the selected
        model's, called ``name`` (default: its cell and size), with weights from the file
        ``weights`` if given (then its shape comes from the file), and select it. False with
        a one-line message when it cannot be added."""
        try:
            new = self.added(settings, name, weights)
        except ADD_ERRORS as exc:
            self.message(str(exc))
            return False
        self.install_added(new)
        return True

    def added(self, settings: dict, name: str | None = None,
              weights: str | None = None) -> Document:
        """The document :meth:`add` would make (raises one of :data:`ADD_ERRORS`)."""
        doc = self.session.document
        config = cmp.new_config(doc, self.session.view.model, **settings)
        new = cmp.add_model(doc, config, name or None)
        index = len(new.models) - 1
        if weights:
            new = open_file(weights, new, model=index, expect="weights").document
            if not name:
                new = cmp.with_default_name(new, index)
        return new

    def install_added(self, document: Document) -> None:
        """Make ``document`` (from :meth:`added`) the document, its new model selected."""
        self.apply(document, f"Add model {document.models[-1].name}")
        self.select(len(document.models) - 1)
        self.show_comparison()

    def duplicate(self, index: int | None = None) -> bool:
        """Model → Duplicate: a copy of the selected model (weights included), selected."""
        return self._edit(lambda doc, k: cmp.duplicate_model(doc, k), "Duplicate model", index,
                          select_new=True)

    def remove(self, index: int | None = None) -> bool:
        """Model → Remove: take the selected model out of the comparison."""
        doc = self.session.document
        k = self.session.view.model if index is None else index
        name = doc.models[k].name if 0 <= k < len(doc.models) else ""
        return self._edit(lambda d, i: cmp.remove_model(d, i), f"Remove model {name}", index)

    def rename(self, name: str, index: int | None = None) -> bool:
        """Call the selected model (or model ``index``) ``name``."""
        return self._edit(lambda doc, k: cmp.rename_model(doc, k, name), "Rename model", index)

    def rename_dialog(self) -> None:
        """Model → Rename…: ask for the selected model's new name."""
        model = self.session.model
        name, ok = QInputDialog.getText(self.window, "Rename model", "Name:",
                                        QLineEdit.EchoMode.Normal, model.name)
        if ok:
            self.rename(name)

    def select(self, index: int) -> None:
        """Show model ``index``'s dashboard."""
        self.session.set_view(model=index)

    def next_model(self) -> None:
        self._step_selection(1)

    def previous_model(self) -> None:
        self._step_selection(-1)

    def _step_selection(self, delta: int) -> None:
        count = len(self.session.document.models)
        self.select((self.session.view.model + delta) % count)

    def _edit(self, edit, text: str, index: int | None, select_new: bool = False) -> bool:
        doc = self.session.document
        k = self.session.view.model if index is None else index
        try:
            new = edit(doc, k)
        except SessionError as exc:
            self.message(str(exc))
            return False
        if new is doc:
            return True
        self.apply(new, text)
        if select_new:
            self.select(len(new.models) - 1)
        return True

    def apply(self, document: Document, text: str) -> None:
        """``document`` as one undoable edit."""
        self.window.editor.apply(document, text)
        self.window.editor.seal()

    def show_comparison(self) -> None:
        """Open the Models dock and the comparison view (in front, with most of the middle
        column's height)."""
        w = self.window
        opened = not w.docks["compare"].isVisible()
        for key in ("models", "compare"):
            dock = w.docks[key]
            dock.show()
            dock.raise_()
        if opened:
            # once the docks are laid out with the comparison in front
            QTimer.singleShot(0, self._give_height)

    def _give_height(self) -> None:
        w = self.window
        docks = [w.docks.get(k) for k in ("input", "hidden", "compare")]
        if all(d is not None and d.isVisible() and not d.isFloating() for d in docks):
            height = max(sum(d.height() for d in docks), 1)
            w.resizeDocks(docks, [height * share // 100 for share in COMPARE_SPLIT],
                          Qt.Orientation.Vertical)

    def message(self, text: str) -> None:
        self.window.show_message(text)

    # ---- following the session ---------------------------------------------------------------
    def _document_changed(self, doc: Document) -> None:
        before, self._document = self._document, doc
        if len(before.models) == 1 and len(doc.models) > 1:
            self.show_comparison()
        self.dock.show_document(doc, self.session.view)
        if self.window.runner.running(SLOT):
            self.window.runner.cancel(SLOT)  # its numbers are of the old document
        self._timer.stop()

    def _view_changed(self, view) -> None:
        self.dock.show_document(self.session.document, view)
        self.view.refresh()

    def _results_changed(self, results: Results) -> None:
        self.dock.show_results(results)
        self.view.refresh()

    def _view_drawn(self) -> None:
        """The comparison view drew new results: their influence, at once when it is cheap
        or already known, else in a job once the edits rest."""
        results = self.session.last_results
        if results is None:
            return
        cost = sum(cmp.influence_cost(r) for r in results.models)
        if cost == 0:
            self.view.refresh_influence()
        elif cost <= LIVE_INFLUENCE:
            self.influence_now()
        else:
            self.view.set_influence_pending(True)
            self._timer.start(INFLUENCE_DELAY_MS)

    def influence_now(self) -> None:
        """Compute the influence of every model of the current results here and now (exports,
        tests, cheap cases), and draw it."""
        results = self.session.last_results
        if results is None:
            return
        try:
            cmp.summarise_all_influence(results.models)
        except (EngineError, SessionError) as exc:
            self.message(f"influence: {exc}")
        self._influence_done(results)

    def start_influence(self) -> None:
        """Compute the influence of every model in a job (progress in the comparison view)."""
        results = self.session.last_results
        if results is None or results.document is not self.session.document:
            return
        models = results.models
        job = FunctionJob("influence", lambda ctx: cmp.summarise_all_influence(
            models, ctx.part(0.0, 1.0)))
        self.window.runner.start(SLOT, job, done=lambda _: self._influence_done(results),
                                 failed=self._influence_failed)
        self.view.set_influence_pending(True)

    @property
    def influence_running(self) -> bool:
        return self.window.runner.running(SLOT)

    def _influence_done(self, results: Results) -> None:
        self.view.set_influence_pending(False)
        if results is self.session.last_results:
            self.view.refresh_influence()
            self.dock.show_results(results)

    def _influence_failed(self, message: str) -> None:
        self.view.set_influence_pending(False)
        self.message(f"influence: {message}")

    def _job_progressed(self, slot: str, fraction: float, _message: str) -> None:
        if slot == SLOT:
            self.view.set_influence_pending(True, fraction)

    def _job_ended(self, slot: str) -> None:
        if slot == SLOT and not self.influence_running:
            self.view.set_influence_pending(self._timer.isActive())
