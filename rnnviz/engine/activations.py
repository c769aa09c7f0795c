"""Elementwise activations that never overflow.

The sigmoid is computed as ½·tanh(x/2) + ½: tanh saturates instead of overflowing, so no input
(however large) raises a floating-point warning, and one tanh call can serve every gate of a cell.
"""

from __future__ import annotations

import numpy as np

READOUT_ACTIVATIONS = ("identity", "tanh", "sigmoid", "softmax")


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic sigmoid of ``x`` (any shape), overflow-free."""
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis``; shifted by the maximum so that exp never overflows."""
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(softmax(z)) along ``axis``, computed stably."""
    s = z - np.max(z, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def apply_readout(z: np.ndarray, activation: str) -> np.ndarray:
    """y = f(z) for a readout activation name; ``z`` is (T, O)."""
    if activation == "identity":
        return z.copy()
    if activation == "tanh":
        return np.tanh(z)
    if activation == "sigmoid":
        return sigmoid(z)
    if activation == "softmax":
        return softmax(z, axis=-1)
    raise ValueError(f"unknown readout activation {activation!r}; use one of {READOUT_ACTIVATIONS}")


def readout_backward(y: np.ndarray, dy: np.ndarray, activation: str) -> np.ndarray:
    """dL/dz from dL/dy for y = f(z); ``y`` and ``dy`` are (T, O)."""
    if activation == "identity":
        return dy.copy()
    if activation == "tanh":
        return dy * (1.0 - y * y)
    if activation == "sigmoid":
        return dy * y * (1.0 - y)
    if activation == "softmax":
        return y * (dy - np.sum(dy * y, axis=-1, keepdims=True))
    raise ValueError(f"unknown readout activation {activation!r}; use one of {READOUT_ACTIVATIONS}")
