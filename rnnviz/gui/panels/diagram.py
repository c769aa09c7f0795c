"""The cell diagram: the selected layer's cell (vanilla RNN, LSTM, GRU) drawn as blocks and
arrows at the cursor step, with its equations and the step's numbers plugged in beside it.

Each gate is a block coloured by its value (the mean over the layer's units, or one chosen
unit's); each arrow is as wide as the magnitude of what flows along it. In the backward pass
(reveal mode's backward phase, or "Gradients" switched on) the same diagram shows the gradients
flowing back: blocks coloured by dL/d(value), arrows pointing back, as wide as the gradient's
magnitude relative to the largest ‖dL/dh_t‖ of the run (so vanishing gradients thin out
towards the first step). Hovering a block shows its equation and numbers.

Everything is vector graphics in one QGraphicsScene, shown by ``plot_widget`` (a pyqtgraph
GraphicsView, which the figure exporter renders to PNG, SVG and PDF like every panel's). The
numbers come from :mod:`rnnviz.session.cell_values` and
:mod:`rnnviz.session.cell_equations`; this module only draws them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPolygonItem,
    QGraphicsRectItem,
    QGraphicsTextItem,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from rnnviz.gui.panels.base import Panel
from rnnviz.gui.panels.cell_layouts import Edge, Layout, Node, layout_for
from rnnviz.gui.panels.mathtext import plain, render
from rnnviz.gui.panels.tables import Table
from rnnviz.gui.theme import Theme, colormap
from rnnviz.session import ModelResults, ViewState
from rnnviz.session.cell_equations import Equation, equations, number
from rnnviz.session.cell_values import (
    CellStep,
    arrow_width,
    cell_step,
    gradient_reference,
    level_fraction,
    levels,
)

CELL_TITLES = {"rnn_tanh": "Vanilla RNN (tanh)", "rnn_relu": "Vanilla RNN (ReLU)",
               "lstm": "LSTM", "gru": "GRU"}
MEAN = -1  # the colour-by choice "mean over units"
FONT_PX = 14  # labels in canvas pixels
EQUATION_PX = 16
GAP = 36  # between the diagram and the equations
MARGIN = 12
ARROW_HEAD = 9.0


@dataclass
class _NodeItems:
    node: Node
    shape: QGraphicsItem
    text: QGraphicsTextItem | None


@dataclass
class _EdgeItems:
    edge: Edge
    line: QGraphicsPathItem
    head: QGraphicsPolygonItem
    points: list[QPointF]


class DiagramView(pg.GraphicsView):
    """The panel's view. Scene coordinates are the view's pixels (as pyqtgraph's exporters
    expect); the diagram is drawn on ``canvas``, an item scaled to fit the view with its aspect
    ratio kept. ``resized(w, h)`` lets the panel re-arrange the diagram for the view's shape
    before it is fitted."""

    resized = Signal(float, float)

    def __init__(self, background: str) -> None:
        self.content = QRectF(0, 0, 100, 100)
        self.canvas: QGraphicsRectItem | None = None
        super().__init__(background=background)
        self.setCentralItem(None)
        self.setRenderHints(self.renderHints() | pg.QtGui.QPainter.RenderHint.Antialiasing
                            | pg.QtGui.QPainter.RenderHint.TextAntialiasing)
        self.context_menu = QMenu(self)

    def new_canvas(self) -> QGraphicsRectItem:
        """An empty scene with a fresh canvas item to draw on."""
        self.scene().clear()
        self.canvas = QGraphicsRectItem()
        self.canvas.setPen(QPen(Qt.PenStyle.NoPen))
        self.scene().addItem(self.canvas)
        return self.canvas

    def fit(self, rect: QRectF) -> None:
        """Scale the canvas so that ``rect`` (canvas coordinates) fills the view, centred."""
        self.content = QRectF(rect)
        if self.canvas is None or rect.width() <= 0 or rect.height() <= 0:
            return
        w, h = max(self.width(), 1), max(self.height(), 1)
        scale = min(w / rect.width(), h / rect.height())
        self.canvas.setScale(scale)
        self.canvas.setPos((w - rect.width() * scale) / 2 - rect.left() * scale,
                           (h - rect.height() * scale) / 2 - rect.top() * scale)

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(ev)
        if self.closed or not hasattr(self, "context_menu"):
            return
        self.resized.emit(float(self.width()), float(self.height()))
        self.fit(self.content)

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802 (Qt name)
        if ev.button() == Qt.MouseButton.RightButton and not self.context_menu.isEmpty():
            self.context_menu.popup(ev.globalPosition().toPoint())
            ev.accept()
            return
        super().mouseReleaseEvent(ev)


class _Hovered:
    """A shape item that calls ``on_hover(item)`` when the pointer enters it."""

    def __init__(self, rect: QRectF, on_hover) -> None:
        super().__init__(rect)
        self._on_hover = on_hover
        self.setAcceptHoverEvents(True)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self._on_hover(self)
        super().hoverEnterEvent(event)


class _HoverRect(_Hovered, QGraphicsRectItem):
    pass


class _HoverEllipse(_Hovered, QGraphicsEllipseItem):
    pass


def _luminance(colour: QColor) -> float:
    return 0.2126 * colour.redF() + 0.7152 * colour.greenF() + 0.0722 * colour.blueF()


def _border_point(node: Node, toward: tuple[float, float]) -> QPointF:
    """Where a segment from ``node``'s centre towards ``toward`` (straight across or up/down)
    leaves the node."""
    w, h = node.size
    dx, dy = toward[0] - node.x, toward[1] - node.y
    if node.kind in ("op", "junction"):
        r = w / 2
        length = math.hypot(dx, dy) or 1.0
        return QPointF(node.x + dx / length * r, node.y + dy / length * r)
    if abs(dx) >= abs(dy):
        return QPointF(node.x + math.copysign(w / 2, dx), node.y)
    return QPointF(node.x, node.y + math.copysign(h / 2, dy))


class DiagramPanel(Panel):
    """The cell diagram and its equations. ``unit``: the unit whose numbers the equations show
    (and the blocks, when colouring by unit); ``colour_by_unit``; ``show_gradients`` (the
    backward pass outside reveal mode). ``diagram_state()`` gives what is drawn: per block
    its quantity, value and colour, per arrow its quantity, magnitude and width."""

    key = "diagram"

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        # Replace the base's plot layout with the diagram's own view (what exporters render).
        self._layout.removeWidget(self.plot_widget)
        self.plot_widget.scene().removeItem(self.cursor)  # no time axis: the cursor is the step
        self.plot_widget.deleteLater()
        self.view = DiagramView(theme.background)
        self.plot_widget = self.view
        self.scene = self.view.scene()
        self.canvas: QGraphicsRectItem | None = None
        self.view.resized.connect(self._arrange)

        controls = QWidget()
        # The controls never widen the dock: in a narrow one they are cut off at the right.
        controls.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        bar = QHBoxLayout(controls)
        bar.setContentsMargins(6, 2, 6, 0)
        bar.addWidget(QLabel("Unit"))
        self.unit_spin = QSpinBox()
        self.unit_spin.setRange(0, 0)
        self.unit_spin.setToolTip("The unit whose numbers the equations show")
        bar.addWidget(self.unit_spin)
        bar.addWidget(QLabel("Colour"))
        self.colour_combo = QComboBox()
        self.colour_combo.addItems(["mean of units", "this unit"])
        self.colour_combo.setToolTip("A block's colour: the mean of its values over the layer's "
                                     "units, or the chosen unit's value")
        bar.addWidget(self.colour_combo)
        self.show_combo = QComboBox()
        for text, data in (("diagram + equations", "both"), ("diagram", "diagram"),
                           ("equations", "equations")):
            self.show_combo.addItem(text, data)
        self.show_combo.setToolTip("What the panel shows")
        bar.addWidget(self.show_combo)
        self.gradients_check = QCheckBox("Gradients")
        self.gradients_check.setToolTip("Show the backward pass: ∂L/∂ of every value at the "
                                        "cursor, flowing back (reveal mode's backward sweep "
                                        "shows it too)")
        bar.addWidget(self.gradients_check)
        bar.addStretch(1)
        self._layout.addWidget(controls)
        self._layout.addWidget(self.view, 1)
        for widget in (self.unit_spin, self.colour_combo, self.show_combo,
                       self.gradients_check):
            widget.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.show_combo.currentIndexChanged.connect(lambda _i: self._place_equations())
        self.unit_spin.valueChanged.connect(lambda _v: self._refresh())
        self.colour_combo.currentIndexChanged.connect(lambda _i: self._refresh())
        self.gradients_check.toggled.connect(lambda _b: self._refresh())

        self.layout_spec: Layout | None = None
        self.view_state = ViewState()
        self.step: CellStep | None = None
        self.equation_list: tuple[Equation, ...] = ()
        self.node_items: dict[str, _NodeItems] = {}
        self.edge_items: dict[str, _EdgeItems] = {}
        self.equation_items: list[QGraphicsTextItem] = []
        self.header: QGraphicsTextItem | None = None
        self._levels: dict[str, tuple[float, float]] = {}
        self._grad_ref: dict[int | None, float] = {}
        self._structure: tuple = ()
        self._view_size = (1.0, 1.0)
        self._shown = True
        self._stale = False
        self._state: dict[str, dict] = {}

    # ---- options ---------------------------------------------------------------------------
    @property
    def unit(self) -> int:
        return self.unit_spin.value()

    @property
    def colour_by_unit(self) -> bool:
        return self.colour_combo.currentIndex() == 1

    def set_options(self, unit: int | None = None, colour_by_unit: bool | None = None,
                    show_gradients: bool | None = None, show: str | None = None) -> None:
        """Set the chosen unit (clamped to the layer's), the colouring, the gradients switch
        and what is shown ("both", "diagram", "equations"), redrawing once."""
        widgets = (self.unit_spin, self.colour_combo, self.gradients_check, self.show_combo)
        for w in widgets:
            w.blockSignals(True)
        try:
            if unit is not None:
                self.unit_spin.setValue(int(unit))
            if colour_by_unit is not None:
                self.colour_combo.setCurrentIndex(1 if colour_by_unit else 0)
            if show_gradients is not None:
                self.gradients_check.setChecked(bool(show_gradients))
            if show is not None:
                index = self.show_combo.findData(show)
                if index < 0:
                    raise ValueError(f"show must be both, diagram or equations, not {show!r}")
                self.show_combo.setCurrentIndex(index)
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._refresh()

    @property
    def backward(self) -> bool:
        """Whether the diagram shows the backward pass now."""
        view = self.view_state
        if view.reveal:
            return view.phase == "backward"
        return self.gradients_check.isChecked()

    # ---- Panel interface -------------------------------------------------------------------
    def add_context_action(self, action: QAction) -> None:
        self.context_actions.append(action)
        self.view.context_menu.addAction(action)

    def show_results(self, results: ModelResults, view: ViewState) -> None:
        changed = results is not self.results
        self.results = results
        self.view_state = view
        self._cursor_step = view.step
        cfg = results.config
        layer = min(view.layer, cfg.num_layers - 1)
        if changed or layer != getattr(self, "_levels_layer", None):
            names = ("x", "h", "h_prev", "c", "c_prev", "fc", "ig", "pre", "y", "y_z")
            self._levels = {name: levels(results, layer, name) for name in names}
            self._levels_layer = layer
            self._grad_ref = {}
        readout = cfg.output_size is not None and layer == cfg.num_layers - 1
        structure = (cfg.cell, layer, readout)
        if structure != self._structure:
            self._build(layout_for(cfg.cell, layer, readout))
            self._structure = structure
        if self.unit_spin.maximum() != cfg.hidden_size - 1:  # a new range re-lays out the dock
            self.unit_spin.setMaximum(cfg.hidden_size - 1)
        self._refresh()

    def set_cursor(self, step: int) -> None:
        super().set_cursor(step)
        if self.results is not None and step != self.view_state.step:
            self.view_state = replace(self.view_state, step=step)
            self._refresh()

    def set_shown(self, shown: bool) -> None:
        """Whether the panel can be seen (its dock open and not behind another tab): hidden,
        it skips drawing at every step and catches up when it is shown again."""
        self._shown = shown
        if shown and self._stale:
            self._refresh()

    def follow_view(self, view: ViewState) -> None:
        """The view changed (connected to the session's ``view_changed``): the diagram needs
        the reveal phase as well as the cursor, and the dashboard redraws a panel's data only
        when what it plots changes. Steps are left to :meth:`set_cursor`, once a frame."""
        old = self.view_state
        self.view_state = replace(view, step=old.step)
        if self.results is not None and (old.reveal, old.phase) != (view.reveal, view.phase):
            self._refresh()

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.view.setBackground(theme.background)
        if self.layout_spec is not None:
            self._build(self.layout_spec)
            self._refresh()

    # ---- building --------------------------------------------------------------------------
    def _font(self, px: int, bold: bool = False) -> QFont:
        font = QFont()
        font.setPixelSize(px)
        font.setBold(bold)
        return font

    def _text(self, html: str, px: int = FONT_PX, colour: str | None = None) -> QGraphicsTextItem:
        item = QGraphicsTextItem()
        item.setFont(self._font(px))
        item.setDefaultTextColor(QColor(colour or self.theme.foreground))
        item.setHtml(html)
        item.document().setDocumentMargin(1)
        item.setParentItem(self.canvas)
        return item

    def _build(self, layout: Layout) -> None:
        self.canvas = self.view.new_canvas()
        self.layout_spec = layout
        self.node_items, self.edge_items, self.equation_items = {}, {}, []
        fg = QColor(self.theme.foreground)
        nodes = {n.key: n for n in layout.nodes}
        for edge in layout.edges:
            src, dst = nodes[edge.src], nodes[edge.dst]
            via = [(float(x), float(y)) for x, y in edge.via]
            first = via[0] if via else (dst.x, dst.y)
            last = via[-1] if via else (src.x, src.y)
            points = [_border_point(src, first), *(QPointF(x, y) for x, y in via),
                      _border_point(dst, last)]
            line = QGraphicsPathItem()
            line.setZValue(1)
            head = QGraphicsPolygonItem()
            head.setZValue(2)
            line.setParentItem(self.canvas)
            head.setParentItem(self.canvas)
            self.edge_items[edge.key] = _EdgeItems(edge, line, head, points)
        for node in layout.nodes:
            w, h = node.size
            rect = QRectF(node.x - w / 2, node.y - h / 2, w, h)
            if node.kind in ("op", "junction"):
                shape: QGraphicsItem = _HoverEllipse(rect, self._hovered)
            else:
                shape = _HoverRect(rect, self._hovered)
            shape.setData(0, node.key)
            shape.setZValue(3)
            shape.setPen(QPen(fg, 1.2))
            shape.setParentItem(self.canvas)
            text = None
            if node.kind != "junction":
                text = self._text("")
                text.setZValue(4)
                text.setAcceptHoverEvents(False)
                text.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            self.node_items[node.key] = _NodeItems(node, shape, text)
        self.header = self._text("", FONT_PX + 1)
        self.header.setPos(0, -34)
        self._arrange(float(self.view.width()), float(self.view.height()))

    def _arrange(self, width: float, height: float) -> None:
        """Lay the diagram and the equations out for a view of ``width`` x ``height``."""
        self._view_size = (max(width, 1.0), max(height, 1.0))
        self._place_equations()

    def _place_equations(self) -> None:
        """Show what ``show`` asks for; with both, the equations go beside the diagram or
        under it, whichever lets the view draw everything larger."""
        layout = self.layout_spec
        if layout is None:
            return
        show = self.show_combo.currentData()
        diagram_on, equations_on = show in ("both", "diagram"), show in ("both", "equations")
        for items in self.node_items.values():
            items.shape.setVisible(diagram_on)
            if items.text is not None:
                items.text.setVisible(diagram_on)
        for items in self.edge_items.values():
            items.line.setVisible(diagram_on)
            items.head.setVisible(diagram_on)
        if self.header is not None:
            self.header.setVisible(diagram_on)
        for item in self.equation_items:
            item.setVisible(equations_on)
        diagram = QRectF(0, -36, layout.width, layout.height + 36)
        if self.header is not None:
            diagram = diagram.united(self.header.mapRectToParent(self.header.boundingRect()))
        eq_w = max((i.boundingRect().width() for i in self.equation_items), default=0.0)
        eq_h = sum(i.boundingRect().height() + 6 for i in self.equation_items)
        view_w, view_h = getattr(self, "_view_size", (1.0, 1.0))

        def scale(box: QRectF) -> float:
            return min(view_w / (box.width() + 2 * MARGIN), view_h / (box.height() + 2 * MARGIN))

        if not diagram_on:
            origin, box = QPointF(0, 0), QRectF(0, 0, eq_w, eq_h)
        else:
            beside = QPointF(diagram.right() + GAP, 0.0)
            below = QPointF(0.0, diagram.bottom() + GAP)
            options = [(diagram.united(QRectF(o, QSizeF(eq_w, eq_h))), o)
                       for o in (beside, below)] if equations_on else [(diagram, beside)]
            box, origin = max(options, key=lambda option: scale(option[0]))
        y = origin.y()
        for item in self.equation_items:
            item.setPos(origin.x(), y)
            y += item.boundingRect().height() + 6
        self.view.fit(box.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN))

    # ---- drawing ---------------------------------------------------------------------------
    def _refresh(self) -> None:
        results = self.results
        if results is None or self.layout_spec is None:
            return
        if not self._shown:
            self._stale = True
            return
        self._stale = False
        view = self.view_state
        layer = min(view.layer, results.config.num_layers - 1)
        step_index = min(max(view.step, 0), results.steps - 1)
        self.step = cell_step(results, layer, step_index)
        unit = min(self.unit, results.config.hidden_size - 1)
        self.equation_list = equations(self.step, unit, self._output_index())
        backward = self.backward
        colour_unit = unit if self.colour_by_unit else None
        if backward and colour_unit not in self._grad_ref:
            self._grad_ref[colour_unit] = gradient_reference(results, layer, colour_unit)
        reference = self._grad_ref.get(colour_unit, 1.0)
        self._state = {}
        for items in self.node_items.values():
            self._draw_node(items, colour_unit, backward, reference)
        for items in self.edge_items.values():
            self._draw_edge(items, colour_unit, backward, reference)
        self._draw_header(layer, step_index, unit, backward)
        self._draw_equations(unit)
        self._tables = {f"diagram_layer{layer}_step{step_index}": self._diagram_table,
                        f"equations_layer{layer}_step{step_index}": self._equations_table}

    def _output_index(self) -> int:
        step = self.step
        if step is None or step.readout is None:
            return 0
        if step.readout.activation == "softmax":
            return int(np.nanargmax(step.readout.y)) if np.isfinite(step.readout.y).any() else 0
        return 0

    def _colour(self, name: str, value: float, backward: bool, reference: float) -> QColor:
        if backward:
            lo, hi = -reference, reference
            cmap = self.theme.diverging
        else:
            lo, hi = self._levels.get(name) or levels(self.results, self.step.layer, name)
            cmap = self.theme.sequential if lo == 0.0 and hi == 1.0 else self.theme.diverging
        if not math.isfinite(value):
            return QColor(self.theme.alarm)
        fraction = level_fraction(value, lo, hi)
        rgba = colormap(cmap).map(np.array([fraction]), mode="byte")[0]
        return QColor(int(rgba[0]), int(rgba[1]), int(rgba[2]))

    def _draw_node(self, items: _NodeItems, unit: int | None, backward: bool,
                   reference: float) -> None:
        node, step = items.node, self.step
        out = self._output_index()
        name = node.value
        known = name is not None and name in step.values
        if known and backward:
            grad_name = _grad_name(node)
            value = step.gradient(grad_name, unit, out)
        elif known:
            value = step.value(name, unit, out)
        else:
            value = math.nan
        state = {"kind": node.kind, "quantity": name, "value": value, "colour": None}
        fg = QColor(self.theme.foreground)
        if node.kind in ("gate", "port") and known:
            fill = self._colour(name, value, backward, reference)
            items.shape.setBrush(QBrush(fill))
            state["colour"] = fill.name()
            text_colour = "#000000" if _luminance(fill) > 0.5 else "#ffffff"
        elif node.kind == "junction":
            items.shape.setBrush(QBrush(fg))
            text_colour = self.theme.foreground
        else:
            items.shape.setBrush(QBrush(QColor(self.theme.background)))
            text_colour = self.theme.foreground
        self._state[node.key] = state
        if items.text is not None:
            shown = number(value, 2) if known and math.isfinite(value) else ""
            if known and not math.isfinite(value):
                shown = "NaN" if math.isnan(value) else number(value)
            items.text.setDefaultTextColor(QColor(text_colour))
            if node.kind == "op":
                html = f"<b>{node.symbol}</b>"
                items.text.setFont(self._font(FONT_PX + 3))
            else:
                lines = [node.symbol] if node.kind == "gate" else []
                if node.label:
                    lines.append(render(node.label))
                lines.append(f"<span style='font-size:{FONT_PX - 1}px'>{render(shown)}</span>")
                html = f"<div align='center'>{'<br>'.join(lines)}</div>"
            items.text.setHtml(html)
            w, _ = node.size
            # a little wider than the block: long numbers (1.2×10^-5) stay on one line
            items.text.setTextWidth(w + 18 if node.kind != "op" else -1)
            rect = items.text.boundingRect()
            items.text.setPos(node.x - rect.width() / 2, node.y - rect.height() / 2)

    def _draw_edge(self, items: _EdgeItems, unit: int | None, backward: bool,
                   reference: float) -> None:
        edge, step = items.edge, self.step
        out = self._output_index()
        if backward:
            magnitude = step.gradient_magnitude(edge.grad, unit, out)
            width = arrow_width(magnitude, reference)
            colour = QColor(self.theme.lines[1])
        else:
            magnitude = step.magnitude(edge.value, unit, out) if edge.value in step.values \
                else math.nan
            width = arrow_width(magnitude)
            colour = QColor(self.theme.foreground)
        self._state[edge.key] = {"kind": "arrow", "quantity": edge.grad if backward
                                 else edge.value, "magnitude": magnitude, "width": width}
        points = items.points if not backward else list(reversed(items.points))
        end, before = points[-1], points[-2]
        direction = QPointF(end.x() - before.x(), end.y() - before.y())
        length = math.hypot(direction.x(), direction.y()) or 1.0
        ux, uy = direction.x() / length, direction.y() / length
        head = ARROW_HEAD + width * 0.6
        base = QPointF(end.x() - ux * head, end.y() - uy * head)
        path = QPainterPath(points[0])
        for p in points[1:-1]:
            path.lineTo(p)
        path.lineTo(base)
        pen = QPen(colour, width)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        items.line.setPen(pen)
        items.line.setPath(path)
        half = head * 0.55
        items.head.setPolygon(QPolygonF([
            end, QPointF(base.x() - uy * half, base.y() + ux * half),
            QPointF(base.x() + uy * half, base.y() - ux * half)]))
        items.head.setBrush(QBrush(colour))
        items.head.setPen(QPen(Qt.PenStyle.NoPen))
        what = edge.grad if backward else edge.value
        items.line.setToolTip(f"{'∂L/∂ ' if backward else ''}{what}: |·| = "
                              f"{plain(number(magnitude))}")

    def _draw_header(self, layer: int, step: int, unit: int, backward: bool) -> None:
        if self.header is None:
            return
        results = self.results
        cfg = results.config
        colour = f"unit {unit}" if self.colour_by_unit else "mean over units"
        pass_text = ("backward pass: ∂L/∂ of each value (arrows point back)" if backward
                     else "forward pass")
        label = results.sequence.labels[step] if results.sequence.labels else None
        at = f"step t = {step}" + (f" ('{label}')" if label is not None else "")
        layer_text = f", layer {layer}" if cfg.num_layers > 1 else ""
        self.header.setHtml(f"<b>{CELL_TITLES[cfg.cell]}</b>{layer_text} — {at} — "
                            f"colours: {colour} — {pass_text}")

    def _draw_equations(self, unit: int) -> None:
        eqs = self.equation_list
        while len(self.equation_items) < len(eqs) + 1:
            self.equation_items.append(self._text("", EQUATION_PX))
        while len(self.equation_items) > len(eqs) + 1:
            self.scene.removeItem(self.equation_items.pop())  # takes it off the canvas
        numbers = self.theme.lines[0]
        out = self._output_index()
        title = f"Equations — numbers of unit {unit} at step {self.step.step}"
        if self.step.readout is not None and self.step.readout.z.shape[0] > 1:
            title += f", output {out}"
        self.equation_items[0].setHtml(f"<b>{title}</b>")
        for item, eq in zip(self.equation_items[1:], eqs, strict=True):
            item.setHtml(f"{render(eq.symbolic)}<br><span style='color:{numbers}'>"
                         f"&nbsp;&nbsp;&nbsp;{render(eq.numeric)}</span>")
            item.setToolTip(plain(eq.caption))
        self._place_equations()

    # ---- hover -----------------------------------------------------------------------------
    def _tooltip(self, node: Node, unit: int | None) -> str:
        step = self.step
        lines = []
        eq = next((e for e in self.equation_list if e.name == node.equation), None)
        if eq is not None:
            lines.append(render(eq.symbolic))
            lines.append(f"&nbsp;&nbsp;{render(eq.numeric)}")
        name = node.value
        if name is not None and name in step.values:
            u = self.unit
            mean = step.value(name, None, self._output_index())
            lines.append(f"{render(node.label) if node.label else name}: mean "
                         f"{render(number(mean))}, unit {u}: "
                         f"{render(number(step.value(name, u, self._output_index())))}")
            grad = step.gradient(_grad_name(node), u, self._output_index())
            if math.isfinite(grad):
                lines.append(f"∂L/∂ at unit {u}: {render(number(grad))}")
        return "<br>".join(lines)

    def _hovered(self, shape: QGraphicsItem) -> None:
        """The pointer entered a block: its tool tip (made now, not at every step) and the
        status-bar line."""
        key = shape.data(0)
        node = self.node_items[key].node if key in self.node_items else None
        if node is None or self.step is None:
            return
        shape.setToolTip(self._tooltip(node, self.unit if self.colour_by_unit else None))
        eq = next((e for e in self.equation_list if e.name == node.equation), None)
        if eq is not None:
            self.hovered.emit(f"{plain(eq.symbolic)}  {plain(eq.numeric)}")
        elif node.value in self.step.values:
            self.hovered.emit(f"{plain(node.label)} = "
                              f"{plain(number(self.step.value(node.value, self.unit)))}")

    # ---- what is drawn ---------------------------------------------------------------------
    def diagram_state(self) -> dict[str, dict]:
        """key -> what is drawn: blocks {"kind", "quantity", "value", "colour" (#rrggbb or
        None)}, arrows {"kind": "arrow", "quantity", "magnitude", "width"}."""
        return {k: dict(v) for k, v in self._state.items()}

    def _diagram_table(self) -> Table:
        headers = ["item", "kind", "quantity", "value", "colour", "magnitude", "width"]
        rows = []
        for key, s in self._state.items():
            rows.append([key, s["kind"], s["quantity"] or "", s.get("value", ""),
                         s.get("colour") or "", s.get("magnitude", ""), s.get("width", "")])
        return headers, np.array(rows, dtype=object).reshape(len(rows), len(headers))

    def _equations_table(self) -> Table:
        headers = ["equation", "with the numbers", "result"]
        rows = [[plain(e.symbolic), plain(e.numeric), e.result] for e in self.equation_list]
        return headers, np.array(rows, dtype=object).reshape(len(rows), len(headers))

    def equations_text(self) -> list[tuple[str, str]]:
        """(equation, numbers) as plain text, as shown."""
        return [(plain(e.symbolic), plain(e.numeric)) for e in self.equation_list]


def _grad_name(node: Node) -> str:
    """The gradient a block shows in the backward pass: dL/d of its value."""
    if node.value == "y":
        return "z_out"
    if node.value == "y_z":
        return "z_out"
    return node.value or ""
