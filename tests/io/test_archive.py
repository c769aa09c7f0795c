"""The one archive reader: limits judged from the directory before anything is decompressed,
and members read lazily."""

from __future__ import annotations

import io
import struct
import time
import zipfile

import numpy as np
import pytest

from rnnviz import limits
from rnnviz.io.archive import Archive
from rnnviz.io.errors import FileFormatError


def npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=False)
    return out.getvalue()


def make_zip(path, members: dict[str, bytes], method=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_member_count_is_refused_from_the_end_record_before_the_directory_is_parsed(tmp_path):
    path = make_zip(tmp_path / "a.npz", {"x.npy": npy(np.zeros(3)), "y.npy": npy(np.ones(2))})
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 60000, 60000)  # entries claimed
    # Ruin the directory itself: a reader that parsed it would fail differently.
    start = data.find(b"PK\x01\x02")
    data[start : start + 4] = b"XXXX"
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError) as info:
        Archive(path)
    assert str(info.value) == "a.npz: the archive has 60000 members, more than the 1000 allowed"


def test_many_members_refused_fast(tmp_path):
    path = tmp_path / "many.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for k in range(20_000):
            archive.writestr(f"a{k}.npy", b"")
    start = time.perf_counter()
    with pytest.raises(FileFormatError, match=r"20000 members, more than the 1000 allowed$"):
        Archive(path)
    assert time.perf_counter() - start < 0.05  # zipfile alone takes ~40x longer to parse


def test_directory_size_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_DIRECTORY_BYTES", 100)
    members = {f"member_{k}.npy": npy(np.zeros(1)) for k in range(4)}
    path = make_zip(tmp_path / "d.npz", members)
    with pytest.raises(FileFormatError, match=r"directory is \d+ bytes, more than the 100 bytes"):
        Archive(path)


def test_stored_member_whose_sizes_disagree(tmp_path):
    path = make_zip(tmp_path / "s.npz", {"x.npy": npy(np.zeros(4))}, zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    size = struct.unpack_from("<I", data, central + 24)[0]
    struct.pack_into("<I", data, central + 24, size + 1)
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"member x\.npy is damaged \(its sizes disagree\)"):
        Archive(path)


def test_headers_are_read_without_reading_the_data(tmp_path):
    values = np.random.default_rng(0).normal(size=(50_000, 3))
    path = make_zip(tmp_path / "h.npz", {"x.npy": npy(values)}, zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    crc_at = data.find(b"PK\x01\x02") + 16
    struct.pack_into("<I", data, crc_at, 0)  # the data no longer matches its CRC
    local_crc = data.find(b"PK\x03\x04") + 14
    struct.pack_into("<I", data, local_crc, 0)
    path.write_bytes(bytes(data))
    with Archive(path) as archive:
        header = archive.header("x.npy")  # only the header's bytes: no CRC check yet
        assert (header.shape, str(header.dtype)) == ((50_000, 3), "float64")
        with pytest.raises(FileFormatError, match=r"^h\.npz: x\.npy is damaged \(Bad CRC-32"):
            archive.read_array("x.npy")


def test_unsafe_names_are_shown_escaped_on_one_line(tmp_path):
    path = make_zip(tmp_path / "n.npz", {"../a\nb.npy": b""})
    with pytest.raises(FileFormatError) as info:
        Archive(path)
    assert str(info.value) == (
        r"n.npz: refusing unsafe member name '../a\nb.npy' (absolute path or '..')"
    )
