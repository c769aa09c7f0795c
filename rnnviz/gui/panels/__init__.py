"""The plot panels of the main window, one module per panel."""

from rnnviz.gui.panels.base import Panel
from rnnviz.gui.panels.cell import CellPanel
from rnnviz.gui.panels.gates import GatesPanel
from rnnviz.gui.panels.gradients import GradientsPanel
from rnnviz.gui.panels.hidden import HiddenPanel
from rnnviz.gui.panels.input import InputPanel
from rnnviz.gui.panels.output import OutputPanel

PANEL_CLASSES: tuple[type[Panel], ...] = (
    InputPanel,
    HiddenPanel,
    GatesPanel,
    CellPanel,
    OutputPanel,
    GradientsPanel,
)

__all__ = [
    "PANEL_CLASSES",
    "CellPanel",
    "GatesPanel",
    "GradientsPanel",
    "HiddenPanel",
    "InputPanel",
    "OutputPanel",
    "Panel",
]
