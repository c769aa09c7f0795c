"""Fixtures for the window tests: a fresh window over the sine demo, with settings kept in a
temporary INI file so the user's own settings are never read or written."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from rnnviz.gui.main_window import MainWindow
from rnnviz.gui.theme import LIGHT
from rnnviz.session import Session
from rnnviz.session.demos import load_demo


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "rnnviz.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, settings):
    """Build a shown window over a session (the sine demo by default)."""

    def make(session: Session | None = None, **kwargs) -> MainWindow:
        window = MainWindow(
            session or Session(load_demo("sine")), settings=settings, theme=LIGHT, **kwargs
        )
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        window.redraw_now()
        return window

    return make


@pytest.fixture
def window(make_window) -> MainWindow:
    return make_window()


@pytest.fixture
def menu_entry():
    """menu_entry(window, "file.demos", "vanishing"): the entry of a submenu of the menu bar
    whose text starts with the given text (the submenu filled as when it opens)."""

    def find(window: MainWindow, submenu: str, text: str):
        menu = window.actions[submenu].menu()
        menu.aboutToShow.emit()
        return next(a for a in menu.actions() if a.text().startswith(text))

    return find
