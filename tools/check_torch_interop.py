"""Check interoperability with a real PyTorch install (not part of the test suite, which must
not need torch): .pt checkpoints load with weights_only=True, and weights saved by rnnviz load
back into torch modules and reproduce their outputs.

    pip install torch==2.13.0 && python tools/check_torch_interop.py
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from rnnviz.engine import Network
from rnnviz.io.errors import FileFormatError
from rnnviz.io.weights import CELL_MARKER, LoadedWeights, load_weights, save_weights


def engine_forward(lw: LoadedWeights, x):
    net = Network.from_config(lw.config)
    net.load_state_dict(lw.state_dict)
    return net.forward(x)


def check_round_trip_through_torch(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file as load_torch_safetensors

    torch.manual_seed(0)

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.LSTM(3, 5, num_layers=2, batch_first=True)
            self.fc = torch.nn.Linear(5, 2)

        def forward(self, x):
            return self.fc(self.rnn(x)[0])

    model = Model().double()
    x = np.random.default_rng(5).normal(size=(8, 3))
    with torch.no_grad():
        expected = model(torch.from_numpy(x)[None])[0].numpy()

    # A checkpoint as a training script would write it, with extra entries.
    torch.save({"model": model.state_dict(), "epoch": 12}, tmp_path / "ckpt.pt")
    lw = load_weights(tmp_path / "ckpt.pt")
    assert lw.prefix == "rnn."
    assert (lw.config.cell, lw.config.num_layers, lw.config.output_size) == ("lstm", 2, 2)
    np.testing.assert_allclose(engine_forward(lw, x).output, expected, rtol=1e-10, atol=1e-12)

    torch.save({"state_dict": model.rnn.state_dict()}, tmp_path / "rnn_only.pth")
    assert load_weights(tmp_path / "rnn_only.pth").config.output_size is None

    # Saved by rnnviz, loaded straight into fresh torch modules.
    rnn_keys = [k for k in lw.state_dict if not k.startswith("readout.")]
    for suffix in (".npz", ".safetensors"):
        path = tmp_path / f"saved{suffix}"
        save_weights(path, lw.state_dict, lw.config.cell)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                loaded = {k: torch.from_numpy(data[k]) for k in data.files if k != CELL_MARKER}
        else:
            loaded = load_torch_safetensors(path)
        fresh = Model().double()
        fresh.rnn.load_state_dict({k: loaded[k] for k in rnn_keys})
        fresh.fc.load_state_dict(
            {"weight": loaded["readout.weight"], "bias": loaded["readout.bias"]}
        )
        with torch.no_grad():
            got = fresh(torch.from_numpy(x)[None])[0].numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)

    torch.save(torch.nn.GRU(2, 3), tmp_path / "whole_model.pt")
    with pytest.raises(FileFormatError, match=r"holds pickled Python objects .* model\.state_dict"):
        load_weights(tmp_path / "whole_model.pt")
    (tmp_path / "junk.pt").write_bytes(b"\x80\x02garbage")
    with pytest.raises(FileFormatError, match=r"^junk\.pt: "):
        load_weights(tmp_path / "junk.pt")


def check_pytorch_files_say_what_is_true(tmp_path: Path) -> None:
    """bfloat16 checkpoints are converted and say so; damaged pickles are not PyTorch files."""
    import torch

    model = torch.nn.LSTM(2, 3).to(torch.bfloat16)
    torch.save(model.state_dict(), tmp_path / "bf16.pt")
    lw = load_weights(tmp_path / "bf16.pt")
    assert "converted bfloat16 values to float64" in lw.notes
    expected = model.state_dict()["weight_hh_l0"].float().numpy().astype(np.float64)
    np.testing.assert_array_equal(lw.state_dict["weight_hh_l0"], expected)
    pickled = tmp_path / "pickled.pth"
    pickled.write_bytes(b"\x80" + np.random.default_rng(0).bytes(4000))
    with pytest.raises(FileFormatError, match=r"^pickled\.pth: not a PyTorch file \(damaged"):
        load_weights(pickled)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        check_round_trip_through_torch(Path(tmp))
        check_pytorch_files_say_what_is_true(Path(tmp))
    print("torch interop: ok")
    sys.exit(0)
