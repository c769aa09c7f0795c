"""State space: the hidden trajectory in its top principal components, with the fixed points of
the update map drawn by stability.

The trajectory is coloured by time (the colour bar), the cursor step is a dot that moves when
stepping or playing. Fixed points (Analysis → Find fixed points, or Find here; computed in the
background) are drawn stable filled, saddles hollow, unstable points as hollow diamonds, slow
points as small crosses, with short lines along their unstable directions; the readout's
directions are arrows from the trajectory's centre. Hover a fixed point for its q and leading
eigenvalues. With "PC1–PC3 too" a second projection sits under the first (no OpenGL).

Several models: "selected model" follows the dashboard's model; "every model" draws one plot
per model side by side, each in its own principal components — different sizes and cells
share no coordinates, so one plot cannot hold them honestly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from rnnviz.gui.panels.analysis_base import AnalysisPanel, elastic, note_item, shrinkable
from rnnviz.gui.panels.tables import Table
from rnnviz.gui.theme import Theme, colormap
from rnnviz.session import ModelResults
from rnnviz.session.analysis import (
    Failure,
    FixedPointMarks,
    FixedPointsView,
    StateSpace,
    describe_point,
    fixed_point_marks,
    request,
    state_spaces,
    x_star_for,
)

TOLERANCES = (1e-6, 1e-8, 1e-10, 1e-12, 1e-14)
DEFAULT_TOL = 1e-12
LINE_FRACTION = 0.08  # unstable-direction lines: this share of the trajectory's extent a side
ARROW_FRACTION = 0.45  # readout arrows: this share of the trajectory's extent, in the plane
HOVER_PIXELS = 10
TIME_COLOURS = 64  # the trajectory's colours by time, in this many steps of the colormap
KIND_CODES = {"stable": 0, "saddle": 1, "unstable": 2}
X_STAR_LABELS = (("zero", "0"), ("mean", "mean input"), ("cursor", "input at the cursor"))


@dataclass
class _Projection:
    """One plot: a model's trajectory in components (a, b) with its marks."""

    plot: pg.PlotItem
    dims: tuple[int, int]
    path: pg.PlotDataItem
    points: pg.ScatterPlotItem
    cursor: pg.ScatterPlotItem
    stable: pg.ScatterPlotItem
    saddle: pg.ScatterPlotItem
    unstable: pg.ScatterPlotItem
    slow: pg.ScatterPlotItem
    lines: pg.PlotDataItem
    hover: pg.TextItem
    note: pg.TextItem
    arrows: list = field(default_factory=list)
    marks: FixedPointMarks | None = None


