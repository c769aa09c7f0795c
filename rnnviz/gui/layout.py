"""The window's default dock layout, from the panel registry.

Left: the Model panel above the inspector (every other dock that is not a panel tabbed with
it: the editing docks and those of feature modules, hidden until their commands open them but
the sequence table). Then the
registry's "middle" column and its "right" column, top to bottom in registry order, each panel
with its share of the height; a panel with ``tab_with`` is tabbed with that one. Panels not
shown by default start hidden (View → Panels opens them).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar

from rnnviz.gui.panels.registry import PANELS

SIDE_FRACTION = 5  # the left column takes 1/5 of the width (at least SIDE_MIN pixels)
SIDE_MIN = 260
LEFT_SPLIT = (45, 55)  # model / inspector heights


def arrange_default(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """Put every dock where it starts."""
    for dock in docks.values():
        dock.setFloating(False)
        dock.show()
        window.removeDockWidget(dock)
    left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
    window.addDockWidget(left, docks["model"])
    window.splitDockWidget(docks["model"], docks["inspector"], Qt.Orientation.Vertical)
    columns: dict[str, list] = {"middle": [], "right": []}
    for spec in PANELS:
        if spec.tab_with is None and spec.key in docks:
            columns[spec.column].append(spec)
    middle, right_col = columns["middle"], columns["right"]
    window.addDockWidget(right, docks[middle[0].key])
    if right_col:
        window.splitDockWidget(docks[middle[0].key], docks[right_col[0].key],
                               Qt.Orientation.Horizontal)
    for column in (middle, right_col):
        for above, below in zip(column, column[1:], strict=False):
            window.splitDockWidget(docks[above.key], docks[below.key], Qt.Orientation.Vertical)
    for spec in PANELS:
        if spec.tab_with is not None and spec.key in docks:
            window.tabifyDockWidget(docks[spec.tab_with], docks[spec.key])
    known = {"model", "inspector"} | {spec.key for spec in PANELS}
    tools = [key for key in docks if key not in known]  # editing docks, then features' docks
    previous = "inspector"
    for key in tools:
        window.tabifyDockWidget(docks[previous], docks[key])
        previous = key
    for dock in docks.values():
        dock.show()
    for spec in PANELS:
        if not spec.shown and spec.key in docks:
            docks[spec.key].hide()
    for key in tools:
        if key != "table":
            docks[key].hide()  # opened by their commands
    docks["inspector"].raise_()
    for spec in PANELS:
        if spec.tab_with is not None and spec.key in docks:
            docks[spec.tab_with].raise_()

    width, height = window.width(), window.height()
    side = max(SIDE_MIN, width // SIDE_FRACTION)
    tops = [c[0].key for c in (middle, right_col) if c]
    column = (width - side) // max(len(tops), 1)
    window.resizeDocks([docks["model"], *(docks[k] for k in tops)],
                       [side, *([column] * len(tops))], Qt.Orientation.Horizontal)
    for col in (middle, right_col):
        if len(col) > 1:
            total = sum(s.share for s in col)
            window.resizeDocks([docks[s.key] for s in col],
                               [height * s.share // total for s in col], Qt.Orientation.Vertical)
    window.resizeDocks([docks["model"], docks["inspector"]],
                       [height * LEFT_SPLIT[0] // 100, height * LEFT_SPLIT[1] // 100],
                       Qt.Orientation.Vertical)
    _hide_stale_tab_bars(window)


def _hide_stale_tab_bars(window: QMainWindow) -> None:
    """Re-arranging tabbed docks (Reset layout, the headless exporter) can leave the tab bar
    of a dissolved tab group on screen, drawn over the dock now there (seen with Qt 6.10):
    of the window's tab bars showing the same tabs, keep only the newest."""
    window.layout().activate()  # the tab groups get their tab bars now
    seen: set[tuple[str, ...]] = set()
    bars = [b for b in window.findChildren(QTabBar) if b.parent() is window]
    for bar in reversed(bars):  # children are listed oldest first
        if not bar.isVisibleTo(window):
            continue
        tabs = tuple(bar.tabText(i) for i in range(bar.count()))
        if tabs in seen or not tabs:
            bar.hide()
        seen.add(tabs)


def make_room(window: QMainWindow, docks: dict[str, QDockWidget], key: str, plot_widget,
              data_height: int) -> None:
    """Grow panel ``key`` so that its plot's data area gets ``data_height`` pixels, taking the
    room from the tallest other dock of its column (never below half that dock's height).
    Nothing happens when the dock floats or is tabbed or hidden."""
    dock = docks.get(key)
    if (dock is None or dock.isFloating() or not dock.isVisible()
            or window.tabifiedDockWidgets(dock)):
        return
    item = getattr(plot_widget, "input_plot", None)
    vb = item.getViewBox() if item is not None else None
    have = vb.height() if vb is not None else 0.0
    if have <= 0 or have >= data_height:
        return
    x = dock.geometry().x()
    # a tab group gives room as one dock (its front tab is the one visible)
    column = [d for d in docks.values() if d is not dock and d.isVisible() and not d.isFloating()
              and abs(d.geometry().x() - x) < 4]
    if not column:
        return
    donor = max(column, key=lambda d: d.height())
    extra = min(int(data_height - have) + 4, donor.height() // 2)
    if extra > 0:  # every dock of the column named, or Qt shares the change out among them
        sizes = {d: d.height() for d in column}
        sizes[donor] -= extra
        window.resizeDocks([dock, *sizes], [dock.height() + extra, *sizes.values()],
                           Qt.Orientation.Vertical)
