"""Trained weights: read PyTorch-style RNN state dicts, work out the network, save them back.

Files hold arrays under PyTorch's names and layouts (``weight_ih_l0`` (G*H, I), ``weight_hh_l0``
(G*H, H), ``bias_ih_l0`` / ``bias_hh_l0`` (G*H,), one set per layer; G = 1 RNN, 3 GRU, 4 LSTM),
possibly under a module prefix (``encoder.rnn.weight_ih_l0``), possibly followed by a Linear
readout (``fc.weight`` (O, H), ``fc.bias`` (O,)). Nothing is ever unpickled.
"""

from __future__ import annotations

import importlib.util
import io
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnviz.engine import CELL_TYPES, GATE_NAMES, NetworkConfig
from rnnviz.io.atomic import atomic_write_bytes
from rnnviz.io.errors import FileFormatError

WEIGHT_SUFFIXES = (".npz", ".safetensors", ".pt", ".pth")
SAVE_SUFFIXES = (".npz", ".safetensors")
# Name of the small string array (npz) or metadata entry (safetensors) recording the cell type,
# which the shapes alone cannot tell for a plain RNN (tanh or relu).
CELL_MARKER = "rnnviz.cell"
NONLINEARITIES = ("tanh", "relu")
TORCH_HINT = (
    "torch is not installed: in PyTorch run numpy.savez('w.npz', "
    "**{k: v.numpy() for k, v in model.state_dict().items()})"
)

_PARAM_RE = re.compile(
    r"^(?P<prefix>(?:.*\.)?)(?P<kind>weight|bias)_(?P<part>ih|hh|hr)_l(?P<layer>\d+)"
    r"(?P<reverse>_reverse)?$"
)
_CELL_BY_GATES = {1: "rnn", 3: "gru", 4: "lstm"}
_DISPLAY_NAME = {1: "a plain RNN", 3: "a GRU", 4: "an LSTM"}
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Module names that usually mean "the layer reading the RNN's output"; only used to rank
# candidates when the stored order cannot tell (safetensors sorts its keys).
_READOUT_HINT = re.compile(r"(^|[._])(fc|out|output|head|linear|decoder|classifier|proj|dense)")


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


# --------------------------------------------------------------------------- reading files