class StateSpacePanel(AnalysisPanel):
    """PCA of the trajectory, the cursor, fixed points and readout directions."""

    key = "state_space"

    def __init__(self, theme: Theme, parent=None) -> None:
        super().__init__(theme, parent)
        bar = self.control_bar()
        bar.addWidget(QLabel("Space"))
        self.space_combo = QComboBox()
        self.space_combo.setToolTip("Which coordinates the principal components are taken of")
        self.space_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        bar.addWidget(self.space_combo)
        self.models_combo = QComboBox()
        self.models_combo.addItem("selected model", "selected")
        self.models_combo.addItem("every model", "all")
        self.models_combo.setToolTip("One plot for the dashboard's model, or one per model")
        self.models_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        bar.addWidget(self.models_combo)
        self.third = QCheckBox("PC1–PC3 too")
        self.third.setToolTip("A second projection, onto the first and third components")
        self.third.toggled.connect(lambda _on: self.refresh())
        bar.addWidget(self.third)
        self.counts = QLabel("")
        self.counts.setToolTip("What the fixed-point search found for the first plot's model")
        bar.addWidget(elastic(self.counts), 1)
        fixed = self.control_bar()
        self._layout.removeItem(fixed)
        self._layout.insertLayout(1, fixed)
        fixed.addWidget(QLabel("Fixed points, x*"))
        self.x_star_combo = QComboBox()
        for mode, label in X_STAR_LABELS:
            self.x_star_combo.addItem(label, mode)
        self.x_star_combo.setToolTip("The constant input x* of the update map F(s, x*)")
        self.x_star_combo.currentIndexChanged.connect(lambda _i: self._settings_changed())
        fixed.addWidget(self.x_star_combo)
        self.find_button = QPushButton("Find")
        self.find_button.setToolTip("Search for fixed and slow points (in the background)")
        self.find_button.clicked.connect(self.find_fixed_points)
        fixed.addWidget(self.find_button)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Stop searching and take the fixed points off the plot")
        self.clear_button.clicked.connect(self.clear_fixed_points)
        fixed.addWidget(self.clear_button)
        fixed.addWidget(self._search_settings())
        fixed.addStretch(1)
        for combo in (self.space_combo, self.x_star_combo, self.tol_combo):
            shrinkable(combo)
        shrinkable(self.models_combo, 11)

        self.armed = False  # fixed points were asked for: keep them up to date
        self.projections: list[list[_Projection]] = []  # per model shown, 1 or 2 plots
        self._structure: tuple = ()
        self._spaces: tuple = ()
        self.time_bar: pg.ColorBarItem | None = None
        self._shown_results: list[ModelResults] = []
        self._dirty: set[int] = set()
        self._structure = (1, False)
        self._rebuild(1, False)

    # ---- settings --------------------------------------------------------------------------
    def _search_settings(self) -> QToolButton:
        """A "Search…" button opening the search's settings: starts, noise, tolerance."""
        form = QWidget()
        grid = QFormLayout(form)
        grid.setContentsMargins(8, 6, 8, 6)
        self.starts_spin = QSpinBox()
        self.starts_spin.setRange(1, 1024)
        self.starts_spin.setValue(64)
        self.starts_spin.setToolTip("How many states of the trajectory the search starts from")
        self.starts_spin.valueChanged.connect(lambda _v: self._settings_changed())
        grid.addRow("starts", self.starts_spin)
        self.noise_spin = QDoubleSpinBox()
        self.noise_spin.setDecimals(3)
        self.noise_spin.setRange(0.0, 10.0)
        self.noise_spin.setSingleStep(0.05)
        self.noise_spin.setToolTip("Gaussian noise added to the starting states, to find "
                                   "points the trajectory does not pass near")
        self.noise_spin.valueChanged.connect(lambda _v: self._settings_changed())
        grid.addRow("noise on the starts", self.noise_spin)
        self.tol_combo = QComboBox()
        for tol in TOLERANCES:
            self.tol_combo.addItem(f"{tol:g}", tol)
        self.tol_combo.setCurrentIndex(TOLERANCES.index(DEFAULT_TOL))
        self.tol_combo.setToolTip("q = ½‖F(s) − s‖² below this is a fixed point; up to 1e-4 "
                                  "a slow point")
        self.tol_combo.currentIndexChanged.connect(lambda _i: self._settings_changed())
        grid.addRow("fixed when q <", self.tol_combo)
        menu = QMenu(self)
        action = QWidgetAction(menu)
        action.setDefaultWidget(form)
        menu.addAction(action)
        button = QToolButton()
        button.setText("Settings")
        button.setToolTip("Starts, noise and tolerance of the fixed-point search")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setMenu(menu)
        self.settings_button = button
        return button

    @property
    def space(self) -> str:
        return self.space_combo.currentData() or ""

    @property
    def all_models(self) -> bool:
        return self.models_combo.currentData() == "all"

    def fixed_settings(self) -> dict:
        """x* mode, starts, tolerance and noise as chosen."""
        return {"x_star": self.x_star_combo.currentData(), "starts": self.starts_spin.value(),
                "tol": float(self.tol_combo.currentData()),
                "noise": float(self.noise_spin.value())}

    def find_fixed_points(self) -> None:
        """Search for fixed points with the chosen settings (and again after every change)."""
        self.armed = True
        if self.controller is not None:
            self.controller.resume([r for r in self._fixed_requests() if r is not None])
        self.refresh()

    def clear_fixed_points(self) -> None:
        self.armed = False
        self.refresh()

    def _settings_changed(self) -> None:
        if self.armed:
            self.refresh()

    # ---- values ----------------------------------------------------------------------------
    def shown_results(self) -> list[ModelResults]:
        """The results drawn: the selected model's, or every model's."""
        if self.results is None:
            return []
        if self.all_models and self.controller is not None:
            last = self.controller.window.session.last_results
            if last is not None and any(m is self.results for m in last.models):
                return list(last.models)
        return [self.results]

    def _space_for(self, results: ModelResults) -> str:
        keys = [k for k, _ in state_spaces(results.config)]
        return self.space if self.space in keys else keys[-1 if len(keys) == 1 else 0]

    def _fixed_request(self, results: ModelResults):
        if not self.armed:
            return None
        s = self.fixed_settings()
        x = x_star_for(results, s["x_star"], self.step)
        return request(results, "fixed_points", x_star=s["x_star"], value=tuple(x),
                       starts=s["starts"], tol=s["tol"], noise=s["noise"])

    def _fixed_requests(self) -> list:
        return [self._fixed_request(r) for r in self.shown_results()]

    def show_results(self, results, view) -> None:
        spaces = state_spaces(results.config)
        if spaces != self._spaces:
            self._spaces = spaces
            keep = self.space
            self.space_combo.blockSignals(True)
            self.space_combo.clear()
            for key, label in spaces:
                self.space_combo.addItem(label, key)
            top = f"h{results.config.num_layers - 1}"
            index = self.space_combo.findData(keep)
            self.space_combo.setCurrentIndex(index if index >= 0
                                             else self.space_combo.findData(top))
            self.space_combo.blockSignals(False)
        self._dirty.update(range(len(self.projections)))  # reveal trims the trajectory
        super().show_results(results, view)

    def requests(self, results, view, step):
        shown = self.shown_results()
        self._shown_results = shown
        out = {}
        for i, r in enumerate(shown):
            out[f"space{i}"] = request(r, "state_space", space=self._space_for(r))
            out[f"fixed{i}"] = self._fixed_request(r)
        return out

    # ---- plots -----------------------------------------------------------------------------
    def _rebuild(self, models: int, third: bool) -> None:
        for row in self.projections:
            for proj in row:
                self.plot_widget.removeItem(proj.plot)
                self._own_plots.remove(proj.plot)
        if self.time_bar is not None:
            self.plot_widget.removeItem(self.time_bar)
        self.projections = []
        for m in range(models):
            row = [self._projection(0, m, (0, 1))]
            if third:
                row.append(self._projection(1, m, (0, 2)))
            self.projections.append(row)
        cmap = colormap(self.theme.sequential)
        self.time_bar = pg.ColorBarItem(values=(0, 1), colorMap=cmap, interactive=False,
                                        width=12, label="step")
        self.plot_widget.addItem(self.time_bar, row=0, col=models, rowspan=2 if third else 1)

    def _projection(self, row: int, col: int, dims: tuple[int, int]) -> _Projection:
        plot = self.add_plot(row, col)
        # equal axes: distances, the unstable directions and the readout keep their geometry
        plot.setAspectLocked(True)
        plot.showGrid(x=True, y=True, alpha=self.theme.grid_alpha)
        path = plot.plot()
        points = pg.ScatterPlotItem(size=4, pen=pg.mkPen(None))
        plot.addItem(points)
        cursor = pg.ScatterPlotItem(size=12)
        cursor.setZValue(30)
        plot.addItem(cursor)
        lines = plot.plot(connect="pairs")
        lines.setZValue(18)
        marks = {}
        for kind, symbol, size in (("stable", "o", 11), ("saddle", "o", 11),
                                   ("unstable", "d", 12), ("slow", "x", 8)):
            item = pg.ScatterPlotItem(symbol=symbol, size=size)
            item.setZValue(20)
            plot.addItem(item)
            marks[kind] = item
        hover = pg.TextItem("", anchor=(0, 1))
        hover.setZValue(40)
        hover.hide()
        plot.addItem(hover, ignoreBounds=True)
        proj = _Projection(plot, dims, path, points, cursor, marks["stable"], marks["saddle"],
                           marks["unstable"], marks["slow"], lines, hover,
                           note_item(plot, self.theme))
        self._style_projection(proj)
        return proj

    def _style_projection(self, proj: _Projection) -> None:
        theme = self.theme
        fg = theme.foreground
        proj.path.setPen(pg.mkPen(theme.target + "90", width=1))
        proj.cursor.setPen(pg.mkPen(fg, width=1))
        proj.cursor.setBrush(pg.mkBrush(theme.cursor))
        proj.stable.setPen(pg.mkPen(fg, width=1.5))
        proj.stable.setBrush(pg.mkBrush(fg))
        proj.saddle.setPen(pg.mkPen(fg, width=2))
        proj.saddle.setBrush(pg.mkBrush(theme.background))
        proj.unstable.setPen(pg.mkPen(theme.alarm, width=2))
        proj.unstable.setBrush(pg.mkBrush(theme.background))
        proj.slow.setPen(pg.mkPen(fg, width=1.5))
        proj.slow.setBrush(pg.mkBrush(fg))
        proj.lines.setPen(pg.mkPen(theme.alarm, width=2))
        proj.hover.setColor(fg)
        proj.hover.fill = pg.mkBrush(theme.background + "e0")
        proj.note.setColor(fg)
        proj.plot.showGrid(x=True, y=True, alpha=theme.grid_alpha)

    def _ensure_structure(self) -> bool:
        """Lay the plots out for the models shown (True when rebuilt)."""
        models = max(1, len(self._shown_results))
        spaces = [self.values.get(f"space{i}") for i in range(models)]
        comps = min((v.projected.shape[1] for v in spaces if isinstance(v, StateSpace)),
                    default=2)
        third = self.third.isChecked() and comps >= 3
        self.third.setEnabled(comps >= 3)
        if (models, third) == self._structure:
            return False
        self._structure = (models, third)
        self._rebuild(models, third)
        return True

    def draw_part(self, name: str, value) -> None:
        self._dirty.add(int(name[len("space"):]))  # "space<i>" or "fixed<i>"

    def refresh(self, live: bool = True) -> None:
        super().refresh(live)
        if not self.active:
            return
        if self._ensure_structure():
            self._dirty.update(range(len(self.projections)))
        dirty, self._dirty = self._dirty, set()
        for index in sorted(dirty):
            if index < len(self.projections):
                self._draw_model(index)
        if dirty:
            self._make_tables()
            self.draw_cursor(self.step)

    def _draw_model(self, index: int) -> None:
        space = self.values.get(f"space{index}")
        fixed = self.values.get(f"fixed{index}")
        results = self._shown_results[index] if index < len(self._shown_results) else None
        for proj in self.projections[index]:
            a, b = proj.dims
            if not isinstance(space, StateSpace):
                self._draw_readout(proj, None, a, b)
                for item in (proj.path, proj.lines):
                    item.setData([], [])
                for item in (proj.points, proj.cursor, proj.stable, proj.saddle,
                             proj.unstable, proj.slow):
                    item.setData([], [])
                proj.note.setText(space.message if isinstance(space, Failure) else "")
                proj.note.setVisible(isinstance(space, Failure))
                continue
            proj.note.hide()
            steps = space.projected.shape[0]
            shown = self.view.visible_states(steps) if self.view is not None else steps
            xy = space.projected[:shown]
            b = min(b, space.projected.shape[1] - 1)
            proj.path.setData(xy[:, a], xy[:, b])
            brushes = self._time_brushes()
            bins = np.round(np.arange(shown) / max(steps - 1, 1) * (TIME_COLOURS - 1))
            proj.points.setData(xy[:, a], xy[:, b],
                                brush=[brushes[int(k)] for k in bins])
            ratio = space.pca.explained_variance_ratio
            proj.plot.setLabel("bottom", f"PC{a + 1} ({ratio[a]:.0%})")
            proj.plot.setLabel("left", f"PC{b + 1} ({ratio[b]:.0%})" if b < ratio.size
                               else f"PC{b + 1}")
            self._draw_fixed(proj, space, fixed, a, b)
            self._draw_readout(proj, space, a, b)
            if results is not None:
                name = results.model.name
                title = f"{name}: {dict(state_spaces(results.config))[space.space]}"
                self.set_title(proj.plot, title if proj.dims == (0, 1) else "")
        if self.time_bar is not None and isinstance(space, StateSpace):
            self.time_bar.setLevels((0, max(space.projected.shape[0] - 1, 1)))
        self._show_counts()

    def _time_brushes(self) -> list:
        """TIME_COLOURS brushes along the sequential colormap (few distinct brushes: the
        scatter renders each once, not once a point)."""
        key = self.theme.sequential
        if getattr(self, "_brushes_for", None) != key:
            colours = colormap(key).map(np.linspace(0.0, 1.0, TIME_COLOURS), mode="byte")
            self._brushes = [pg.mkBrush(*c) for c in colours]
            self._brushes_for = key
        return self._brushes

    def _draw_fixed(self, proj: _Projection, space: StateSpace, fixed, a: int,
                    b: int) -> None:
        proj.marks = None
        for item in (proj.stable, proj.saddle, proj.unstable, proj.slow):
            item.setData([], [])
        proj.lines.setData([], [])
        if not isinstance(fixed, FixedPointsView):
            return
        points = space.project_states(fixed.found.states()) if fixed.found.points else None
        every = space.projected if points is None else np.vstack([space.projected, points])
        extent = float(np.max(np.ptp(every[:, [a, b]], axis=0))) or 1.0
        marks = fixed_point_marks(space, fixed, LINE_FRACTION * extent)
        proj.marks = marks
        kinds = np.array(marks.kinds)
        for kind, item in (("stable", proj.stable), ("saddle", proj.saddle),
                           ("unstable", proj.unstable)):
            keep = (kinds == kind) & ~marks.slow if kinds.size else np.zeros(0, bool)
            item.setData(marks.coords[keep, a], marks.coords[keep, b])
        if marks.slow.any():
            proj.slow.setData(marks.coords[marks.slow, a], marks.coords[marks.slow, b])
        if marks.lines.size:
            seg = marks.lines[:, :, [a, b]].reshape(-1, 2)
            proj.lines.setData(seg[:, 0], seg[:, 1])

    def _draw_readout(self, proj: _Projection, space: StateSpace | None, a: int,
                      b: int) -> None:
        """Arrows along the readout's directions (items reused from draw to draw)."""
        directions = [] if space is None or space.readout is None else space.readout
        colour = self.theme.lines[3]
        while len(proj.arrows) < len(directions):
            line = pg.PlotDataItem([], [])
            head = pg.ArrowItem(headLen=10, tailLen=0)
            label = pg.TextItem("", anchor=(0, 1))
            for item in (line, head, label):
                proj.plot.addItem(item, ignoreBounds=True)
            proj.arrows.append((line, head, label))
        for line, head, label in proj.arrows[len(directions):]:
            for item in (line, head, label):
                item.hide()
        if not len(directions):
            return
        extent = float(np.max(np.ptp(space.projected[:, [a, b]], axis=0))) or 1.0
        for o, (d, (line, head, label)) in enumerate(zip(directions, proj.arrows,
                                                         strict=False)):
            # a unit direction lying in this plane is ARROW_FRACTION of the trajectory's
            # extent long; one across the plane shorter (its share is in the label)
            planar = np.array([d[a], d[b]])
            tip = planar * ARROW_FRACTION * extent
            line.setData([0.0, tip[0]], [0.0, tip[1]])
            line.setPen(pg.mkPen(colour, width=2))
            angle = float(np.degrees(np.arctan2(-tip[1], -tip[0]))) if np.any(tip) else 0.0
            head.setStyle(angle=angle, pen=pg.mkPen(colour), brush=pg.mkBrush(colour))
            head.setPos(tip[0], tip[1])
            name = f"y{o}" if len(directions) > 1 else "readout"
            label.setText(f"{name} ({np.hypot(*planar):.0%} in plane)")
            label.setColor(colour)
            label.setPos(tip[0], tip[1])
            for item in (line, head, label):
                item.show()

    def _show_counts(self) -> None:
        if not self.armed:
            self.counts.setText("")
            return
        fixed = self.values.get("fixed0")
        if isinstance(fixed, Failure):
            self.counts.setText(fixed.message)
            return
        if not isinstance(fixed, FixedPointsView):
            self.counts.setText("searching…")
            return
        found = fixed.found
        parts = [f"{found.count(k)} {k}" for k in ("stable", "saddle", "unstable")
                 if found.count(k)] or ["none found"]
        slow = len(found.slow)
        text = ", ".join(parts) + (f"; {slow} slow" if slow else "")
        self.counts.setText(text)
        self.counts.setToolTip(f"Fixed points of the first plot's model: {text}")

    def draw_cursor(self, step: int) -> None:
        for index, row in enumerate(self.projections):
            space = self.values.get(f"space{index}")
            for proj in row:
                if not isinstance(space, StateSpace):
                    proj.cursor.setData([], [])
                    continue
                t = min(step, space.projected.shape[0] - 1)
                a, b = proj.dims
                b = min(b, space.projected.shape[1] - 1)
                point = space.projected[t]
                proj.cursor.setData([point[a]], [point[b]])

    # ---- hover -----------------------------------------------------------------------------
    def _on_mouse_moved(self, pos: QPointF) -> None:
        for index, row in enumerate(self.projections):
            fixed = self.values.get(f"fixed{index}")
            for proj in row:
                marks = proj.marks
                hit = None
                if (marks is not None and isinstance(fixed, FixedPointsView)
                        and proj.plot.sceneBoundingRect().contains(pos)):
                    hit = self._nearest(proj, marks, pos)
                if hit is None:
                    proj.hover.hide()
                    continue
                point = fixed.found.points[hit]
                text = f"#{hit} " + describe_point(point)
                a, b = proj.dims
                proj.hover.setText(text.replace("; λ", "\nλ"))
                proj.hover.setPos(marks.coords[hit, a], marks.coords[hit, b])
                proj.hover.show()
                self.hovered.emit(text)

    @staticmethod
    def _nearest(proj: _Projection, marks: FixedPointMarks, pos: QPointF) -> int | None:
        if not len(marks.coords):
            return None
        a, b = proj.dims
        vb = proj.plot.getViewBox()
        best, where = None, HOVER_PIXELS
        for j, c in enumerate(marks.coords):
            scene = vb.mapViewToScene(QPointF(float(c[a]), float(c[b])))
            d = np.hypot(scene.x() - pos.x(), scene.y() - pos.y())
            if d <= where:
                best, where = j, d
        return best

    # ---- export ----------------------------------------------------------------------------
    def _make_tables(self) -> None:
        tables = {}
        multi = len(self._shown_results) > 1
        for index in range(len(self.projections)):
            prefix = f"model{index}_" if multi else ""
            space = self.values.get(f"space{index}")
            if not isinstance(space, StateSpace):
                continue
            tables[prefix + "trajectory"] = partial(_trajectory_table, space)
            tables[prefix + "explained_variance"] = partial(_variance_table, space)
            if space.readout is not None:
                tables[prefix + "readout_directions"] = partial(_readout_table, space)
            marks = self.projections[index][0].marks
            fixed = self.values.get(f"fixed{index}")
            if marks is not None and isinstance(fixed, FixedPointsView):
                tables[prefix + "fixed_points"] = partial(_fixed_table, marks, fixed)
                if marks.lines.size:
                    tables[prefix + "unstable_directions"] = partial(_lines_table, marks)
        self._tables = tables

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        for row in self.projections:
            for proj in row:
                self._style_projection(proj)
        if self.time_bar is not None:
            self.time_bar.setColorMap(colormap(theme.sequential))
        self._dirty.update(range(len(self.projections)))
        self.refresh()


