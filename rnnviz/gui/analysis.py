"""The window's analysis service: what the analysis panels show, computed now or as jobs.

:class:`AnalysisController` (``window.analysis``) answers the panels' requests
(:class:`rnnviz.session.analysis.Request`) from one cache (:class:`~rnnviz.session.analysis.
Analyses`). A request whose cost is within ``budget`` is computed at once on the GUI thread
(the influence of T=200, H=64 follows the input while it is dragged); a dearer one is queued
and computed in the runner's "analysis" slot, one at a time, with progress and cancel, and
``updated`` tells the panels when its value is there.

Panels say what they need with :meth:`AnalysisController.want` (nothing while they are
hidden). A job nobody wants any more is cancelled — except one for the cursor step of the
current results, which finishes and stays cached, so that while the cursor plays the views
follow as fast as the jobs complete instead of never completing.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from rnnviz.gui.panels.registry import PANELS
from rnnviz.session import ModelResults
from rnnviz.session.analysis import (
    CURSOR_KINDS,
    INSPECTOR_BUDGET,
    LIVE_BUDGET,
    Analyses,
    Failure,
    InfluenceMap,
    Request,
    describe_horizon,
    request,
)

SLOT = "analysis"
HORIZON_ROW = "memory horizon"
TITLES = {
    "influence": "influence of every input",
    "distance": "Jacobian products",
    "spectrum": "recurrent spectrum",
    "singular": "step Jacobian",
    "perturbation": "perturbation",
    "state_space": "state space",
    "fixed_points": "fixed points",
}
ANALYSIS_PANELS = ("influence", "distance", "spectrum", "perturb", "state_space")


class AnalysisController(QObject):
    """Computes and caches what the analysis panels show (see the module docstring).

    Signals: ``updated()`` when a job's value has been stored; ``progressed(request,
    fraction)`` while one runs; ``status_changed()`` when a job starts, ends or is
    cancelled."""

    updated = Signal()
    progressed = Signal(object, float)
    status_changed = Signal()

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.cache = Analyses()
        self.budget = LIVE_BUDGET
        self.inspector_budget = INSPECTOR_BUDGET
        self._wants: dict[str, list[Request]] = {}
        self._running: Request | None = None
        self._fraction = 0.0
        self._skipped: set[Request] = set()
        window.runner.progressed.connect(self._progressed)
        window.runner.ended.connect(self._ended)

    # ---- values ----------------------------------------------------------------------------
    def value(self, req: Request | None, live: bool = True) -> Any | None:
        """``req``'s value if cached, or computed now when it is cheap (and ``live``); None
        while it waits for a job (see :meth:`want`)."""
        if req is None:
            return None
        value = self.cache.cached(req)
        if value is None and live and self.cache.live(req, self.budget):
            value = self.cache.get(req)
            if req.kind == "influence":
                self.show_horizon(self.window.session.model_results)
        return value

    def compute_now(self, req: Request) -> Any:
        """``req``'s value, computed on this thread whatever it costs (exports)."""
        if self._running == req:
            self.window.runner.cancel(SLOT)
            self._running = None
        return self.cache.get(req)

    # ---- jobs ------------------------------------------------------------------------------
    def want(self, client: str, requests: list[Request]) -> None:
        """What ``client`` (a panel key) waits for now; replaces what it wanted before."""
        requests = [r for r in requests if r is not None]
        if self._wants.get(client, []) == requests:
            return
        self._wants[client] = requests
        self._schedule()

    def wanted(self) -> list[Request]:
        return [r for reqs in self._wants.values() for r in reqs]

    @property
    def running(self) -> Request | None:
        """The request being computed in the runner, or None."""
        return self._running

    def state(self, req: Request) -> tuple[str, float]:
        """("running", fraction), ("queued", 0), ("cancelled", 0) or ("done", 1) for
        ``req``."""
        if self.cache.cached(req) is not None:
            return "done", 1.0
        if self._running == req:
            return "running", self._fraction
        if req in self._skipped:
            return "cancelled", 0.0
        return "queued", 0.0

    def cancel(self) -> None:
        """Stop the analysis job, and start none of those waiting until asked again
        (:meth:`resume`) or until the panels need something else."""
        self._skipped.update(self.wanted())
        if self._running is not None:
            self._skipped.add(self._running)
            self.window.runner.cancel(SLOT)
            self._running = None
        self.status_changed.emit()

    def resume(self, requests: list[Request]) -> None:
        """Compute ``requests`` after all (they were cancelled)."""
        self._skipped.difference_update(requests)
        self._schedule()
        self.status_changed.emit()

    def _current(self, results: ModelResults) -> bool:
        last = self.window.session.last_results
        return last is not None and any(m is results for m in last.models)

    def _schedule(self) -> None:
        wanted = self.wanted()
        self._skipped.intersection_update(wanted)
        running = self._running
        if running is not None:
            if running in wanted or (running.kind in CURSOR_KINDS
                                     and self._current(running.results)):
                return
            self.window.runner.cancel(SLOT)
            self._running = None
            self.status_changed.emit()
        for req in wanted:
            if req in self._skipped or self.cache.cached(req) is not None:
                continue
            self._running = req
            self._fraction = 0.0
            job = self.cache.job(req, f"computing the {TITLES.get(req.kind, req.kind)}")
            self.window.runner.start(SLOT, job, done=partial(self._done, req),
                                     failed=partial(self._failed, req))
            self.status_changed.emit()
            return

    def _done(self, req: Request, value: Any) -> None:
        self.cache.store(req, value)
        if req.kind == "influence":
            self.show_horizon(self.window.session.model_results)
        self._finish(req)

    def _failed(self, req: Request, message: str) -> None:
        self.cache.store(req, Failure(message))
        self._finish(req)

    def _finish(self, req: Request) -> None:
        if self._running == req:
            self._running = None
        self.status_changed.emit()
        self.updated.emit()
        self._schedule()

    def _ended(self, slot: str) -> None:
        if slot == SLOT and self._running is not None:
            # after the job's own callbacks have run (a success stores its value first)
            QTimer.singleShot(0, self._lost)

    def _lost(self) -> None:
        """A job stopped by someone else (the window cancels every job when asked to close,
        and the close may be refused): start what is still wanted again."""
        if self._running is not None and not self.window.runner.running(SLOT):
            self._running = None
            self.status_changed.emit()
            self._schedule()

    def _progressed(self, slot: str, fraction: float, _message: str) -> None:
        if slot == SLOT and self._running is not None:
            self._fraction = fraction
            self.progressed.emit(self._running, fraction)

    # ---- the inspector's memory horizon ------------------------------------------------------
    def show_horizon(self, results: ModelResults | None) -> None:
        """Put the memory horizon of ``results`` in the inspector: from the cache, or
        computed now when that is cheap; otherwise it says where to get it."""
        inspector = self.window.inspector
        if not hasattr(inspector, "set_extra"):
            return
        if results is None:
            inspector.set_extra(HORIZON_ROW, "—")
            return
        req = request(results, "influence", of="hidden")
        value = self.cache.cached(req)
        if value is None and self.cache.cost(req) <= self.inspector_budget:
            value = self.cache.get(req)
        if isinstance(value, InfluenceMap):
            text = describe_horizon(value.horizon, short=True)
        elif isinstance(value, Failure):
            text = "—"
        else:
            text = "— (Analysis → Influence map)"
        inspector.set_extra(HORIZON_ROW, text)

    # ---- commands --------------------------------------------------------------------------
    def show_panel(self, key: str) -> None:
        """Open the panel ``key``'s dock and bring it to the front."""
        dock = self.window.docks[key]
        dock.show()
        dock.raise_()

    def show_influence(self) -> None:
        self.show_panel("influence")

    def show_distance(self) -> None:
        self.show_panel("distance")

    def show_spectrum(self) -> None:
        self.show_panel("spectrum")

    def show_perturbation(self) -> None:
        self.show_panel("perturb")

    def show_state_space(self) -> None:
        self.show_panel("state_space")

    def find_fixed_points(self) -> None:
        """Open the state space and search for fixed points with its settings."""
        self.show_panel("state_space")
        self.window.panels["state_space"].find_fixed_points()

    def clear_fixed_points(self) -> None:
        self.window.panels["state_space"].clear_fixed_points()


def install(window) -> AnalysisController:
    """``window.analysis``, attached to the analysis panels."""
    controller = AnalysisController(window)
    window.analysis = controller
    keys = {spec.key for spec in PANELS}
    for key in ANALYSIS_PANELS:
        if key in keys:
            window.panels[key].attach(controller)
    return controller
