"""Per-layer kernels for each cell type; every module offers the same four functions.

``alloc(L, T, H, dtype) -> dict`` preallocates the per-layer buffers of a whole network,
``forward(p, x, h0, c0, buf)`` fills one layer's slice of them, ``backward(...)`` runs BPTT through
one layer, ``step(p, x_t, h, c)`` advances one timestep (plain code, used by ``Network.step``).
"""

from __future__ import annotations

from types import ModuleType

from rnnviz.engine.cells import gru, lstm, rnn

KERNELS: dict[str, ModuleType] = {"rnn_tanh": rnn, "rnn_relu": rnn, "lstm": lstm, "gru": gru}
GATE_COUNT: dict[str, int] = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}
GATE_NAMES: dict[str, tuple[str, ...]] = {
    "rnn_tanh": ("pre",),
    "rnn_relu": ("pre",),
    "lstm": ("i", "f", "g", "o"),
    "gru": ("r", "z", "n"),
}
CELL_TYPES: tuple[str, ...] = tuple(KERNELS)
