"""The session: the open document, its results and the view state, with change signals.

Every edit replaces the document (:meth:`Session.set_document`), marks the results stale and
emits ``document_changed``; whoever computes (the window's compute scheduler, a job, a script)
brings them up to date with :func:`~rnnviz.session.compute.compute` and installs them with
:meth:`Session.accept`, which emits one ``results_changed``. A job that produced a new document
together with its results (a training snapshot) installs both at once with
:meth:`Session.install`, so nothing is computed twice.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from psygnal import Signal

from rnnviz.session.compute import ModelResults, Results, compute
from rnnviz.session.document import Document, Model, ViewState


class Session:
    """The open document, its results and the view state, with change notifications.

    Signals: ``document_changed(Document)`` after every edit; ``results_changed(Results)`` once
    per installed computation; ``view_changed(ViewState)``; ``dirty_changed(bool)``.
    """

    document_changed = Signal(object)
    results_changed = Signal(object)
    view_changed = Signal(object)
    dirty_changed = Signal(bool)

    def __init__(self, document: Document, view: ViewState | None = None,
                 path: str | None = None) -> None:
        self._document = document
        self._saved: Document | None = document
        self._results: Results | None = None
        self._previous: Results | None = None
        self._view = self._clamp(view or ViewState(), document)
        self.path = path

    # ---- document --------------------------------------------------------------------------
    @property
    def document(self) -> Document:
        return self._document

    def set_document(self, document: Document) -> None:
        """Replace the document (an edit, an undo or a redo)."""
        if document is self._document:
            return
        was_dirty = self.dirty
        before, self._document = self._document, document
        self._results = None
        # the selected model stays selected where it moved (by name: adding, removing, undo)
        view = self._clamp(replace(self._view, model=_follow(before, document, self._view.model)),
                           document)
        self.document_changed.emit(document)
        if view != self._view:
            self.set_view(view)
        if self.dirty != was_dirty:
            self.dirty_changed.emit(self.dirty)

    @property
    def dirty(self) -> bool:
        return self._document is not self._saved

    def mark_saved(self, path: str | None = None) -> None:
        """The current document is what is on disk now."""
        was_dirty = self.dirty
        self._saved = self._document
        if path is not None:
            self.path = path
        if was_dirty:
            self.dirty_changed.emit(False)

    # ---- results ---------------------------------------------------------------------------
    @property
    def stale(self) -> bool:
        return self._results is None

    @property
    def results(self) -> Results:
        """The results for the current document, computed now if they are stale."""
        if self._results is None:
            self.accept(compute(self._document, previous=self._previous))
        return self._results  # type: ignore[return-value]

    @property
    def last_results(self) -> Results | None:
        """The current results without computing (None while stale)."""
        return self._results

    @property
    def previous_results(self) -> Results | None:
        """The most recently installed results, even if the document has moved on since: what
        :func:`compute` can resume from."""
        return self._previous

    def accept(self, results: Results) -> bool:
        """Install results computed elsewhere; ignored (False) if the document has moved on."""
        if results.document is not self._document:
            return False
        self._results = results
        self._previous = results
        self.results_changed.emit(results)
        return True

    def install(self, document: Document, results: Results) -> None:
        """Make ``document`` the document with ``results``, already computed for it (by a job),
        without computing anything: ``document_changed`` then ``results_changed``."""
        if results.document is not document:
            raise ValueError("the results were computed for another document")
        self.set_document(document)
        self.accept(results)

    # ---- the selected model ----------------------------------------------------------------
    @property
    def model(self) -> Model:
        """The model the dashboard shows (``view.model``)."""
        return self._document.models[self._view.model]

    @property
    def model_results(self) -> ModelResults | None:
        """The selected model's current results without computing (None while stale)."""
        return None if self._results is None else self._results.model(self._view.model)

    # ---- view ------------------------------------------------------------------------------
    @property
    def view(self) -> ViewState:
        return self._view

    def set_view(self, view: ViewState | None = None, **changes: Any) -> None:
        view = self._clamp(replace(view or self._view, **changes), self._document)
        if view != self._view:
            self._view = view
            self.view_changed.emit(view)

    @staticmethod
    def _clamp(view: ViewState, document: Document) -> ViewState:
        steps = document.sequence.steps
        index = min(max(int(view.model), 0), len(document.models) - 1)
        config = document.models[index].config
        units = tuple(u for u in view.units if 0 <= u < config.hidden_size) or (0,)
        return replace(view, step=min(max(int(view.step), 0), steps - 1),
                       layer=min(max(int(view.layer), 0), config.num_layers - 1),
                       units=units, model=index)


def _follow(before: Document, after: Document, index: int) -> int:
    """The index in ``after`` of the model selected at ``index`` in ``before``: the model of
    the same name where there is one, else the same position."""
    if 0 <= index < len(before.models):
        name = before.models[index].name
        for k, m in enumerate(after.models):
            if m.name == name:
                return k
    return index
