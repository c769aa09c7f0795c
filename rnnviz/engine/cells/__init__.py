"""Per-layer kernels for each cell type; every module offers the same functions.

``alloc(L, T, H, dtype, batch=None) -> dict`` preallocates the per-layer buffers of a whole
network ((L, T, ...), or time-major (L, T, B, ...) for a batch), ``views(buf, batched)`` gives the
hidden states, cell states and gates as (L, T, H) or (L, B, T, H) views of them,
``forward(p, x, h0, c0, buf)`` fills one layer's slice for one sequence and ``forward_batch`` for
a time-major batch, ``backward(...)`` and ``backward_batch(..., out=None)`` run BPTT through one
layer, ``step(p, x_t, h, c)`` advances one timestep (plain code, used by ``Network.step``).
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
