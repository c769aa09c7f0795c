"""Training in the window: the Training dock, the Train menu's commands and the runs behind
them (:mod:`~rnnviz.gui.training.controller`); the curves are the "training" panel of the
panel registry (:mod:`rnnviz.gui.panels.training`)."""

from rnnviz.gui.training.controller import TrainingController, install

__all__ = ["TrainingController", "install"]
