"""An exception raised in a Qt slot must fail the test that triggered it (so the suite can
never pass over a broken slot), and the app's excepthook turns such errors into a dialog."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from rnnviz.gui import app as app_module

pytest_plugins = ["pytester"]


class _Emitter(QObject):
    fired = Signal()


def _broken_slot() -> None:
    raise RuntimeError("broken slot")


def test_pytest_qt_sees_an_exception_raised_in_a_slot(qtbot):
    emitter = _Emitter()
    emitter.fired.connect(_broken_slot)
    with qtbot.capture_exceptions() as caught:
        emitter.fired.emit()
    assert len(caught) == 1
    kind, value, _ = caught[0]
    assert kind is RuntimeError and str(value) == "broken slot"


def test_a_slot_exception_fails_a_test_in_a_real_run(pytester):
    pytester.makeconftest("import os\nos.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')\n")
    pytester.makeini("[pytest]\nqt_api = pyside6\n")
    pytester.makepyfile(
        """
        from PySide6.QtCore import QTimer

        def test_timer_slot_raises(qtbot):
            def slot():
                raise ValueError("from a timer slot")
            QTimer.singleShot(0, slot)
            qtbot.wait(50)
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ValueError: from a timer slot*"])


def test_the_excepthook_shows_a_dialog_instead_of_dying(qtbot, monkeypatch):
    shown: list[QMessageBox] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda self: shown.append(self) or 0)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    app_module.install_excepthook()
    try:
        raise KeyError("no such panel")
    except KeyError:
        sys.excepthook(*sys.exc_info())
    assert len(shown) == 1
    assert shown[0].text() == "KeyError: 'no such panel'"
    assert "Traceback" in shown[0].detailedText()
