"""A plot's header: a row above its data holding the legend (wrapped into as many lines as the
width needs, only between entries) and a status text on the right (a loss total), so neither
ever covers a curve.

pyqtgraph's own legend floats over the data, and a long one (three layers' gradients) is cut
at the plot's left edge; the header takes the plot's title row instead, grows with the lines
it needs, and repaints without re-laying out the plot when only the status changes.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetricsF, QTextOption
from PySide6.QtWidgets import QGraphicsTextItem

from rnnviz.gui.theme import Theme

FONT_PT = 8.0
PADDING = 2.0  # above and below the text, px
GAP = 12.0  # between the legend and the status, px
SEPARATOR = "&nbsp;&nbsp; "  # between entries


@dataclass
class Entry:
    """One legend entry: a line sample (solid, dashed or a dot for markers) in ``colour``."""

    name: str
    colour: str
    style: str = "solid"  # "solid", "dashed", "marker" or "block" (a filled square)


_GLYPHS = {"solid": "━━", "dashed": "╍╍", "marker": "●", "block": "■"}


class PlotHeader:
    """The header of ``plot`` (a pg.PlotItem): ``set_entries``, ``set_status``, ``set_title``.
    ``lines`` is how many text lines it takes now."""

    def __init__(self, plot: pg.PlotItem, theme: Theme) -> None:
        self.plot = plot
        self.theme = theme
        self.title = ""
        self.entries: list[Entry] = []
        self.extra: list[Entry] = []  # entries of marks that are not lines (after the lines')
        self.status = ""
        self.font = QFont()
        self.font.setPointSizeF(FONT_PT)
        self._legend = QGraphicsTextItem(plot)
        self._status = QGraphicsTextItem(plot)
        for item in (self._legend, self._status):
            item.setFont(self.font)
            item.document().setDocumentMargin(0)
        # The lines are broken by _html, between entries: Qt's own wrapping breaks inside a
        # name (after the "/" of "‖∂L/∂c_t‖"), whatever no-wrap style the entry has.
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.NoWrap)
        self._legend.document().setDefaultTextOption(option)
        self.lines = 0
        self._height = -1.0
        self._width = -1.0
        plot.getViewBox().sigResized.connect(self._place)
        self._refresh()

    # ---- content ---------------------------------------------------------------------------
    def set_entries(self, entries: list[Entry]) -> None:
        """The legend's entries (then :attr:`extra`)."""
        entries = [*entries, *self.extra]
        if entries != self.entries:
            self.entries = entries
            self._refresh()

    def set_status(self, text: str) -> None:
        """The text at the header's right (plain); only this item repaints."""
        if text != self.status:
            self.status = text
            self._status.setPlainText(text)
            self._status.setDefaultTextColor(pg.mkColor(self.theme.foreground))
            self._place()

    def set_title(self, text: str) -> None:
        """Text before the legend entries (plain)."""
        if text != self.title:
            self.title = text
            self._refresh()

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._status.setDefaultTextColor(pg.mkColor(theme.foreground))
        self._refresh()

    def legend_text(self) -> str:
        """The legend as plain text ("━━ x   ╍╍ target"), as shown."""
        return self._legend.toPlainText()

    def shown_lines(self) -> list[str]:
        """The legend's lines as laid out on screen (plain text)."""
        lines = []
        block = self._legend.document().begin()
        while block.isValid():
            text, layout = block.text(), block.layout()
            for k in range(layout.lineCount()):
                line = layout.lineAt(k)
                shown = text[line.textStart():line.textStart() + line.textLength()]
                lines.append(shown.replace("\u2028", "").replace("\u00a0", " ").strip())
            block = block.next()
        return [line for line in lines if line]

    # ---- drawing ---------------------------------------------------------------------------
    def _html(self, width: float) -> str:
        """The legend wrapped to ``width`` pixels: the title word by word, each entry whole
        (one wider than ``width`` takes a line of its own)."""
        fg = self.theme.foreground
        metrics = QFontMetricsF(self.font)
        parts: list[tuple[str, str, str]] = []  # (html, plain text, separator before it)
        for word in self.title.split():
            parts.append((f"<span style='color:{fg}'>{html.escape(word)}</span>", word, " "))
        for e in self.entries:
            glyph = _GLYPHS.get(e.style, _GLYPHS["solid"])
            name = html.escape(e.name).replace(" ", "&nbsp;")
            parts.append((f"<span style='color:{e.colour}'>{glyph}</span>&nbsp;"
                          f"<span style='color:{fg}'>{name}</span>", f"{glyph} {e.name}",
                          SEPARATOR if parts else ""))
        separator_w = {" ": metrics.horizontalAdvance(" "),
                       SEPARATOR: metrics.horizontalAdvance("   ")}
        out, used = [], 0.0
        for markup, plain, separator in parts:
            w = metrics.horizontalAdvance(plain)
            if out and used + separator_w[separator] + w > width:
                out.append("<br>")
                used = w
            else:
                if out:
                    out.append(separator)
                    used += separator_w[separator]
                used += w
            out.append(markup)
        return "".join(out)

    def _refresh(self) -> None:
        self._legend.setHtml(self._html(math.inf))  # one line until placed
        self._width = -1.0
        self._place()

    def _place(self, *_args) -> None:
        vb = self.plot.getViewBox()
        box = vb.geometry()
        left, width = box.left(), box.width()
        if width <= 1:
            return
        status_w = self._status.boundingRect().width() if self.status else 0.0
        legend_w = max(40.0, width - status_w - (GAP if status_w else 0.0))
        if legend_w != self._width:
            self._width = legend_w
            self._legend.setHtml(self._html(legend_w))
        line = QFontMetricsF(self.font).height()
        has_text = bool(self.entries or self.title)
        doc_h = self._legend.document().size().height() if has_text else 0.0
        lines = max(1, round(doc_h / line)) if has_text else (1 if self.status else 0)
        self.lines = lines
        height = lines * line + 2 * PADDING if lines else 0.0
        self._legend.setPos(left, PADDING)
        self._status.setPos(max(left, left + width - status_w), PADDING)
        if height != self._height:
            self._height = height
            title = self.plot.titleLabel
            title.setText("")
            title.setVisible(False)
            self.plot.layout.setRowFixedHeight(0, height)
            self.plot.layout.setRowMinimumHeight(0, height)
            title.setMaximumHeight(height)
            self.plot.layout.activate()  # now, so what is drawn next has the room it needs
            self._fit_view()

    def _fit_view(self) -> None:
        """Give the view's layout the view's size again. A header grown while the plot was
        narrow (the window being laid out) raised the layout's minimum height, which made it
        taller than the view; pyqtgraph fits it to the view only when the view is resized, so
        once the header shrinks the layout stays too tall and its x axis is cut off."""
        view = self.plot.getViewWidget()
        central = getattr(view, "centralWidget", None)
        if central is not None and central.geometry() != view.range:
            central.setGeometry(view.range)
