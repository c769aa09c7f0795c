"""What training recorded for a model's weights, as a session file stores it.

:func:`training_from_state` rebuilds a model's training record from the JSON object and arrays a
session file holds for it (see :mod:`rnnviz.io.session_schema`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def training_from_state(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Any:
    """The training record saved as ``meta`` and ``arrays`` (ValueError when it is not one)."""
    raise ValueError("this version of rnnviz stores no training records")
