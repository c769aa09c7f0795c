"""Weight initialisers, all seeded through a NumPy Generator.

"default" is PyTorch's: every weight and bias U(−1/√H, 1/√H). "xavier" draws each gate block of
W_ih and W_hh from Glorot's uniform range with zero biases; "orthogonal" is "xavier" with each
recurrent gate block a random orthogonal matrix. A recurrent scale then rescales every gate block
of W_hh to the requested spectral radius, and an LSTM forget bias sets the forget gate's b_ih.
"""

from __future__ import annotations

import numpy as np

from rnnviz.engine.config import NetworkConfig


def _orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def spectral_radius(w: np.ndarray) -> float:
    """max |eigenvalue| of a square matrix."""
    return float(np.max(np.abs(np.linalg.eigvals(w)))) if w.size else 0.0


def scale_recurrent(w_hh: np.ndarray, radius: float, gates: int) -> np.ndarray:
    """W_hh (G·H, H) with each (H, H) gate block rescaled to spectral radius ``radius``."""
    hidden = w_hh.shape[1]
    out = w_hh.copy()
    for k in range(gates):
        block = out[k * hidden:(k + 1) * hidden]
        rho = spectral_radius(block)
        if rho > 0:
            block *= radius / rho
    return out


def init_params(cfg: NetworkConfig) -> dict[str, np.ndarray]:
    """A fresh state dict (PyTorch names, float64) for ``cfg``."""
    rng = np.random.default_rng(cfg.seed)
    hidden, gates = cfg.hidden_size, cfg.gate_count
    bound = 1.0 / np.sqrt(hidden)
    params: dict[str, np.ndarray] = {}
    for layer in range(cfg.num_layers):
        n_in = cfg.input_size if layer == 0 else hidden
        if cfg.init == "default":
            w_ih = rng.uniform(-bound, bound, (gates * hidden, n_in))
            w_hh = rng.uniform(-bound, bound, (gates * hidden, hidden))
            b_ih = rng.uniform(-bound, bound, gates * hidden)
            b_hh = rng.uniform(-bound, bound, gates * hidden)
        else:
            gi = np.sqrt(6.0 / (n_in + hidden))
            gh = np.sqrt(6.0 / (2 * hidden))
            w_ih = rng.uniform(-gi, gi, (gates * hidden, n_in))
            if cfg.init == "orthogonal":
                w_hh = np.concatenate([_orthogonal(rng, hidden) for _ in range(gates)])
            else:
                w_hh = rng.uniform(-gh, gh, (gates * hidden, hidden))
            b_ih = np.zeros(gates * hidden)
            b_hh = np.zeros(gates * hidden)
        if cfg.recurrent_scale is not None:
            w_hh = scale_recurrent(w_hh, cfg.recurrent_scale, gates)
        if cfg.cell == "lstm" and cfg.forget_bias is not None:
            b_ih[hidden:2 * hidden] = cfg.forget_bias
            b_hh[hidden:2 * hidden] = 0.0
        params[f"weight_ih_l{layer}"] = w_ih
        params[f"weight_hh_l{layer}"] = w_hh
        if cfg.bias:
            params[f"bias_ih_l{layer}"] = b_ih
            params[f"bias_hh_l{layer}"] = b_hh
    if cfg.output_size is not None:
        params["readout.weight"] = rng.uniform(-bound, bound, (cfg.output_size, hidden))
        params["readout.bias"] = rng.uniform(-bound, bound, cfg.output_size)
    return params


def expected_shapes(cfg: NetworkConfig) -> dict[str, tuple[int, ...]]:
    """The state dict's keys and shapes for ``cfg``."""
    hidden, gates = cfg.hidden_size, cfg.gate_count
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in range(cfg.num_layers):
        n_in = cfg.input_size if layer == 0 else hidden
        shapes[f"weight_ih_l{layer}"] = (gates * hidden, n_in)
        shapes[f"weight_hh_l{layer}"] = (gates * hidden, hidden)
        if cfg.bias:
            shapes[f"bias_ih_l{layer}"] = (gates * hidden,)
            shapes[f"bias_hh_l{layer}"] = (gates * hidden,)
    if cfg.output_size is not None:
        shapes["readout.weight"] = (cfg.output_size, hidden)
        shapes["readout.bias"] = (cfg.output_size,)
    return shapes
