"""Every command of the window, in one list: the menus, the keyboard shortcuts and the F1 list
of keys are all built from :data:`ACTIONS`, so they cannot drift apart.

An entry names its handler by an attribute path on the main window ("files.open_dialog"),
looked up when the command runs. Plain keys (arrows, Space, letters) do nothing while a text
field has the focus, so typing never moves the cursor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

MENUS = ("File", "Edit", "Sequence", "Model", "Train", "Analysis", "View", "Help")
_MNEMONIC = {"File": "&File", "Edit": "&Edit", "Sequence": "&Sequence", "Model": "&Model",
             "Train": "&Train", "Analysis": "&Analysis", "View": "&View", "Help": "&Help"}
_KEY_GLYPHS = {"Left": "←", "Right": "→", "Up": "↑", "Down": "↓"}


@dataclass(frozen=True)
class ActionSpec:
    """One command.

    name: unique, "menu.command"; text: the menu text (with "&" mnemonics); handler: the
    attribute path, on the main window, of what it calls (with ``checked`` for a checkable
    command); menu: one of :data:`MENUS`, or "" for a command that only has keys; keys: its
    shortcuts as portable key sequences ("Ctrl+O", "Shift+Left"); help: its line in the F1 list
    (commands with keys only); tip: the status-bar tip; checkable; separator: a separator goes
    before it in its menu; in_text_fields: its plain keys work while a text field has the
    focus (only Esc, which leaves the field); kind: "action", "submenu" (``handler`` fills
    the QMenu it is given, each time it opens) or "dock" (``handler`` names a dock whose
    show/hide it toggles).
    """

    name: str
    text: str
    handler: str
    menu: str = ""
    keys: tuple[str, ...] = ()
    help: str = ""
    tip: str = ""
    checkable: bool = False
    separator: bool = False
    kind: str = "action"
    in_text_fields: bool = False


A = ActionSpec
ACTIONS: tuple[ActionSpec, ...] = (
    # ---- File
    A("file.new", "&New", "files.new", "File", ("Ctrl+N",), "new document (the sine demo)"),
    A("file.open", "&Open…", "files.open_dialog", "File", ("Ctrl+O",),
      "open a session, sequence, weights or lesson file"),
    A("file.recent", "Open &Recent", "files.fill_recent_menu", "File", kind="submenu"),
    A("file.samples", "Open &Sample", "files.fill_sample_menu", "File", kind="submenu"),
    A("file.demos", "Open &Demo", "files.fill_demo_menu", "File", kind="submenu"),
    A("file.save", "&Save", "files.save", "File", ("Ctrl+S",), "save", separator=True),
    A("file.save_as", "Save &As…", "files.save_as", "File", ("Ctrl+Shift+S",), "save as"),
    A("file.load_weights", "&Load Weights…", "files.load_weights_dialog", "File",
      separator=True, tip="Load trained weights (.npz, .safetensors, .pt) into the model"),
    A("file.save_weights", "Save &Weights…", "files.save_weights_dialog", "File",
      tip="Save the model's weights under PyTorch's names"),
    A("file.export", "&Export…", "exports.open_export_dialog", "File", ("Ctrl+E",),
      "export a panel, the dashboard or its data", separator=True,
      tip="Save a panel or the dashboard as PNG, SVG, PDF or CSV"),
    A("file.export_figure", "Export &Figure…", "exports.open_figure_dialog", "File",
      tip="A figure of chosen panels for a handout: letters, title, caption; PNG, SVG, PDF"),
    A("file.export_animation", "Export &Animation…", "exports.open_animation_dialog", "File",
      ("Ctrl+Shift+E",), "export an animation (GIF / MP4)",
      tip="Save the cursor stepping through the sequence as GIF or MP4"),
    A("file.export_run", "Export &Run Data…", "exports.export_run_dialog", "File",
      tip="Save every array of the run (NPZ) with a JSON description"),
    A("file.quit", "&Quit", "close", "File", ("Ctrl+Q",), "quit", separator=True),
    # ---- Edit
    A("edit.undo", "&Undo", "editor.stack.undo", "Edit", ("Ctrl+Z",), "undo"),
    A("edit.redo", "&Redo", "editor.stack.redo", "Edit", ("Ctrl+Shift+Z", "Ctrl+Y"), "redo"),
    # ---- Sequence
    A("sequence.generate", "&Generate…", "editing.show_generator_dialog", "Sequence",
      ("Ctrl+G",), "generate a sequence",
      tip="Replace the sequence with a test signal or a memory task"),
    A("sequence.text", "&Text…", "editing.text_dock.start_typing", "Sequence", ("Ctrl+T",),
      "type a text sequence", tip="Type the text the network reads, one character per step"),
    A("sequence.import", "&Import…", "editing.importer.ask", "Sequence", ("Ctrl+I",),
      "import a sequence file", tip="Read the sequence from a CSV, TSV, NPY or NPZ file"),
    A("sequence.insert", "I&nsert steps at cursor…", "editing.ask_insert", "Sequence",
      separator=True),
    A("sequence.delete", "&Delete step(s)…", "editing.ask_delete", "Sequence"),
    A("sequence.resize", "&Resize…", "editing.ask_resize", "Sequence"),
    A("sequence.table", "Show t&able of values", "table", "Sequence", separator=True,
      kind="dock"),
    # ---- Model
    A("model.compare_three", "&Compare RNN vs LSTM vs GRU", "models.compare_cells", "Model",
      tip="The selected model as an RNN, an LSTM and a GRU of its size, side by side"),
    A("model.compare_matched", "Compare RNN vs LSTM vs GRU, &matched parameters",
      "models.compare_matched", "Model",
      tip="As Compare, each cell sized to the selected model's parameter count"),
    A("model.add", "&Add model…", "models.add_dialog", "Model", separator=True,
      tip="Add a model (cell, size, layers, initialisation, weights) to the comparison"),
    A("model.duplicate", "&Duplicate", "models.duplicate", "Model",
      tip="Add a copy of the selected model, weights included"),
    A("model.rename", "Re&name…", "models.rename_dialog", "Model"),
    A("model.remove", "&Remove", "models.remove", "Model",
      tip="Take the selected model out of the comparison"),
    A("model.next", "&Next model", "models.next_model", "Model", ("Ctrl+PgDown",),
      "show the next model's dashboard", separator=True),
    A("model.previous", "&Previous model", "models.previous_model", "Model", ("Ctrl+PgUp",),
      "show the previous model's dashboard"),
    A("model.panel", "&Models list", "models", "Model", kind="dock"),
    # ---- Analysis
    A("analysis.influence", "&Influence map", "analysis.show_influence", "Analysis",
      tip="How much each input still matters at every later step; the memory horizon"),
    A("analysis.distance", "&Gradient vs distance", "analysis.show_distance", "Analysis",
      tip="‖∂s_t/∂s_k‖ against t − k at the cursor step, beside ρ(W_hh)^(t−k)"),
    A("analysis.spectrum", "&Spectrum", "analysis.show_spectrum", "Analysis",
      tip="Eigenvalues of W_hh and the step Jacobian's singular values"),
    A("analysis.perturb", "&Perturbation", "analysis.show_perturbation", "Analysis",
      tip="Nudge the input at the cursor step: rerun against first-order prediction"),
    A("analysis.state_space", "S&tate space", "analysis.show_state_space", "Analysis",
      tip="The hidden trajectory in its principal components"),
    A("analysis.fixed_points", "Find &fixed points", "analysis.find_fixed_points", "Analysis",
      separator=True, tip="Search the update map for fixed and slow points (in the background)"),
    A("analysis.clear_fixed_points", "C&lear fixed points", "analysis.clear_fixed_points",
      "Analysis"),
    A("analysis.cancel", "&Cancel analysis", "analysis.cancel", "Analysis", separator=True,
      tip="Stop the analysis computing in the background"),
    # ---- Train
    A("train.start", "&Start", "training.start", "Train", ("Ctrl+Return",),
      "train (continues a paused or saved run)",
      tip="Train the model (or all models together) on the task chosen in the Training dock"),
    A("train.pause", "&Pause", "training.pause", "Train", ("Ctrl+.",), "pause training"),
    A("train.step", "&Step (one update)", "training.step", "Train", ("Ctrl+Shift+Return",),
      "one training update"),
    A("train.reset", "&Reset to the weights before training", "training.reset", "Train",
      separator=True),
    A("train.example", "Use an &example of the task as the sequence", "training.use_example",
      "Train"),
    A("train.dock", "Training &dock", "train", "Train", separator=True, kind="dock"),
    # ---- View
    A("view.panels", "&Panels", "fill_panels_menu", "View", kind="submenu"),
    A("view.reveal", "&Reveal mode", "set_reveal", "View", ("R",), "reveal mode on / off",
      checkable=True),
    A("view.reset_zoom", "Reset &zoom", "reset_zoom", "View", ("Ctrl+0", "A"),
      "reset zoom: every panel shows every step",
      tip="Show every step in every panel again, after zooming with the mouse wheel"),
    A("view.theme", "&Theme", "fill_theme_menu", "View", kind="submenu"),
    A("view.reset_layout", "Reset &layout", "reset_layout", "View", separator=True),
    # ---- stepping (keys only)
    A("step.back", "Previous step", "step_by_one_back", keys=("Left",), help="previous step"),
    A("step.forward", "Next step", "step_by_one", keys=("Right",), help="next step"),
    A("step.back_ten", "Ten steps back", "step_by_ten_back", keys=("Shift+Left",),
      help="ten steps back"),
    A("step.forward_ten", "Ten steps forward", "step_by_ten", keys=("Shift+Right",),
      help="ten steps forward"),
    A("step.first", "First step", "first_step", keys=("Home",), help="first step"),
    A("step.last", "Last step", "last_step", keys=("End",), help="last step"),
    A("step.play", "Play / pause", "player.toggle", keys=("Space",), help="play / pause"),
    A("step.leave_field", "Leave the text field", "setFocus", keys=("Esc",),
      help="leave a text field (so the keys above step again)", in_text_fields=True),
    # ---- Help
    A("help.lessons", "&Lessons", "lessons.fill_menu", "Help", kind="submenu"),
    A("help.keys", "&Keyboard shortcuts", "show_shortcuts", "Help", ("F1",), "this list"),
    A("help.about", "&About rnnviz", "show_about", "Help"),
)


def action_spec(name: str) -> ActionSpec:
    for spec in ACTIONS:
        if spec.name == name:
            return spec
    raise KeyError(f"no action {name!r}")


def resolve(window: Any, path: str) -> Any:
    """The attribute at a dotted ``path`` of ``window`` ("files.open_dialog")."""
    target = window
    for part in path.split("."):
        target = getattr(target, part)
    return target


def typing_in(widget: QWidget | None) -> bool:
    """Whether ``widget`` takes keys as text (then plain-key shortcuts stay out of its way)."""
    if isinstance(widget, QLineEdit | QAbstractSpinBox | QTextEdit | QPlainTextEdit):
        return True
    return (
        isinstance(widget, QAbstractItemView)
        and widget.state() == QAbstractItemView.State.EditingState
    )


def _plain(key: str) -> bool:
    """A key without Ctrl/Alt/Meta, which text fields use themselves."""
    return not any(mod in key for mod in ("Ctrl+", "Alt+", "Meta+"))


def key_text(key: str) -> str:
    """A key sequence as the F1 list shows it ("Shift+←")."""
    text = QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)
    for name, glyph in _KEY_GLYPHS.items():
        text = text.replace(name, glyph)
    return text


def shortcut_rows() -> list[tuple[str, str]]:
    """(keys, what they do) for every command with keys, in menu order."""
    return [("  /  ".join(key_text(k) for k in spec.keys), spec.help)
            for spec in ACTIONS if spec.keys]


def _run(window: Any, spec: ActionSpec, action: QAction) -> None:
    if (not spec.in_text_fields and any(_plain(k) for k in spec.keys)
            and typing_in(QApplication.focusWidget())):
        return
    handler: Callable[..., Any] = resolve(window, spec.handler)
    if spec.checkable:
        handler(action.isChecked())
    else:
        handler()


def build_actions(window: Any) -> dict[str, QAction]:
    """Make every command's QAction on ``window`` and fill its menu bar; returns them by
    name. Submenus are refilled by their handler each time they open."""
    bar = window.menuBar()
    menus = {name: bar.addMenu(_MNEMONIC[name]) for name in MENUS}
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        menu = menus.get(spec.menu)
        if spec.separator and menu is not None and not menu.isEmpty():
            menu.addSeparator()
        if spec.kind == "submenu":
            sub = QMenu(spec.text, window)
            sub.aboutToShow.connect(partial(lambda s, m: resolve(window, s.handler)(m), spec, sub))
            resolve(window, spec.handler)(sub)
            menu.addMenu(sub)
            actions[spec.name] = sub.menuAction()
            continue
        if spec.kind == "dock":
            action = window.docks[spec.handler].toggleViewAction()
            action.setText(spec.text)
        else:
            action = QAction(spec.text, window)
            action.setCheckable(spec.checkable)
            action.setShortcuts([QKeySequence(k) for k in spec.keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(partial(_run, window, spec, action))
            window.addAction(action)  # keys work whether or not the menu bar is shown
        if spec.tip:
            action.setStatusTip(spec.tip)
        if menu is not None:
            menu.addAction(action)
        actions[spec.name] = action
    for menu in menus.values():
        menu.menuAction().setVisible(not menu.isEmpty())  # menus no command uses yet
    window.menus = menus
    return actions
