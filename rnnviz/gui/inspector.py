"""The inspector: every number at the cursor step, in a read-only tree."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem

from rnnviz.engine import GATE_NAMES
from rnnviz.session import ModelResults, ViewState

MAX_CHILDREN = 512  # per vector; wider vectors end with a "… n more" row
HIDDEN_VALUE = "—"  # not computed yet (reveal mode)


def fmt(value: float) -> str:
    return f"{value:.6g}"


def step_norm(holder, name: str, values: np.ndarray, k: int | None, t: int) -> float:
    """``holder.<name>[k, t]`` (a trace's or gradients' cached norms), computed for this one
    step when the norms of the whole run are not computed yet: the inspector must not compute
    every step's norm (a long run's) on the GUI thread to show one. Same arithmetic."""
    cached = vars(holder).get(name)
    if cached is not None:
        return float(cached[t] if k is None else cached[k, t])
    block = values[t:t + 1] if k is None else values[k, t:t + 1]
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.linalg.norm(block, axis=-1)[0])


def _norm(v: np.ndarray) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.linalg.norm(v))


class Inspector(QTreeWidget):
    """Rows: x_t, target, y_t, loss_t, per layer h_t, c_t, each gate and the gradient norms,
    ‖∂L/∂x_t‖. Vectors are groups (their norm as value) with one row per component; only
    expanded groups are refreshed, so moving the cursor stays cheap at any width."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels(["quantity", "value"])
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.header().setStretchLastSection(True)
        self.setColumnWidth(0, 150)
        self._structure: tuple = ()
        # group item -> (getter of the (n,) vector at a step, names of its children or None)
        self._vectors: dict[int, tuple[QTreeWidgetItem, object]] = {}
        self._scalars: dict[str, QTreeWidgetItem] = {}
        self._results: ModelResults | None = None
        self._view: ViewState | None = None
        self._extras: dict[str, str] = {}  # rows kept up to date by other parts of the window
        self.itemExpanded.connect(self._refresh_group)

    def set_extra(self, name: str, value: str) -> None:
        """A top-level row ``name`` showing ``value`` (a memory horizon, say), after the
        built-in rows; kept when the rows are rebuilt."""
        self._extras[name] = value
        for k in range(self.topLevelItemCount()):
            item = self.topLevelItem(k)
            if item.text(0) == name:
                item.setText(1, value)
                return
        self.addTopLevelItem(QTreeWidgetItem([name, value]))

    # ---- structure -------------------------------------------------------------------------
    def _group(
        self,
        parent: QTreeWidgetItem | None,
        name: str,
        getter,
        size: int,
        names: tuple[str, ...] | None = None,
    ) -> QTreeWidgetItem:
        item = QTreeWidgetItem([name, ""])
        (parent.addChild(item) if parent is not None else self.addTopLevelItem(item))
        for k in range(min(size, MAX_CHILDREN)):
            label = names[k] if names is not None else f"[{k}]"
            item.addChild(QTreeWidgetItem([label, ""]))
        if size > MAX_CHILDREN:
            item.addChild(QTreeWidgetItem([f"… {size - MAX_CHILDREN} more", ""]))
        self._vectors[id(item)] = (item, getter)
        return item

    def _scalar(self, parent: QTreeWidgetItem | None, key: str, name: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([name, ""])
        (parent.addChild(item) if parent is not None else self.addTopLevelItem(item))
        self._scalars[key] = item
        return item

    def _build(self, results: ModelResults) -> None:
        cfg, seq = results.config, results.sequence
        trace, grads = results.trace, results.grads
        expanded = {self._path(it) for it, _ in self._vectors.values() if it.isExpanded()}
        self.clear()
        self._vectors, self._scalars = {}, {}
        self._scalar(None, "step", "step")
        if seq.labels is not None:
            self._scalar(None, "label", "label")
        self._group(None, "x_t", lambda r, t: r.trace.input[t], seq.channels,
                    seq.channel_names)
        if seq.targets is not None:
            self._scalar(None, "target", "target")
        if trace.output is not None:
            self._group(None, "y_t", lambda r, t: r.trace.output[t], trace.output.shape[1])
        if results.loss is not None:
            self._scalar(None, "loss", "loss_t")
        H = cfg.hidden_size
        for k in range(cfg.num_layers):
            layer = QTreeWidgetItem([f"layer {k}", ""])
            self.addTopLevelItem(layer)
            self._group(layer, "h_t", lambda r, t, k=k: r.trace.hidden[k, t], H)
            if trace.cell is not None:
                self._group(layer, "c_t", lambda r, t, k=k: r.trace.cell[k, t], H)
            for name in GATE_NAMES[cfg.cell]:
                self._group(layer, name, lambda r, t, k=k, n=name: r.trace.gates[n][k, t], H)
            self._scalar(layer, f"gh{k}", "‖∂L/∂h_t‖")
            if grads.cell is not None:
                self._scalar(layer, f"gc{k}", "‖∂L/∂c_t‖")
            layer.setExpanded(True)
        self._scalar(None, "gx", "‖∂L/∂x_t‖")
        for name, value in self._extras.items():
            self.addTopLevelItem(QTreeWidgetItem([name, value]))
        for item, _ in self._vectors.values():
            small = item.childCount() <= 8
            if self._path(item) in expanded or (small and item.text(0) in ("x_t", "y_t")):
                item.setExpanded(True)

    @staticmethod
    def _path(item: QTreeWidgetItem) -> str:
        parts = []
        while item is not None:
            parts.append(item.text(0))
            item = item.parent()
        return "/".join(reversed(parts))

    # ---- values ----------------------------------------------------------------------------
    def show_step(self, results: ModelResults, view: ViewState) -> None:
        """Fill in the values at ``view.step`` (rebuilding the rows only when shapes change)."""
        cfg, seq = results.config, results.sequence
        structure = (
            seq.channel_names,
            seq.targets is not None,
            seq.labels is not None,
            None if results.trace.output is None else results.trace.output.shape[1],
            results.loss is not None,
            cfg.num_layers,
            cfg.hidden_size,
            cfg.cell,
        )
        self._results, self._view = results, view
        if structure == self._structure:
            # new values only: each changed row repaints itself (turning updates off and on
            # again would repaint the whole tree and its scroll bars)
            self._fill(results, view)
            return
        self.setUpdatesEnabled(False)
        try:
            self._structure = structure
            self._build(results)
            self._fill(results, view)
        finally:
            self.setUpdatesEnabled(True)

    def _fill(self, results: ModelResults, view: ViewState) -> None:
        seq = results.sequence
        steps = seq.steps
        t = min(view.step, steps - 1)
        states_known = t < view.visible_states(steps)
        g0, g1 = view.visible_gradients(steps)
        grads_known = g0 <= t < g1
        s = self._scalars
        s["step"].setText(1, f"{t} of 0…{steps - 1}")
        if "label" in s:
            s["label"].setText(1, repr(seq.labels[t]))
        if "target" in s:
            known = seq.target_mask is None or bool(seq.target_mask[t])
            target = seq.targets[t]
            text = ", ".join(fmt(v) for v in target) if known else "(none at this step)"
            if known and seq.vocabulary is not None and results.task.loss == "ce":
                text = f"{int(target[0])} ({seq.vocabulary[int(target[0])]!r})"
            s["target"].setText(1, text)
        if "loss" in s:
            value = float(results.loss.per_step[t])
            s["loss"].setText(
                1,
                (fmt(value) if np.isfinite(value) else "(not counted)")
                if states_known
                else HIDDEN_VALUE,
            )
        grads = results.grads
        for k in range(results.config.num_layers):
            s[f"gh{k}"].setText(1, fmt(step_norm(grads, "hidden_norm", grads.hidden, k, t))
                                if grads_known else HIDDEN_VALUE)
            if f"gc{k}" in s:
                s[f"gc{k}"].setText(1, fmt(step_norm(grads, "cell_norm", grads.cell, k, t))
                                    if grads_known else HIDDEN_VALUE)
        s["gx"].setText(1, fmt(step_norm(grads, "input_norm", grads.input, None, t))
                        if grads_known else HIDDEN_VALUE)
        for item, getter in self._vectors.values():
            known = states_known or item.text(0) == "x_t"
            self._fill_group(item, getter, results, t, known)

    def _fill_group(self, item: QTreeWidgetItem, getter, results: ModelResults, t: int,
                    known: bool) -> None:
        if not known:
            item.setText(1, HIDDEN_VALUE)
            if item.isExpanded():
                for k in range(item.childCount()):
                    item.child(k).setText(1, HIDDEN_VALUE)
            return
        v = getter(results, t)
        item.setText(1, f"‖·‖ = {fmt(_norm(v))}")
        if item.isExpanded():
            for k in range(min(item.childCount(), MAX_CHILDREN, len(v))):
                item.child(k).setText(1, fmt(float(v[k])))

    def _refresh_group(self, item: QTreeWidgetItem) -> None:
        entry = self._vectors.get(id(item))
        if entry is None or self._results is None or self._view is None:
            return
        view, results = self._view, self._results
        steps = results.sequence.steps
        t = min(view.step, steps - 1)
        known = t < view.visible_states(steps)
        self._fill_group(item, entry[1], results, t, known or item.text(0) == "x_t")

    def value_of(self, *path: str) -> str:
        """The value text of the row at ``path``: ("x_t", "x"), ("layer 0", "h_t", "[3]")."""
        parts = path
        items = [self.topLevelItem(k) for k in range(self.topLevelItemCount())]
        item = None
        for part in parts:
            item = next((it for it in items if it.text(0) == part), None)
            if item is None:
                raise KeyError(" › ".join(path))
            items = [item.child(k) for k in range(item.childCount())]
        return item.text(1)