def read_weight_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """All named arrays in a ``.npz``, ``.safetensors``, ``.pt`` or ``.pth`` file.

    A safetensors ``rnnviz.cell`` metadata entry is returned as a string array under that name.
    Raises :class:`FileFormatError` for an unknown extension, an unreadable, truncated or
    damaged file, or arrays holding Python objects.
    """
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in WEIGHT_SUFFIXES:
        raise FileFormatError(
            f"{name}: unsupported weights file type {suffix or '(none)'!r}; "
            f"use {', '.join(WEIGHT_SUFFIXES)}"
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FileFormatError(f"{name}: cannot read file ({exc.strerror or exc})") from None
    if size == 0:
        raise FileFormatError(f"{name}: file is empty")
    if suffix == ".npz":
        return _read_npz(path)
    if suffix == ".safetensors":
        return _read_safetensors(path)
    return _read_torch(path)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    name = path.name
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise FileFormatError(f"{name}: not a NumPy .npz archive") from None
        raise FileFormatError(f"{name}: not a readable .npz archive ({_one_line(exc)})") from None
    except Exception as exc:  # zipfile, zlib and numpy raise many types on damaged input
        raise FileFormatError(f"{name}: not a readable .npz archive ({_one_line(exc)})") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise FileFormatError(f"{name}: holds one unnamed array (.npy data), not named weights")
    arrays: dict[str, np.ndarray] = {}
    with loaded:
        for key in loaded.files:
            try:
                value = loaded[key]
            except ValueError as exc:
                if "allow_pickle" in str(exc):
                    raise FileFormatError(
                        f"{name}: array {key!r} holds Python objects, which are never loaded"
                    ) from None
                raise FileFormatError(
                    f"{name}: array {key!r} is damaged ({_one_line(exc)})"
                ) from None
            except Exception as exc:
                raise FileFormatError(
                    f"{name}: array {key!r} is damaged ({_one_line(exc)})"
                ) from None
            if not isinstance(value, np.ndarray):  # NpzFile hands back raw bytes then
                raise FileFormatError(f"{name}: array {key!r} is not NumPy .npy data")
            arrays[key] = value
    return arrays


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    from safetensors import safe_open
    from safetensors.numpy import load_file

    name = path.name
    try:
        arrays = dict(load_file(path))
        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
    except Exception as exc:  # SafetensorError, OSError, unsupported dtypes ...
        raise FileFormatError(
            f"{name}: not a readable .safetensors file ({_one_line(exc)})"
        ) from None
    if CELL_MARKER in metadata and CELL_MARKER not in arrays:
        arrays[CELL_MARKER] = np.array(str(metadata[CELL_MARKER]))
    return arrays


def _read_torch(path: Path) -> dict[str, np.ndarray]:
    name = path.name
    if importlib.util.find_spec("torch") is None:
        raise FileFormatError(f"{name}: {TORCH_HINT}")
    try:
        import torch
    except ImportError:
        raise FileFormatError(f"{name}: {TORCH_HINT}") from None
    try:
        with warnings.catch_warnings():
            # torch warns about odd pickle protocols in damaged files; the error says enough.
            warnings.simplefilter("ignore")
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        if "weights only load failed" in str(exc).lower():
            raise FileFormatError(
                f"{name}: holds pickled Python objects (such as a whole model), which are never "
                "loaded; save model.state_dict() instead"
            ) from None
        raise FileFormatError(f"{name}: not a readable PyTorch file ({_one_line(exc)})") from None
    state: Any = obj
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model"):
            if isinstance(obj.get(key), Mapping):
                state = obj[key]
                break
    if not isinstance(state, Mapping):
        raise FileFormatError(
            f"{name}: holds a {type(obj).__name__}, not a state_dict; "
            "save model.state_dict() instead"
        )
    arrays: dict[str, np.ndarray] = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            continue
        tensor = value.detach().cpu()
        if tensor.is_floating_point() and tensor.dtype not in (torch.float32, torch.float64):
            tensor = tensor.float()  # half / bfloat16 have no exact NumPy twin everywhere
        try:
            arrays[str(key)] = tensor.numpy().copy()
        except Exception as exc:  # quantized or sparse tensors
            raise FileFormatError(
                f"{name}: tensor {key!r} cannot be converted to an array ({_one_line(exc)})"
            ) from None
    if not arrays:
        raise FileFormatError(f"{name}: holds no tensors")
    return arrays


# --------------------------------------------------------------------------- inference


def find_rnn_prefixes(arrays: Mapping[str, Any]) -> list[str]:
    """Module prefixes under which a PyTorch RNN/LSTM/GRU state dict lives, sorted.

    ``""`` for bare names such as ``weight_ih_l0``; ``"encoder.rnn."`` for
    ``encoder.rnn.weight_ih_l0``.
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
    an ``rnnviz.cell`` marker. ``source`` names the file in error messages.

    Raises :class:`FileFormatError` (naming the key and shapes) for missing or inconsistent
    weights, bidirectional RNNs, LSTM projections, non-float or non-finite values.
    """
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    prefix = _choose_prefix(arrays, prefix, source)
    notes: list[str] = []
    if prefix:
        notes.append(f"RNN weights found under the prefix {prefix!r}")

    params = _collect_params(arrays, prefix, source)
    num_layers = max(layer for _, _, layer in params) + 1

    def key_of(kind: str, part: str, layer: int) -> str:
        return params.get((kind, part, layer)) or f"{prefix}{kind}_{part}_l{layer}"

    for layer in range(num_layers):
        for part in ("ih", "hh"):
            if ("weight", part, layer) not in params:
                raise FileFormatError(
                    f"{source}: missing {key_of('weight', part, layer)!r} "
                    f"(layer {layer} of {num_layers})"
                )
    for key in params.values():
        _check_values(arrays[key], key, source)

    ref_key = key_of("weight", "hh", 0)
    ref = arrays[ref_key]
    if ref.ndim != 2 or ref.shape[1] == 0 or ref.shape[0] % ref.shape[1]:
        raise FileFormatError(
            f"{source}: {ref_key!r} has shape {ref.shape}, expected (G*H, H) with G = 1, 3 or 4"
        )
    hidden = ref.shape[1]
    gates = ref.shape[0] // hidden
    if gates not in _CELL_BY_GATES:
        raise FileFormatError(
            f"{source}: {ref_key!r} has shape {ref.shape}: {ref.shape[0]} rows is {gates} x the "
            f"hidden size {hidden}, expected 1 (RNN), 3 (GRU) or 4 (LSTM)"
        )
    rows = gates * hidden
    first_ih = arrays[key_of("weight", "ih", 0)]
    if first_ih.ndim != 2 or first_ih.shape[0] != rows or first_ih.shape[1] == 0:
        raise FileFormatError(
            f"{source}: {key_of('weight', 'ih', 0)!r} has shape {first_ih.shape}, expected "
            f"({rows}, input_size) to match {ref_key!r} {ref.shape}"
        )
    input_size = first_ih.shape[1]

    has_bias = any(kind == "bias" for kind, _, _ in params)
    expected: dict[str, tuple[int, ...]] = {}
    for layer in range(num_layers):
        expected[key_of("weight", "ih", layer)] = (rows, input_size if layer == 0 else hidden)
        expected[key_of("weight", "hh", layer)] = (rows, hidden)
        if has_bias:
            expected[key_of("bias", "ih", layer)] = (rows,)
            expected[key_of("bias", "hh", layer)] = (rows,)
    for key, shape in expected.items():
        if key not in arrays:
            raise FileFormatError(f"{source}: missing {key!r} (the other layers have biases)")
        if arrays[key].shape != shape:
            raise FileFormatError(
                f"{source}: {key!r} has shape {arrays[key].shape}, expected {shape} "
                f"to match {ref_key!r} {ref.shape}"
            )

    cell = _cell_type(arrays, prefix, gates, nonlinearity, source, notes)
    readout = _find_readout(arrays, prefix, set(params.values()), hidden, source, notes)

    state_dict: dict[str, np.ndarray] = {}
    converted: set[str] = set()
    for layer in range(num_layers):
        for kind, part in (("weight", "ih"), ("weight", "hh"), ("bias", "ih"), ("bias", "hh")):
            if (kind, part, layer) in params:
                key = params[kind, part, layer]
                state_dict[f"{kind}_{part}_l{layer}"] = _as_float64(arrays[key], converted)
    output_size = None
    used = set(params.values())
    if readout is not None:
        weight_key, bias_key = readout
        weight = _as_float64(arrays[weight_key], converted)
        output_size = weight.shape[0]
        state_dict["readout.weight"] = weight
        if bias_key is None:
            state_dict["readout.bias"] = np.zeros(output_size)
            notes.append(f"{weight_key!r} has no bias; the readout bias is set to zero")
        else:
            state_dict["readout.bias"] = _as_float64(arrays[bias_key], converted)
            used.add(bias_key)
        used.add(weight_key)
    if converted:
        notes.append(f"converted {', '.join(sorted(converted))} values to float64")
    ignored = [key for key in arrays if key not in used and not key.endswith(CELL_MARKER)]
    if ignored:
        notes.append(f"ignored {len(ignored)} other array(s): {_preview(ignored)}")

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
        raise FileFormatError(f"{source}: {_one_line(exc)}") from None
    return LoadedWeights(config=config, state_dict=state_dict, prefix=prefix, notes=notes)


def load_weights(
    path: str | Path, prefix: str | None = None, nonlinearity: str = "tanh"
) -> LoadedWeights:
    """Read a weights file and infer its network (see :func:`infer_weights`)."""
    path = Path(path)
    return infer_weights(
        read_weight_arrays(path), prefix=prefix, nonlinearity=nonlinearity, source=path.name
    )


def _choose_prefix(arrays: Mapping[str, np.ndarray], prefix: str | None, source: str) -> str:
    prefixes = find_rnn_prefixes(arrays)
    if not prefixes:
        raise FileFormatError(
            f"{source}: no RNN weights found (expected PyTorch names such as 'weight_ih_l0'); "
            f"keys: {_preview(list(arrays)) or 'none'}"
        )
    if prefix is None:
        if len(prefixes) > 1:
            raise FileFormatError(
                f"{source}: several RNNs found, choose a prefix: "
                f"{', '.join(repr(p) for p in prefixes)}"
            )
        return prefixes[0]
    if prefix in prefixes:
        return prefix
    if f"{prefix}." in prefixes:
        return f"{prefix}."
    raise FileFormatError(
        f"{source}: no RNN weights under the prefix {prefix!r}; "
        f"found {', '.join(repr(p) for p in prefixes)}"
    )


def _collect_params(
    arrays: Mapping[str, np.ndarray], prefix: str, source: str
) -> dict[tuple[str, str, int], str]:
    """Map (kind, part, layer) -> key for the RNN parameters under ``prefix``."""
    params: dict[tuple[str, str, int], str] = {}
    for key in arrays:
        match = _PARAM_RE.match(key)
        if match is None or match["prefix"] != prefix:
            continue
        shape = np.shape(arrays[key])
        if match["reverse"]:
            raise FileFormatError(
                f"{source}: {key!r} {shape} belongs to a bidirectional RNN, which is not supported"
            )
        if match["part"] == "hr":
            raise FileFormatError(
                f"{source}: {key!r} {shape} belongs to an LSTM with proj_size, "
                "which is not supported"
            )
        slot = (match["kind"], match["part"], int(match["layer"]))
        if slot in params:
            raise FileFormatError(f"{source}: {params[slot]!r} and {key!r} name the same weight")
        params[slot] = key
    return params


def _check_values(array: Any, key: str, source: str) -> None:
    if not isinstance(array, np.ndarray) or not np.issubdtype(array.dtype, np.floating):
        dtype = getattr(array, "dtype", type(array).__name__)
        raise FileFormatError(f"{source}: {key!r} has dtype {dtype}, expected floating point")
    bad = array.size - int(np.count_nonzero(np.isfinite(array)))
    if bad:
        raise FileFormatError(f"{source}: {key!r} has {bad} non-finite value(s) (NaN or Inf)")


def _cell_type(
    arrays: Mapping[str, np.ndarray],
    prefix: str,
    gates: int,
    nonlinearity: str,
    source: str,
    notes: list[str],
) -> str:
    marker = arrays.get(prefix + CELL_MARKER, arrays.get(CELL_MARKER))
    if marker is not None:
        cell = _marker_text(marker)
        if cell not in CELL_TYPES:
            raise FileFormatError(
                f"{source}: {CELL_MARKER!r} names an unknown cell {cell!r}; "
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
    arrays: Mapping[str, np.ndarray],
    prefix: str,
    rnn_keys: set[str],
    hidden: int,
    source: str,
    notes: list[str],
) -> tuple[str, str | None] | None:
    """The (weight key, bias key or None) of the Linear layer reading the hidden state, if any.

    ``readout.weight`` (as :func:`save_weights` writes it) wins; otherwise a 2-D float
    ``*.weight`` (O, H) with a matching ``*.bias`` (O,) outside the RNN, preferring one stored
    after the RNN (PyTorch stores modules in the order they are defined), then one with a name
    like ``fc`` or ``head``.
    """
    order = list(arrays)
    last_rnn = max(order.index(key) for key in rnn_keys)
    candidates: list[tuple[bool, bool, bool, int, str, str | None]] = []
    for position, key in enumerate(order):
        if not (key == "weight" or key.endswith(".weight")) or _PARAM_RE.match(key):
            continue
        if prefix and key.startswith(prefix):
            continue
        weight = arrays[key]
        base = key[: -len("weight")]
        bias_key = base + "bias"
        bias = arrays.get(bias_key)
        if key == "readout.weight":  # as written by save_weights: must be right
            _check_values(weight, key, source)
            if weight.ndim != 2 or weight.shape[1] != hidden:
                raise FileFormatError(
                    f"{source}: {key!r} has shape {weight.shape}, expected (outputs, {hidden})"
                )
            if bias is not None:
                _check_values(bias, bias_key, source)
                if bias.shape != (weight.shape[0],):
                    raise FileFormatError(
                        f"{source}: {bias_key!r} has shape {bias.shape}, expected "
                        f"({weight.shape[0]},) to match {key!r} {weight.shape}"
                    )
            named_bias = bias_key if bias is not None else None
            candidates.append((False, False, False, position, key, named_bias))
            continue
        if not _is_float_array(weight) or not _is_float_array(bias):
            continue
        if weight.ndim != 2 or weight.shape[1] != hidden or bias.shape != (weight.shape[0],):
            continue
        hinted = _READOUT_HINT.search(base) is not None
        candidates.append((True, position < last_rnn, not hinted, position, key, bias_key))
    if not candidates:
        return None
    candidates.sort()
    *_, weight_key, bias_key = candidates[0]
    _check_values(arrays[weight_key], weight_key, source)
    if bias_key is not None:
        _check_values(arrays[bias_key], bias_key, source)
    notes.append(
        f"readout taken from {weight_key!r} ({arrays[weight_key].shape[0]} outputs, "
        "no activation applied)"
    )
    if len(candidates) > 1:
        others = [candidate[-2] for candidate in candidates[1:]]
        notes.append(f"other possible readouts ignored: {_preview(others)}")
    return weight_key, bias_key


def _is_float_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)


