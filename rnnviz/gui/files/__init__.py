"""Files in the app: :mod:`.controller` (open, save, weights, samples, demos, drag and drop,
the title), :mod:`.recovery` (autosave and crash recovery), :mod:`.prompts` (the questions asked)
and :mod:`.recent` (Open Recent)."""

from rnnviz.gui.files.controller import FileController, sample_paths
from rnnviz.gui.files.prompts import CANCEL, DISCARD, SAVE, Prompts
from rnnviz.gui.files.recent import RecentFiles
from rnnviz.gui.files.recovery import AUTOSAVE_ENV, Autosave, autosave_dir

__all__ = [
    "AUTOSAVE_ENV",
    "CANCEL",
    "DISCARD",
    "SAVE",
    "Autosave",
    "FileController",
    "Prompts",
    "RecentFiles",
    "autosave_dir",
    "sample_paths",
]