def _pc_headers(k: int) -> list[str]:
    return [f"PC{j + 1}" for j in range(k)]


def _trajectory_table(space: StateSpace) -> Table:
    k = space.projected.shape[1]
    steps = np.arange(space.projected.shape[0], dtype=np.float64)
    return ["step", *_pc_headers(k)], np.column_stack([steps, space.projected])


def _variance_table(space: StateSpace) -> Table:
    pca = space.pca
    k = pca.components.shape[0]
    return (["component", "explained variance", "share of the variance"],
            np.column_stack([np.arange(1, k + 1, dtype=float), pca.explained_variance,
                             pca.explained_variance_ratio]))


def _readout_table(space: StateSpace) -> Table:
    k = space.readout.shape[1]
    return (["output", *_pc_headers(k)],
            np.column_stack([np.arange(space.readout.shape[0], dtype=float), space.readout]))


def _fixed_table(marks: FixedPointMarks, fixed: FixedPointsView) -> Table:
    k = marks.coords.shape[1]
    points = fixed.found.points
    rows = np.column_stack([
        np.arange(len(points), dtype=float),
        np.array([KIND_CODES[p.kind] for p in points], float),
        marks.slow.astype(float), marks.q,
        np.array([p.radius for p in points], float),
        np.array([p.unstable for p in points], float),
        marks.coords]) if points else np.zeros((0, 6 + k))
    return (["point", "kind (0 stable, 1 saddle, 2 unstable)", "slow", "q",
             "spectral radius", "eigenvalues outside the unit circle", *_pc_headers(k)], rows)


def _lines_table(marks: FixedPointMarks) -> Table:
    k = marks.lines.shape[2]
    rows = np.column_stack([marks.owners.astype(float), marks.lines[:, 0], marks.lines[:, 1]])
    return (["point", *(f"from {h}" for h in _pc_headers(k)),
             *(f"to {h}" for h in _pc_headers(k))], rows)