def _as_float64(array: np.ndarray, converted: set[str]) -> np.ndarray:
    if array.dtype != np.float64:
        converted.add(str(array.dtype))
    return np.array(array, dtype=np.float64, copy=True)


# --------------------------------------------------------------------------- saving


def save_weights(path: str | Path, state_dict: Mapping[str, Any], cell: str) -> None:
    """Save a state dict under its PyTorch names to ``.npz`` or ``.safetensors``, atomically.

    ``cell`` (one of ``CELL_TYPES``) is recorded as an ``rnnviz.cell`` string array (npz) or
    metadata entry (safetensors) so that a plain RNN's nonlinearity survives the round trip.
    The file loads back with :func:`load_weights`, and into PyTorch with
    ``module.load_state_dict`` (after dropping the ``rnnviz.cell`` entry of an npz file).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SAVE_SUFFIXES:
        raise FileFormatError(
            f"{path.name}: weights can be saved as {' or '.join(SAVE_SUFFIXES)}, "
            f"not {suffix or '(no extension)'!r}"
        )
    if cell not in CELL_TYPES:
        raise ValueError(f"cell must be one of {', '.join(CELL_TYPES)}, got {cell!r}")
    arrays: dict[str, np.ndarray] = {}
    for key, value in state_dict.items():
        array = np.ascontiguousarray(np.asarray(value))
        if not np.issubdtype(array.dtype, np.floating):
            raise ValueError(f"{key!r} has dtype {array.dtype}, expected floating point")
        arrays[str(key)] = array
    if CELL_MARKER in arrays:
        raise ValueError(f"{CELL_MARKER!r} is reserved for the cell type")
    # Never write a file that cannot be read back.
    infer_weights({**arrays, CELL_MARKER: np.array(cell)}, source=path.name)
    if suffix == ".npz":
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays, **{CELL_MARKER: np.array(cell)})
        data = buffer.getvalue()
    else:
        from safetensors.numpy import save

        data = save(arrays, metadata={CELL_MARKER: cell})
    atomic_write_bytes(path, data)


# --------------------------------------------------------------------------- helpers


def _one_line(exc: BaseException) -> str:
    text = " ".join(_ANSI_ESCAPE.sub("", str(exc)).split())
    return text[:200] or type(exc).__name__


def _preview(keys: list[str], limit: int = 8) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f", ... ({len(keys) - limit} more)" if len(keys) > limit else "")
