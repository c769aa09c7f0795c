"""The NumPy engine: RNN / LSTM / GRU networks, forward traces and backpropagation through time,
for one sequence (T, I) or a batch (B, T, I); optimisers and gradient clipping live in
:mod:`rnnviz.engine.optim`.

No Qt here, and nothing that knows about sessions or files.
"""

from rnnviz.engine.cells import CELL_TYPES, GATE_NAMES
from rnnviz.engine.config import NetworkConfig
from rnnviz.engine.errors import EngineError
from rnnviz.engine.losses import LossResult
from rnnviz.engine.network import Network
from rnnviz.engine.trace import Grads, State, StepRecord, Trace

__all__ = [
    "CELL_TYPES",
    "GATE_NAMES",
    "EngineError",
    "Grads",
    "LossResult",
    "Network",
    "NetworkConfig",
    "State",
    "StepRecord",
    "Trace",
]
