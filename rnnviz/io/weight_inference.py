"""Working out the network a PyTorch-style RNN state dict belongs to.

Arrays use PyTorch's names and layouts (``weight_ih_l0`` (G*H, I), ``weight_hh_l0`` (G*H, H),
``bias_ih_l0`` / ``bias_hh_l0`` (G*H,), one set per layer; G = 1 RNN, 3 GRU, 4 LSTM), possibly
under a module prefix (``encoder.rnn.weight_ih_l0``), possibly followed by a Linear readout
(``fc.weight`` (O, H), ``fc.bias`` (O,)).

Everything that names and shapes can tell is decided from them alone (for a
:class:`~rnnviz.io.weight_readers.WeightArrays`, without reading any data): the RNN's keys,
the cell type, the sizes, the readout, and a valid :class:`NetworkConfig`. Only then are the
arrays the network uses read, after a check against the memory budget.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnviz import limits
from rnnviz.engine import CELL_TYPES, GATE_NAMES, NetworkConfig
from rnnviz.io.errors import FileFormatError, one_line, quoted
from rnnviz.io.weight_readers import CELL_MARKER, Spec, WeightArrays, check_fits

NONLINEARITIES = ("tanh", "relu")

_PARAM_RE = re.compile(
    r"^(?P<prefix>(?:.*\.)?)(?P<kind>weight|bias)_(?P<part>ih|hh|hr)_l(?P<layer>\d+)"
    r"(?P<reverse>_reverse)?\Z",
    re.DOTALL,
)
_CELL_BY_GATES = {1: "rnn", 3: "gru", 4: "lstm"}
_DISPLAY_NAME = {1: "a plain RNN", 3: "a GRU", 4: "an LSTM"}
# Module names that usually mean "the layer reading the RNN's output"; only used to rank
# candidates when the stored order cannot tell (safetensors sorts its keys).
_READOUT_HINT = re.compile(r"(^|[._])(fc|out|output|head|linear|decoder|classifier|proj|dense)")
_MARKER_VALUES = 64


@dataclass(frozen=True)
class LoadedWeights:
    """A network configuration and the weights that go with it.

    ``state_dict`` uses bare PyTorch names (``weight_ih_l0`` ...) plus ``readout.weight`` (O, H)
    and ``readout.bias`` (O,) when a readout was found; all arrays are float64 copies.
    ``prefix`` is the module prefix the RNN was found under ("" for none); ``notes`` are
    one-line remarks for the user about what was inferred or ignored.
    """

    config: NetworkConfig
    state_dict: dict[str, np.ndarray]
    prefix: str = ""
    notes: list[str] = field(default_factory=list)


def find_rnn_prefixes(arrays: Mapping[str, Any]) -> list[str]:
    """Module prefixes under which a PyTorch RNN/LSTM/GRU state dict lives, sorted.

    ``""`` for bare names such as ``weight_ih_l0``; ``"encoder.rnn."`` for
    ``encoder.rnn.weight_ih_l0``. Looks at the names only.
    """
    found = {match["prefix"] for key in arrays if (match := _PARAM_RE.match(key))}
    return sorted(found)


def infer_weights(
    arrays: Mapping[str, np.ndarray],
    prefix: str | None = None,
    nonlinearity: str = "tanh",
    *,
    source: str = "weights",
) -> LoadedWeights:
    """Work out the network that ``arrays`` (a PyTorch-style state dict) belongs to.

    Infers the cell type (G = rows / hidden size), input size, hidden size, layer count, bias
    and an optional Linear readout following the RNN. ``prefix`` picks one RNN when several are
    present; ``nonlinearity`` ("tanh" or "relu") is used for a plain RNN unless the arrays carry
    an ``rnnviz.cell`` marker. ``source`` names the file in error messages. ``arrays`` may be a
    plain dict or a lazy :class:`WeightArrays`, of which only the arrays used are read.

    Raises :class:`FileFormatError` (naming the key and shapes) for missing or inconsistent
    weights, bidirectional RNNs, LSTM projections, non-float or non-finite values.
    """
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    prefix = _choose_prefix(arrays, prefix, source)
    notes: list[str] = []
    if prefix:
        notes.append(f"RNN weights found under the prefix {quoted(prefix)}")

    def shape(key: str) -> tuple[int, ...]:
        return _spec(arrays, key)[0]

    params = _collect_params(arrays, prefix, source)
    num_layers = max(layer for _, _, layer in params) + 1

    def key_of(kind: str, part: str, layer: int) -> str:
        return params.get((kind, part, layer)) or f"{prefix}{kind}_{part}_l{layer}"

    for layer in range(num_layers):
        for part in ("ih", "hh"):
            if ("weight", part, layer) not in params:
                raise FileFormatError(
                    f"{source}: missing {quoted(key_of('weight', part, layer))} "
                    f"(layer {layer} of {num_layers})"
                )
    for key in params.values():
        _check_dtype(arrays, key, source)

    ref_key = key_of("weight", "hh", 0)
    ref = shape(ref_key)
    if len(ref) != 2 or ref[1] == 0 or ref[0] % ref[1]:
        raise FileFormatError(
            f"{source}: {quoted(ref_key)} has shape {ref}, expected (G*H, H) with G = 1, 3 or 4"
        )
    hidden = ref[1]
    gates = ref[0] // hidden
    if gates not in _CELL_BY_GATES:
        raise FileFormatError(
            f"{source}: {quoted(ref_key)} has shape {ref}: {ref[0]} rows is {gates} x the "
            f"hidden size {hidden}, expected 1 (RNN), 3 (GRU) or 4 (LSTM)"
        )
    rows = gates * hidden
    first_ih = shape(key_of("weight", "ih", 0))
    if len(first_ih) != 2 or first_ih[0] != rows or first_ih[1] == 0:
        raise FileFormatError(
            f"{source}: {quoted(key_of('weight', 'ih', 0))} has shape {first_ih}, expected "
            f"({rows}, input_size) to match {quoted(ref_key)} {ref}"
        )
    input_size = first_ih[1]

    has_bias = any(kind == "bias" for kind, _, _ in params)
    expected: dict[str, tuple[int, ...]] = {}
    for layer in range(num_layers):
        expected[key_of("weight", "ih", layer)] = (rows, input_size if layer == 0 else hidden)
        expected[key_of("weight", "hh", layer)] = (rows, hidden)
        if has_bias:
            expected[key_of("bias", "ih", layer)] = (rows,)
            expected[key_of("bias", "hh", layer)] = (rows,)
    for key, wanted in expected.items():
        if key not in arrays:
            raise FileFormatError(
                f"{source}: missing {quoted(key)} (the other layers have biases)"
            )
        if shape(key) != wanted:
            raise FileFormatError(
                f"{source}: {quoted(key)} has shape {shape(key)}, expected {wanted} "
                f"to match {quoted(ref_key)} {ref}"
            )

    cell = _cell_type(arrays, prefix, gates, nonlinearity, source, notes)
    readout = _find_readout(arrays, prefix, set(params.values()), hidden, source, notes)
    output_size = None if readout is None else shape(readout[0])[0]
    try:
        config = NetworkConfig(
            cell=cell,
            input_size=input_size,
            hidden_size=hidden,
            num_layers=num_layers,
            bias=has_bias,
            output_size=output_size,
            readout="identity",
            dtype="float64",
            seed=0,
            init="default",
            recurrent_scale=None,
            forget_bias=None,
        )
    except ValueError as exc:
        raise FileFormatError(f"{source}: {one_line(exc)}") from None

    # Only now, with every name and shape judged, is any data read.
    used = list(params.values())
    if readout is not None:
        used += [key for key in readout if key is not None]
    if isinstance(arrays, WeightArrays):
        check_fits(arrays, used)
    for key in used:
        _check_values(arrays[key], key, source)

    state_dict: dict[str, np.ndarray] = {}
    converted: set[str] = set()
    for layer in range(num_layers):
        for kind, part in (("weight", "ih"), ("weight", "hh"), ("bias", "ih"), ("bias", "hh")):
            if (kind, part, layer) in params:
                key = params[kind, part, layer]
                state_dict[f"{kind}_{part}_l{layer}"] = _as_float64(arrays, key, converted)
    if readout is not None:
        weight_key, bias_key = readout
        weight = _as_float64(arrays, weight_key, converted)
        state_dict["readout.weight"] = weight
        if bias_key is None:
            state_dict["readout.bias"] = np.zeros(weight.shape[0])
            notes.append(f"{quoted(weight_key)} has no bias; the readout bias is set to zero")
        else:
            state_dict["readout.bias"] = _as_float64(arrays, bias_key, converted)
    if converted:
        notes.append(f"converted {', '.join(sorted(converted))} values to float64")
    ignored = [key for key in arrays if key not in used and not key.endswith(CELL_MARKER)]
    if ignored:
        notes.append(f"ignored {len(ignored)} other array(s): {_preview(ignored)}")
    return LoadedWeights(config=config, state_dict=state_dict, prefix=prefix, notes=notes)


# ---------------------------------------------------------------------------------- helpers


def _spec(arrays: Mapping[str, Any], key: str) -> Spec:
    if isinstance(arrays, WeightArrays):
        return arrays.spec(key)
    value = arrays[key]
    dtype = value.dtype if isinstance(value, np.ndarray) else None
    return tuple(np.shape(value)), dtype  # type: ignore[return-value]


def _choose_prefix(arrays: Mapping[str, Any], prefix: str | None, source: str) -> str:
    prefixes = find_rnn_prefixes(arrays)
    if not prefixes:
        raise FileFormatError(
            f"{source}: no RNN weights found (expected PyTorch names such as 'weight_ih_l0'); "
            f"keys: {_preview(list(arrays)) or 'none'}"
        )
    if prefix is None:
        if len(prefixes) > 1:
            raise FileFormatError(
                f"{source}: several RNNs found, choose a prefix: {_preview(prefixes, quote=True)}"
            )
        return prefixes[0]
    if prefix in prefixes:
        return prefix
    if f"{prefix}." in prefixes:
        return f"{prefix}."
    raise FileFormatError(
        f"{source}: no RNN weights under the prefix {quoted(prefix)}; "
        f"found {_preview(prefixes, quote=True)}"
    )


def _collect_params(
    arrays: Mapping[str, Any], prefix: str, source: str
) -> dict[tuple[str, str, int], str]:
    """Map (kind, part, layer) -> key for the RNN parameters under ``prefix``."""
    params: dict[tuple[str, str, int], str] = {}
    for key in arrays:
        match = _PARAM_RE.match(key)
        if match is None or match["prefix"] != prefix:
            continue
        digits = match["layer"]
        # Checked as text: int() of thousands of digits hits Python's int-string limit.
        if len(digits) > 3 or int(digits) >= limits.MAX_LAYERS:
            shown = digits if len(digits) <= 8 else f"{digits[:8]}... ({len(digits)} digits)"
            raise FileFormatError(
                f"{source}: {quoted(key)} has layer index {shown}; rnnviz reads networks of at "
                f"most {limits.MAX_LAYERS} layers"
            )
        if match["reverse"]:
            raise FileFormatError(
                f"{source}: {quoted(key)} {_spec(arrays, key)[0]} belongs to a bidirectional "
                "RNN, which is not supported"
            )
        if match["part"] == "hr":
            raise FileFormatError(
                f"{source}: {quoted(key)} {_spec(arrays, key)[0]} belongs to an LSTM with "
                "proj_size, which is not supported"
            )
        slot = (match["kind"], match["part"], int(digits))
        if slot in params:
            raise FileFormatError(
                f"{source}: {quoted(params[slot])} and {quoted(key)} name the same weight"
            )
        params[slot] = key
    return params


def _check_dtype(arrays: Mapping[str, Any], key: str, source: str) -> None:
    _, dtype = _spec(arrays, key)
    if dtype is None or not np.issubdtype(dtype, np.floating):
        shown = dtype if dtype is not None else type(arrays[key]).__name__
        raise FileFormatError(f"{source}: {quoted(key)} has dtype {shown}, expected floating point")


def _check_values(array: Any, key: str, source: str) -> None:
    if not isinstance(array, np.ndarray) or not np.issubdtype(array.dtype, np.floating):
        dtype = getattr(array, "dtype", type(array).__name__)
        raise FileFormatError(f"{source}: {quoted(key)} has dtype {dtype}, expected floating point")
    bad = array.size - int(np.count_nonzero(np.isfinite(array)))
    if bad:
        raise FileFormatError(
            f"{source}: {quoted(key)} has {bad} non-finite value(s) (NaN or Inf)"
        )


def _cell_type(
    arrays: Mapping[str, Any],
    prefix: str,
    gates: int,
    nonlinearity: str,
    source: str,
    notes: list[str],
) -> str:
    marker_key = next((k for k in (prefix + CELL_MARKER, CELL_MARKER) if k in arrays), None)
    if marker_key is not None:
        marker_shape, marker_dtype = _spec(arrays, marker_key)
        if math.prod(marker_shape) > _MARKER_VALUES:
            raise FileFormatError(
                f"{source}: {quoted(marker_key)} must name a cell type, not hold "
                f"{math.prod(marker_shape)} values"
            )
        cell = _marker_text(arrays[marker_key])
        if cell not in CELL_TYPES:
            raise FileFormatError(
                f"{source}: {CELL_MARKER!r} names an unknown cell {quoted(cell)}; "
                f"expected one of {', '.join(CELL_TYPES)}"
            )
        if len(GATE_NAMES[cell]) != gates:
            raise FileFormatError(
                f"{source}: {CELL_MARKER!r} says {cell!r} but the weights have {gates} gate "
                f"block(s), as in {_DISPLAY_NAME[gates]}"
            )
        return cell
    kind = _CELL_BY_GATES[gates]
    if kind != "rnn":
        return kind
    notes.append(
        f"plain RNN: using nonlinearity {nonlinearity!r} (the file does not say; "
        "PyTorch's default is 'tanh')"
    )
    return f"rnn_{nonlinearity}"


def _marker_text(marker: Any) -> str:
    value = np.asarray(marker)
    if value.size != 1:
        return repr(value.tolist())
    item = value.reshape(()).item()
    if isinstance(item, bytes):
        return item.decode("utf-8", "replace")
    return str(item)


def _find_readout(
    arrays: Mapping[str, Any],
    prefix: str,
    rnn_keys: set[str],
    hidden: int,
    source: str,
    notes: list[str],
) -> tuple[str, str | None] | None:
    """The (weight key, bias key or None) of the Linear layer reading the hidden state, if any.

    ``readout.weight`` (as :func:`~rnnviz.io.weights.save_weights` writes it) wins; otherwise
    a 2-D float ``*.weight`` (O, H) with a matching ``*.bias`` (O,) outside the RNN, preferring
    one stored after the RNN (PyTorch stores modules in the order they are defined), then one
    with a name like ``fc`` or ``head``. Decided from names, shapes and dtypes alone.
    """
    order = list(arrays)
    positions = {key: k for k, key in enumerate(order)}
    last_rnn = max(positions[key] for key in rnn_keys)
    candidates: list[tuple[bool, bool, bool, int, str, str | None]] = []
    for position, key in enumerate(order):
        if not (key == "weight" or key.endswith(".weight")) or _PARAM_RE.match(key):
            continue
        if prefix and key.startswith(prefix):
            continue
        base = key[: -len("weight")]
        bias_key = base + "bias"
        has_bias = bias_key in arrays
        weight_shape, weight_dtype = _spec(arrays, key)
        if key == "readout.weight":  # as written by save_weights: must be right
            _check_dtype(arrays, key, source)
            if len(weight_shape) != 2 or weight_shape[1] != hidden:
                raise FileFormatError(
                    f"{source}: {quoted(key)} has shape {weight_shape}, expected "
                    f"(outputs, {hidden})"
                )
            if has_bias:
                _check_dtype(arrays, bias_key, source)
                bias_shape = _spec(arrays, bias_key)[0]
                if bias_shape != (weight_shape[0],):
                    raise FileFormatError(
                        f"{source}: {quoted(bias_key)} has shape {bias_shape}, expected "
                        f"({weight_shape[0]},) to match {quoted(key)} {weight_shape}"
                    )
            candidates.append((False, False, False, position, key, bias_key if has_bias else None))
            continue
        if not has_bias or not _is_float(weight_dtype):
            continue
        bias_shape, bias_dtype = _spec(arrays, bias_key)
        if not _is_float(bias_dtype):
            continue
        if len(weight_shape) != 2 or weight_shape[1] != hidden or bias_shape != weight_shape[:1]:
            continue
        hinted = _READOUT_HINT.search(base) is not None
        candidates.append((True, position < last_rnn, not hinted, position, key, bias_key))
    if not candidates:
        return None
    candidates.sort()
    *_, weight_key, bias_key = candidates[0]
    notes.append(
        f"readout taken from {quoted(weight_key)} ({_spec(arrays, weight_key)[0][0]} outputs, "
        "no activation applied)"
    )
    if len(candidates) > 1:
        others = [candidate[-2] for candidate in candidates[1:]]
        notes.append(f"other possible readouts ignored: {_preview(others)}")
    return weight_key, bias_key


def _is_float(dtype: np.dtype | None) -> bool:
    return dtype is not None and np.issubdtype(dtype, np.floating)


def _as_float64(arrays: Mapping[str, Any], key: str, converted: set[str]) -> np.ndarray:
    array = arrays[key]
    original = (
        arrays.original_dtype(key) if isinstance(arrays, WeightArrays) else str(array.dtype)
    )
    if original != "float64":
        converted.add(original)
    return np.array(array, dtype=np.float64, copy=True)


def _preview(keys: list[str], limit: int = 8, quote: bool = False) -> str:
    shown = ", ".join(quoted(k, 40) if quote else _plain(k) for k in keys[:limit])
    return shown + (f", ... ({len(keys) - limit} more)" if len(keys) > limit else "")


def _plain(key: str) -> str:
    text = quoted(key, 40)[1:-1] if len(key) > 38 or not key.isprintable() else key
    return text
