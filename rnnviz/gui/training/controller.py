"""Training in the window: :class:`TrainingController` (``window.training``).

Train runs the document's models (the selected one, or all of them together) as a job in the
window's runner, slot "train" (:class:`rnnviz.session.training.TrainingRun`). A few times a
second a snapshot arrives with the new document (the trained weights, each with its training
record) and that document's results, computed in the job: it is installed with
``session.install``, so every panel shows the network being trained and nothing is computed
on the GUI thread. The sequence stays editable: an edit becomes the base the next snapshots
are built on. A change that replaces the trained models (another file, a new configuration, an
undo to before the run) stops the run.

A whole run is one undo step, pushed when it ends (Pause, the last update, divergence): undo
brings back the weights from before it, on the sequence as it is. Edits made during the run
are rewritten to hold the weights from before the run too, so the history reads as if they
came first.

The timeline scrubs through the weight snapshots: a snapshot is shown (installed, with results
computed in a job, slot "timeline") without becoming an edit; "Use these weights" makes it one,
"Back to current" (or the timeline's last position) returns. An edit while a snapshot is shown
applies to the current weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from rnnviz.gui.painted import after_paint
from rnnviz.gui.training.form import TrainingForm
from rnnviz.gui.undo import DocumentCommand
from rnnviz.jobs import FunctionJob
from rnnviz.session import Document, Results, SessionError, compute
from rnnviz.session.training import (
    TaskChoice,
    TrainingRun,
    continued_update,
    example_document,
    fit_problem,
    reset_document,
    snapshot_document,
    suggest_choice,
)
from rnnviz.train import DIVERGED, DONE, PAUSED, TrainError, TrainingRecord, TrainSnapshot

SLOT = "train"
TIMELINE_SLOT = "timeline"
PUBLISH_SECONDS = 0.25  # snapshots shown a second: about four
ACK_SECONDS = 0.3  # the most a run waits for the window to draw a snapshot
CURVES_SHARE = 0.45  # of the window's height, for the curves when a run starts


def _duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return ""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _num(value: float | None, digits: int = 4) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}g}"


class TrainingController(QObject):
    """The Train commands, the Training dock (:attr:`form`) and the curves panel
    (:attr:`panel`). Public state for tests and other parts of the app: :attr:`running`,
    :attr:`run` (the :class:`~rnnviz.session.training.TrainingRun` under way or last),
    :attr:`last_snapshot`, :attr:`previewing` (the update the timeline shows, or None),
    :attr:`updates_per_second` (the last run's rate). ``confirm(title, text) -> bool`` asks
    the user (replace it to answer without a dialog)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.editor = window.editor
        self.panel = window.panels["training"]
        self.form = TrainingForm()
        self.dock = window.add_dock("train", "Training", self.form)
        self.confirm: Callable[[str, str], bool] = self._ask
        self.run: TrainingRun | None = None
        self.job = None
        self.last_snapshot: TrainSnapshot | None = None
        self.updates_per_second: float | None = None
        self._handle = None
        self._start_doc: Document | None = None
        self._base: Document | None = None
        self._installing = False
        self._during: list[DocumentCommand] = []
        self._kind = "train"
        self._preview: tuple[Document, Results | None, int, Document] | None = None
        self._timeline: list[int] = []
        self._timeline_models: list[int] = []
        self._adopted: object = None

        f = self.form
        f.train.connect(self.start)
        f.pause.connect(self.pause)
        f.step.connect(self.step)
        f.reset.connect(self.reset)
        f.example.connect(self.use_example)
        f.task_changed.connect(self._task_changed)
        f.length_changed.connect(self._length_changed)
        f.timeline_moved.connect(self._timeline_moved)
        f.use_snapshot.connect(self.use_snapshot)
        f.back_to_current.connect(self.back_to_current)
        self.session.document_changed.connect(self._document_changed)
        self.session.view_changed.connect(self._view_changed)
        self.editor.stack.indexChanged.connect(self._stack_moved)
        self.editor.reset_done.connect(self._history_reset)
        window.destroyed.connect(self._stop_threads)
        self._fresh_document()
        QTimer.singleShot(0, self._refresh_buttons)  # once the menus are built

    # ---- state ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._handle is not None and self.window.runner.handle(SLOT) is self._handle

    @property
    def previewing(self) -> int | None:
        return None if self._preview is None else self._preview[2]

    def _indices(self, document: Document) -> list[int]:
        if len(document.models) > 1 and self.form.together_check.isChecked():
            return list(range(len(document.models)))
        return [min(self.session.view.model, len(document.models) - 1)]

    # ---- commands --------------------------------------------------------------------------
    def show(self) -> None:
        """Show the Training dock and the curves, in front, with room for the curves."""
        for key in ("train", "training"):
            dock = self.window.docks.get(key)
            if dock is not None:
                dock.show()
                dock.raise_()
        curves = self.window.docks.get("training")
        height = self.window.height()
        if curves is not None and not curves.isFloating() and curves.height() < 0.4 * height:
            self.window.resizeDocks([curves], [int(CURVES_SHARE * height)],
                                    Qt.Orientation.Vertical)

    def start(self) -> bool:
        """Train: to the Updates count (continuing the models' records where they agree)."""
        return self._begin(None)

    def step(self) -> bool:
        """One update."""
        return self._begin(1)

    def pause(self) -> None:
        """Stop after the update under way; the state is kept (Train continues exactly)."""
        if self.running and self.job is not None:
            self.job.stop()
            self._say("pausing…")

    def reset(self) -> None:
        """Back to the weights before training (the trained models' update-0 snapshots), as
        one undoable step."""
        if self.running:
            return
        self.back_to_current()
        doc = self.session.document
        indices = [i for i, m in enumerate(doc.models) if isinstance(m.training,
                                                                      TrainingRecord)]
        if not indices:
            self._say("nothing to reset: no model has been trained")
            return
        self.editor.apply(reset_document(doc, indices), "Reset training")
        self._say("the weights are back where training started")

    def use_example(self) -> bool:
        """Make the document's sequence an example of the chosen task (undoable)."""
        if self.running:
            return False
        self.back_to_current()
        doc = self.session.document
        try:
            task = self.form.choice().build(doc)
        except TrainError as exc:
            self._say(str(exc))
            return False
        new = example_document(doc, task, seed=self.form.seed_spin.value())
        self.editor.apply(new, f"Use an example of {task.title}")
        self._say(f"the sequence is an example of {task.title}")
        return True

    def _begin(self, steps: int | None) -> bool:
        if self.running:
            return False
        self.back_to_current()
        doc = self.session.document
        try:
            settings = self.form.settings()
            task = self.form.choice().build(doc)
        except TrainError as exc:
            return self._refuse(str(exc))
        indices = self._indices(doc)
        problem = fit_problem(task, doc, indices)
        if problem is not None:
            question = (f"{problem[:1].upper()}{problem[1:]}. Replace the sequence with an "
                        f"example of {task.title}, so the dashboard shows the network on "
                        "what it learns? (Undo brings the sequence back.)")
            if not self.confirm("Use an example of the task?", question):
                return self._refuse(f"cannot train: {problem}")
            self.editor.apply(example_document(doc, task, seed=settings.seed),
                              f"Use an example of {task.title}")
            doc = self.session.document
            problem = fit_problem(task, doc, indices)
            if problem is not None:
                return self._refuse(f"cannot train: {problem}")
        if steps is None:
            start = continued_update(doc, indices, task, settings)
            if start >= settings.updates:
                return self._refuse(f"the run has done its {settings.updates} updates; "
                                    "raise Updates to train on")
        try:
            run = TrainingRun(doc, indices, task, settings)
        except (TrainError, SessionError) as exc:
            return self._refuse(str(exc))
        job = run.job(target=settings.updates if steps is None else None, steps=steps,
                      publish_first=True, publish_every=PUBLISH_SECONDS,
                      wait_for_ack=ACK_SECONDS, wait_to_start=True)
        self.run, self.job = run, job
        self._start_doc = self._base = doc
        self._during = []
        self._kind = "step" if steps else "train"
        self.last_snapshot = None
        self.window.set_banner(None)
        self.window.dashboard.spread = True
        self._handle = self.window.runner.start(SLOT, job, done=self._finished,
                                                failed=self._failed, snapshot=self._snapshot)
        self._refresh_buttons()
        if steps is None:
            self.show()
        after_paint(self.window, job.ack)  # the job begins once the window has painted
        self._say("training…" if steps is None else "one update…")
        return True

    def _refuse(self, text: str) -> bool:
        self._say(text)
        self.form.set_status(text[:1].upper() + text[1:])
        return False

    # ---- a run's reports ---------------------------------------------------------------------
    def _snapshot(self, snap: TrainSnapshot) -> None:
        if not self.running:
            return
        job = self.job
        if not self._install(snap):
            if job is not None:
                job.ack()
            return
        # draw now (a panel per turn of the event loop), and let the run go on once every
        # panel is drawn and painted: training and drawing take turns (both need the
        # interpreter), so neither stretches the other
        self.window.redraw.flush()
        if job is not None:
            self.window.dashboard.after_drawn(lambda: after_paint(self.window, job.ack))

    def _install(self, snap: TrainSnapshot, final: bool = False) -> bool:
        """Show ``snap`` (its progress, and its network if it is still ours); whether a
        network was installed."""
        extra = snap.extra
        self.last_snapshot = snap
        self._show_progress(snap)
        trainer = self.run.trainer if self.run is not None else None
        if extra is None or (not final and trainer is not None
                             and snap.update == trainer.first_update):
            return False  # the run's first report: the weights are still those on screen
        if extra.results is None:
            if extra.problem == "the trained models changed":
                return False
            if not final:
                self._say(f"cannot show the trained network: {extra.problem}")
                return False
        if extra.base is not self._base:
            if final and self.run is not None and self.run.fits(self.session.document):
                # the sequence changed after this snapshot was made: build it on the new one
                self._set(self.run.document_for(snap, self.session.document), None)
                return True
            return False
        if self.session.document is not extra.document:
            self._set(extra.document, extra.results)
            return True
        return False

    def _set(self, document: Document, results: Results | None) -> None:
        self._installing = True
        try:
            if results is not None:
                self.session.install(document, results)
            else:
                self.session.set_document(document)
        finally:
            self._installing = False

    def _finished(self, snap: TrainSnapshot) -> None:
        self.window.dashboard.spread = False  # the final weights, drawn at once
        self._install(snap, final=True)
        self.updates_per_second = snap.updates_per_second or self.updates_per_second
        self._commit()
        self._end()
        self._show_progress(snap)
        done = snap.update
        if snap.status == DIVERGED and snap.diverged is not None:
            d = snap.diverged
            text = (f"Training diverged at update {d.update}"
                    f"{f' ({d.model})' if d.model else ''}: the {d.quantity} became NaN/Inf. "
                    f"The weights are the last finite ones (update {done}); lower the learning "
                    "rate or turn on gradient clipping.")
            self.window.redraw_now()  # before the banner: a redraw would clear it
            self.window.set_banner(text, "error")
            self._say(f"training diverged at update {d.update}")
        elif snap.status == PAUSED:
            self._say(f"paused at update {done}; Train continues exactly from here")
        elif snap.status == DONE:
            self._say(f"trained to update {done}")

    def _failed(self, message: str) -> None:
        self._commit()
        self._end()
        self._say(f"training stopped: {message}")
        self.form.set_status(f"Training stopped: {message}")
        self.window.set_banner(f"Training stopped: {message}", "warning")

    def _end(self) -> None:
        self.window.dashboard.spread = False
        self._handle = None
        self.job = None
        self._refresh_buttons()
        self._refresh_timeline()

    def _abandon(self, reason: str) -> None:
        """Stop the run without installing more (the document moved on without it)."""
        if self._handle is not None:
            self.window.runner.cancel(SLOT)
        self._end()
        self._say(f"training stopped: {reason}")
        self.form.set_status(f"Training stopped: {reason}")

    def _ours(self, document: Document) -> bool:
        """Whether ``document`` still holds this run's models (trained by it, or as they were
        when it started), so that the run can go on over it."""
        run = self.run
        if run is None or not run.fits(document):
            return False
        for i in run.indices:
            model = document.models[i]
            record = model.training
            mine = isinstance(record, TrainingRecord) and record.token is run.token
            if not mine and model is not self._start_doc.models[i]:
                return False
        return True

    def _without_run(self, document: Document) -> Document:
        """``document`` with the models this run trained as they were before it."""
        run, start = self.run, self._start_doc
        if run is None or start is None:
            return document
        for i in run.indices:
            if i >= len(document.models):
                continue
            record = document.models[i].training
            if isinstance(record, TrainingRecord) and record.token is run.token:
                document = document.with_model(i, start.models[i])
        return document

    def _commit(self) -> None:
        """The run as one undo step (and the edits made during it rewritten to come first)."""
        final = self.session.document
        if self.run is None or not self._ours(final):
            return
        for cmd in self._during:
            cmd.before = self._without_run(cmd.before)
            cmd.after = self._without_run(cmd.after)
        before = self._without_run(final)
        if before is final:
            return
        record = final.models[self.run.indices[0]].training
        trainer = self.run.trainer
        count = 0
        if isinstance(record, TrainingRecord) and trainer is not None:
            count = record.update - trainer.first_update
        text = f"Train {count} update{'s' if count != 1 else ''}"
        self.editor.stack.push(DocumentCommand(self.session, before, final, text, None, 0))

    # ---- the document --------------------------------------------------------------------
    def _document_changed(self, document: Document) -> None:
        if self._installing:
            return
        if self._preview is not None:
            self._edited_during_preview(document)
            return
        if self.running:
            if self._ours(document):
                self._base = document
                self.run.set_base(document)
            else:
                self._abandon("the trained models were replaced")
            return
        self._adopt(document)
        self._refresh_timeline()
        self._refresh_buttons()

    def _view_changed(self, _view) -> None:
        if not self.running and self._preview is None:
            self._adopt(self.session.document)
            self._refresh_timeline()

    def _stack_moved(self, index: int) -> None:
        stack = self.editor.stack
        try:
            count = stack.count()
        except RuntimeError:  # the window is being deleted
            return
        if count == 0:
            return
        if self.running and index > 0:
            cmd = stack.command(index - 1)
            if isinstance(cmd, DocumentCommand) and cmd not in self._during:
                self._during.append(cmd)

    def _history_reset(self) -> None:
        """Another document was opened: suggest what to train it on."""
        if not self.running:
            self._fresh_document()

    def _fresh_document(self) -> None:
        doc = self.session.document
        self._adopted = None
        self.form.together_check.setVisible(len(doc.models) > 1)
        self.form.together_check.setChecked(True)
        if not self._adopt(doc):
            choice = suggest_choice(doc)
            self.form.set_choice(choice)
            self._apply_task_defaults()
        self._refresh_timeline()
        self._refresh_buttons()
        self._show_record_status()

    def _adopt(self, document: Document) -> bool:
        """Show the selected (or first) trained model's task and settings in the form, so
        that Train continues its run. False when no model has a record."""
        self.form.together_check.setVisible(len(document.models) > 1)
        record = self._record_of(document)
        if record is None:
            return False
        if record is not self._adopted:
            self._adopted = record
            self.form.set_choice(TaskChoice.from_record(record))
            self.form.set_settings(record.settings)
            self._show_record_status()
        return True

    def _record_of(self, document: Document) -> TrainingRecord | None:
        models = document.models
        selected = models[min(self.session.view.model, len(models) - 1)]
        if isinstance(selected.training, TrainingRecord):
            return selected.training
        return next((m.training for m in models if isinstance(m.training, TrainingRecord)),
                    None)

    def _task_changed(self) -> None:
        self._apply_task_defaults()

    def _length_changed(self) -> None:
        self._apply_task_defaults(only_updates=True)

    def _apply_task_defaults(self, only_updates: bool = False) -> None:
        try:
            task = self.form.choice().build(self.session.document)
        except TrainError as exc:
            self.form.set_status(str(exc)[:1].upper() + str(exc)[1:])
            return
        self.form.apply_defaults(task.training, only_updates=only_updates)
        if not only_updates:
            note = task.baseline_note if hasattr(task, "baseline_note") else ""
            self.form.set_status(f"{task.title}: baseline {task.baseline:.4g} ({note}); "
                                 f"success: {task.success_name}")

    # ---- the timeline ----------------------------------------------------------------------
    def _refresh_timeline(self) -> None:
        doc = self._preview[0] if self._preview is not None else self.session.document
        record = self._record_of(doc)
        if record is None:
            self._timeline, self._timeline_models = [], []
            self.form.set_timeline([], 0, "Timeline: no snapshots yet")
            return
        updates = [int(u) for u in record.history.snapshot_update]
        if not updates or updates[-1] != record.update:
            updates.append(record.update)
        self._timeline = updates
        self._timeline_models = [i for i, m in enumerate(doc.models)
                                 if isinstance(m.training, TrainingRecord)]
        shown = self.previewing
        index = updates.index(shown) if shown in updates else len(updates) - 1
        if shown is None:
            text = (f"Timeline: {len(updates) - 1} snapshot(s); showing the current weights "
                    f"(update {record.update})")
        else:
            text = f"Timeline: showing the weights of update {shown} (of {record.update})"
        self.form.set_timeline(updates, index, text)

    def _timeline_moved(self, index: int) -> None:
        if self.running or not self._timeline:
            return
        if index >= len(self._timeline) - 1:
            self.back_to_current()
            return
        self.show_snapshot(self._timeline[index])

    def show_snapshot(self, update: int) -> bool:
        """Show every panel with the weights of the snapshot at ``update`` (not an edit)."""
        if self.running:
            return False
        if self._preview is not None:
            real, real_results = self._preview[0], self._preview[1]
        else:
            real, real_results = self.session.document, self.session.last_results
        indices = [i for i in self._timeline_models
                   if isinstance(real.models[i].training, TrainingRecord)
                   and update in real.models[i].training.history.snapshot_update]
        if not indices:
            return False
        try:
            shown = snapshot_document(real, indices, update)
        except SessionError as exc:
            self._say(str(exc))
            return False
        job = FunctionJob("weights at a snapshot",
                          lambda ctx: compute(shown, ctx.progress, real_results))
        self.window.runner.start(
            TIMELINE_SLOT, job,
            done=lambda results: self._show_preview(real, real_results, update, shown, results),
            failed=self._say)
        return True

    def _show_preview(self, real: Document, real_results: Results | None, update: int,
                      shown: Document, results: Results) -> None:
        current = self._preview[3] if self._preview is not None else real
        if self.session.document is not current or self.running:
            return  # the document moved on meanwhile
        self._preview = (real, real_results, update, shown)
        self._set(shown, results)
        self.panel.set_marker(update)
        self._refresh_timeline()
        self._say(f"showing the weights of update {update}: Use these weights to keep them")

    def back_to_current(self) -> None:
        """Leave the timeline's snapshot: the current weights again."""
        self.window.runner.cancel(TIMELINE_SLOT)
        if self._preview is None:
            return
        real, real_results, _, shown = self._preview
        self._preview = None
        if self.session.document is shown:
            ok = real_results is not None and real_results.document is real
            self._set(real, real_results if ok else None)
        self.panel.set_marker(None)
        self._refresh_timeline()

    def use_snapshot(self) -> None:
        """Make the weights the timeline shows the current ones (one undoable step)."""
        if self._preview is None:
            return
        real, _, update, shown = self._preview
        self._preview = None
        self.panel.set_marker(None)
        if self.session.document is shown:
            self.editor.stack.push(DocumentCommand(self.session, real, shown,
                                                   f"Use the weights of update {update}",
                                                   None, 0))
        self._refresh_timeline()
        self._refresh_buttons()
        self._say(f"the weights of update {update} are the current ones")

    def _edited_during_preview(self, document: Document) -> None:
        """An edit made while a snapshot was shown applies to the current weights."""
        real, _, _, shown = self._preview
        self._preview = None
        self.panel.set_marker(None)
        stack = self.editor.stack
        cmd = stack.command(stack.index() - 1) if stack.index() > 0 else None
        if isinstance(cmd, DocumentCommand) and cmd.before is shown and cmd.after is document:
            after = document
            for i, model in enumerate(shown.models):
                if i < len(after.models) and i < len(real.models) \
                        and after.models[i] is model:
                    after = after.with_model(i, real.models[i])
            cmd.before, cmd.after = real, after
            self.session.set_document(after)
        self._refresh_timeline()

    # ---- showing progress ----------------------------------------------------------------
    def _show_progress(self, snap: TrainSnapshot) -> None:
        loss = snap.losses()[0] if snap.records else None
        parts = [f"update {snap.update}/{snap.target}"]
        if loss is not None:
            parts.append(f"loss {_num(loss)}")
        if snap.updates_per_second:
            parts.append(f"{snap.updates_per_second:.0f} updates/s")
        left = _duration(snap.seconds_left)
        if left:
            parts.append(f"{left} left")
        line = " · ".join(parts)
        trainer = self.run.trainer if self.run is not None else None
        if trainer is not None and trainer.reason and snap.status == "running":
            line += f" (a new run: {trainer.reason})"
        self.form.set_status(line[:1].upper() + line[1:])
        self.panel.set_status(line)
        self._show_models(list(zip(snap.names, snap.records, strict=True)))

    def _show_models(self, named) -> None:
        doc = self.session.document
        rows = []
        for name, record in named:
            try:
                params = doc.models[doc.index_of(name)].parameter_count
            except SessionError:
                params = 0
            h = record.history
            rate = record.updates_per_second
            rows.append((name, f"{params:,}", "–" if rate is None else f"{rate:.0f}",
                         _num(float(h.test_loss[-1]) if h.test_loss.size else None, 3),
                         _num(float(h.success[-1]) if h.success.size else None, 3)))
        self.form.set_models(rows)

    def _show_record_status(self) -> None:
        doc = self.session.document
        trained = [(m.name, m.training) for m in doc.models
                   if isinstance(m.training, TrainingRecord)]
        self._show_models(trained)
        record = self._record_of(doc)
        if record is None:
            self.panel.set_status("")
            return
        text = f"trained to update {record.update} ({record.settings.describe()})"
        if record.diverged is not None:
            text += f"; diverged at update {record.diverged.update}"
        self.form.set_status(text[:1].upper() + text[1:])
        self.panel.set_status(text)

    def _refresh_buttons(self) -> None:
        running = self.running
        trained = any(isinstance(m.training, TrainingRecord)
                      for m in self.session.document.models)
        self.form.set_running(running, trained)
        actions = getattr(self.window, "actions", None)
        if isinstance(actions, dict):
            for name, on in (("train.start", not running), ("train.step", not running),
                             ("train.pause", running), ("train.reset", not running and trained),
                             ("train.example", not running)):
                if name in actions:
                    actions[name].setEnabled(on)

    def _say(self, text: str) -> None:
        self.window.show_message(text)

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.window, title, text)
        return answer == QMessageBox.StandardButton.Yes

    # ---- shutdown ------------------------------------------------------------------------
    def _stop_threads(self, *_args) -> None:
        """The window is going: stop the run's thread before Qt deletes it."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.cancel()
            try:
                handle.thread.wait()
            except RuntimeError:  # already finished and deleted
                pass


def install(window) -> TrainingController:
    """Add training to ``window``: ``window.training``, the Training dock and its commands."""
    window.training = TrainingController(window)
    return window.training
