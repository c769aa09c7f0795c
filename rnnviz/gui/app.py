"""Application start-up: the QApplication, theme, error dialog and main window."""

from __future__ import annotations

import sys
import traceback
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox

from rnnviz.allocator import reuse_freed_memory
from rnnviz.gui.theme import apply_global, apply_palette, current_theme


def create_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication (the existing one if there is one), themed to the OS scheme."""
    app = QApplication.instance()
    if app is None:
        reuse_freed_memory()
        app = QApplication(argv if argv is not None else [sys.argv[0]])
    app.setApplicationName("rnnviz")
    app.setOrganizationName("rnnviz")
    app.setApplicationDisplayName("rnnviz")
    theme = current_theme()
    apply_global(theme)
    apply_palette(theme)
    return app


def install_excepthook() -> None:
    """Show unexpected errors in a dialog instead of ending the app (also printed to stderr)."""

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(text)
        if isinstance(value, KeyboardInterrupt):
            QApplication.quit()
            return
        box = QMessageBox(
            QMessageBox.Icon.Critical, "rnnviz: unexpected error", f"{kind.__name__}: {value}"
        )
        box.setInformativeText("The app keeps running; the last action may be incomplete.")
        box.setDetailedText(text)
        box.exec()

    sys.excepthook = hook


def run(files: list[str]) -> int:
    """Open the window and run until it is closed (exit status 2 and one line on stderr when
    there is no display to open it on).

    The window starts on the "sine" demo; if the last run did not exit cleanly it first offers
    to recover that run's autosave; then ``files`` open in order (a session replaces the
    document, sequences and weights apply to it).
    """
    from rnnviz.gui.display import HEADLESS_HINT, display_problem

    problem = display_problem()
    if problem is not None:
        print(f"rnnviz: {problem}; {HEADLESS_HINT}", file=sys.stderr)
        return 2
    app = create_app()
    install_excepthook()
    from rnnviz.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    window.files.autosave.start()
    if files:
        window.open_paths(list(files))
    return app.exec()
