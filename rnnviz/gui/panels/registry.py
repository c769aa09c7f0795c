"""Every plot panel of the window, in one list: the docks, the View menu, the Export dialog,
``rnnviz export --panels``, the headless exporter and the tests all read it.

This module imports no Qt: a panel's class is named by its import path and loaded on demand,
so the command line can list the panels without starting Qt.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rnnviz.engine import NetworkConfig

if TYPE_CHECKING:
    from rnnviz.gui.panels.base import Panel
    from rnnviz.session import Document

DASHBOARD = "dashboard"


def _always(_config: NetworkConfig) -> bool:
    return True


def _trained(document: Document) -> bool:
    return any(m.training is not None for m in document.models)


@dataclass(frozen=True)
class PanelSpec:
    """One panel.

    key: its name everywhere (the dock's objectName is ``dock_<key>``; export files are
    ``<key>.<format>``); title: as shown (plain text — escaped where Qt reads "&"); factory:
    ``"module:Class"`` of its :class:`~rnnviz.gui.panels.base.Panel` subclass; column: where the
    default layout puts it ("middle" or "right", top to bottom in list order) with ``share`` of
    that column's height, or ``tab_with`` another panel's key; shown: whether it is open in the
    default layout; has_content(config): whether a network of ``config`` has anything for it to
    show (cell memory needs an LSTM, the output a readout); has_data(document): whether the
    document itself gives it something to show (training curves need a trained model), None
    for always; help: one line for menus and docs.
    """

    key: str
    title: str
    factory: str
    column: str = "middle"
    share: int = 1
    tab_with: str | None = None
    shown: bool = True
    has_content: Callable[[NetworkConfig], bool] = _always
    help: str = ""
    has_data: Callable[[Document], bool] | None = None

    def load(self) -> type[Panel]:
        """The panel's class (imports its module)."""
        module, name = self.factory.split(":")
        return getattr(importlib.import_module(module), name)


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("input", "Input & target", "rnnviz.gui.panels.input:InputPanel", "middle", 23,
              help="x_t per channel and the target; drag or draw to edit"),
    PanelSpec("hidden", "Hidden state h_t", "rnnviz.gui.panels.hidden:HiddenPanel", "middle",
              29, help="h_t of one layer as a heatmap, and traces of picked units"),
    PanelSpec("gates", "Gates", "rnnviz.gui.panels.gates:GatesPanel", "middle", 48,
              help="one heatmap per gate (the vanilla RNN's pre-activation)"),
    PanelSpec("output", "Output & loss", "rnnviz.gui.panels.output:OutputPanel", "right", 30,
              has_content=lambda cfg: cfg.output_size is not None,
              help="the readout y_t against the target, and each step's loss"),
    PanelSpec("cell", "Cell memory c_t", "rnnviz.gui.panels.cell:CellPanel", "right", 35,
              has_content=lambda cfg: cfg.cell == "lstm",
              help="an LSTM's cell state c_t and its norm"),
    PanelSpec("gradients", "Gradients (BPTT)", "rnnviz.gui.panels.gradients:GradientsPanel",
              "right", 35, help="‖∂L/∂h_t‖, ‖∂L/∂c_t‖ and ‖∂L/∂x_t‖ on a log axis"),
    PanelSpec("diagram", "Cell diagram", "rnnviz.gui.panels.diagram:DiagramPanel",
              tab_with="gates",
              help="the layer's cell at the cursor step, coloured by its values, with its "
                   "equations and the numbers in"),
    PanelSpec("compare", "Comparison", "rnnviz.gui.compare.view:ComparePanel", tab_with="gates",
              shown=False, help="every model on one time axis: output, loss, ‖∂L/∂h_t‖, "
              "influence and gates"),
    # Analysis views: closed until Analysis opens them, then tabbed with the gates (the widest
    # place; the time plots line up with the input above) or, for gradient against distance,
    # with the gradients it explains.
    PanelSpec("influence", "Influence map", "rnnviz.gui.panels.influence:InfluencePanel",
              tab_with="gates", shown=False,
              help="how much each input x_k still matters at every later step t, and the "
                   "memory horizon"),
    PanelSpec("perturb", "Perturbation", "rnnviz.gui.panels.perturb:PerturbPanel",
              tab_with="gates", shown=False,
              help="nudge the input at the cursor step: the rerun's Δh_t against the "
                   "first-order prediction"),
    PanelSpec("state_space", "State space", "rnnviz.gui.panels.state_space:StateSpacePanel",
              tab_with="gates", shown=False,
              help="the hidden trajectory in its principal components, with fixed points "
                   "by stability"),
    PanelSpec("distance", "Gradient vs distance", "rnnviz.gui.panels.distance:DistancePanel",
              tab_with="gradients", shown=False,
              help="‖∂s_t/∂s_k‖ against t − k at the cursor step, with ρ(W_hh)^(t−k) and "
                   "an LSTM's forget-gate products"),
    PanelSpec("spectrum", "Spectrum", "rnnviz.gui.panels.spectrum:SpectrumPanel",
              tab_with="gates", shown=False,
              help="eigenvalues of W_hh per layer and gate on the complex plane, and the "
                   "step Jacobian's singular values at the cursor"),
    PanelSpec("training", "Training", "rnnviz.gui.panels.training:TrainingPanel", "right",
              tab_with="output", has_data=_trained,
              help="loss, gradient norm and success of each trained model against the update"),
)


def panel_keys() -> tuple[str, ...]:
    return tuple(spec.key for spec in PANELS)


def panel_spec(key: str) -> PanelSpec:
    """The panel called ``key`` (KeyError naming the choices otherwise)."""
    for spec in PANELS:
        if spec.key == key:
            return spec
    raise KeyError(f"unknown panel {key!r}; choose from {', '.join(panel_keys())}")


def export_targets() -> tuple[str, ...]:
    """What can be exported: every panel, then the whole dashboard."""
    return (*panel_keys(), DASHBOARD)
