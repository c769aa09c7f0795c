"""Build the corpus of hostile files that every reader must refuse (or read) in bounded memory.

Nothing here is committed as a big file: each builder writes into a directory at test time.
"Huge" files cost little disk and time: sparse files (``truncate``) for the text and ``.npy``
cases, and for the zip archives deflate streams of zeros assembled from one compressed block
repeated (about 1 KiB of archive per MiB it decompresses to), with honest sizes and CRCs.

Run it by hand to look at the files::

    python tests/io/hostile/corpus.py /tmp/hostile
"""

from __future__ import annotations

import functools
import io
import json
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

MiB = 1 << 20
_ZEROS = bytes(MiB)


# ---------------------------------------------------------------------------- a zip writer


@dataclass(frozen=True)
class RawMember:
    """One zip member given as already compressed pieces (so huge members cost nothing)."""

    name: str
    pieces: tuple[bytes, ...]  # the compressed data, concatenated
    crc: int
    file_size: int  # uncompressed size
    method: int = zipfile.ZIP_DEFLATED

    @property
    def compress_size(self) -> int:
        return sum(len(p) for p in self.pieces)


def member_from_bytes(name: str, data: bytes, method: int = zipfile.ZIP_DEFLATED) -> RawMember:
    if method == zipfile.ZIP_STORED:
        body = data
    else:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = compressor.compress(data) + compressor.flush()
    return RawMember(name, (body,), zlib.crc32(data), len(data), method)


@functools.cache
def _zeros_piece() -> bytes:
    # A fresh raw compressor flushed with Z_FULL_FLUSH makes a self-contained, byte-aligned
    # run of deflate blocks: repeating it decompresses to the same zeros again and again.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(_ZEROS) + compressor.flush(zlib.Z_FULL_FLUSH)


@functools.cache
def _zeros_crc(prefix: bytes, count: int) -> int:
    crc = zlib.crc32(prefix)
    for _ in range(count // MiB):
        crc = zlib.crc32(_ZEROS, crc)
    return zlib.crc32(_ZEROS[: count % MiB], crc)


def zeros_member(name: str, prefix: bytes, count: int) -> RawMember:
    """A deflated member holding ``prefix`` followed by ``count`` zero bytes."""
    head = zlib.compressobj(6, zlib.DEFLATED, -15)
    pieces = [head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH)]
    pieces += [_zeros_piece()] * (count // MiB)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    pieces.append(tail.compress(_ZEROS[: count % MiB]) + tail.flush())  # ends the stream
    return RawMember(name, tuple(pieces), _zeros_crc(prefix, count), len(prefix) + count)


def npy_header(shape: tuple[int, ...], dtype: str, fortran: bool = False) -> bytes:
    """The bytes of a version 1.0 .npy header for an array of ``shape`` and ``dtype``."""
    out = io.BytesIO()
    header = {"descr": dtype, "fortran_order": fortran, "shape": shape}
    npy_format.write_array_header_1_0(out, header)  # the header alone, no data
    return out.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    npy_format.write_array(out, array, allow_pickle=False)
    return out.getvalue()


def write_zip(path: Path, members: Iterable[RawMember]) -> Path:
    """Write ``members`` as a zip archive (zip64 records where sizes need them)."""
    central = bytearray()
    count = 0
    with open(path, "wb") as out:
        for member in members:
            offset = out.tell()
            name = member.name.encode("utf-8")
            big = max(member.file_size, member.compress_size, offset) >= 0xFFFFFFFF
            extra = b""
            sizes = (member.compress_size, member.file_size)
            if big:
                extra = struct.pack("<HHQQ", 1, 16, member.file_size, member.compress_size)
                sizes = (0xFFFFFFFF, 0xFFFFFFFF)
            version = 45 if big else 20
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, version, 0x800, member.method,
                                  0, 0x21, member.crc, *sizes, len(name), len(extra)))
            out.write(name + extra)
            for piece in member.pieces:
                out.write(piece)
            cextra = b""
            coffset = offset
            if big:
                cextra = struct.pack("<HHQQQ", 1, 24, member.file_size, member.compress_size,
                                     offset)
                coffset = 0xFFFFFFFF
            central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, version, version, 0x800,
                                   member.method, 0, 0x21, member.crc, *sizes, len(name),
                                   len(cextra), 0, 0, 0, 0o644 << 16, coffset)
            central += name + cextra
            count += 1
        cd_offset = out.tell()
        out.write(central)
        if count >= 0xFFFF or cd_offset >= 0xFFFFFFFF:
            zip64_end = out.tell()
            out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count,
                                  len(central), cd_offset))
            out.write(struct.pack("<IIQI", 0x07064B50, 0, zip64_end, 1))
            out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF,
                                  len(central), 0xFFFFFFFF, 0))
        else:
            out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central),
                                  cd_offset, 0))
    return path


def sparse_file(path: Path, head: bytes, size: int) -> Path:
    """A file of ``size`` bytes that starts with ``head``; the rest is a hole (zeros)."""
    with open(path, "wb") as out:
        out.write(head)
        out.truncate(size)
    return path


# ---------------------------------------------------------------------------- small helpers


def lstm_weights(hidden: int = 3, inputs: int = 2, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = 4 * hidden
    return {
        "weight_ih_l0": rng.normal(size=(g, inputs)),
        "weight_hh_l0": rng.normal(size=(g, hidden)),
        "bias_ih_l0": rng.normal(size=g),
        "bias_hh_l0": rng.normal(size=g),
    }


def npz_members(arrays: dict[str, np.ndarray]) -> list[RawMember]:
    return [member_from_bytes(f"{key}.npy", npy_bytes(value)) for key, value in arrays.items()]


def valid_session(path: Path) -> Path:
    """A small valid session file (an LSTM with its weights), written by the app itself."""
    from rnnviz.engine import NetworkConfig
    from rnnviz.io.session_file import save_session
    from rnnviz.session import Document, Sequence, Task, ViewState

    rng = np.random.default_rng(1)
    config = NetworkConfig(cell="lstm", input_size=2, hidden_size=3, output_size=1)
    seq = Sequence(rng.normal(size=(12, 2)), targets=rng.normal(size=(12, 1)))
    doc = Document.single(seq, config, Task("mse", "all"))
    doc = doc.with_weights(0, config, doc.models[0].network().state_dict())
    save_session(path, doc, ViewState(step=3, units=(0, 2)))
    return path


def session_members(path: Path) -> list[RawMember]:
    with zipfile.ZipFile(path) as archive:
        return [member_from_bytes(info.filename, archive.read(info))
                for info in archive.infolist()]


# ---------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    """A hostile file, the reader it goes to, and what that reader must do with it.

    ``reader``: "session", "sequence" or "weights"; ``expect``: a regular expression the
    one-line refusal must match, or None when the file must be read; ``heavy``: the file
    claims gigabytes, so the test measures the reader's peak memory in a child process.
    """

    name: str
    build: Callable[[Path], Path]
    reader: str
    expect: str | None
    heavy: bool = False


def _session_member_bomb(d: Path) -> Path:
    # inputs.npy decompresses to 2.048 GB of float64 zeros, under the 2 GiB member limit.
    members = session_members(valid_session(d / "valid.rnnviz"))
    shape = (1_000_000, 256)
    bomb = zeros_member("inputs.npy", npy_header(shape, "<f8"), 8 * shape[0] * shape[1])
    members = [bomb if m.name == "inputs.npy" else m for m in members]
    return write_zip(d / "session-member-2gb.rnnviz", members)


def _nul_csv(d: Path) -> Path:
    return sparse_file(d / "nul-10gb.csv", b"", 10 * 10**9)


def _u8_npy(d: Path) -> Path:
    head = npy_header((1_000_000, 1000), "|u1")
    return sparse_file(d / "u8-1e6x1000.npy", head, len(head) + 10**9)


def _npz_bomb(d: Path) -> Path:
    shape = (1_000_000, 1000)
    member = zeros_member("inputs.npy", npy_header(shape, "|u1"), shape[0] * shape[1])
    return write_zip(d / "bomb-1e6x1000.npz", [member])


def _junk_members(count: int, size: int) -> list[RawMember]:
    head = npy_header((size // 8,), "<f8")
    return [zeros_member(f"junk{k}.npy", head, size) for k in range(count)]


def _weights_six_2gb(d: Path) -> Path:
    members = npz_members(lstm_weights()) + _junk_members(6, 2 * 10**9)
    return write_zip(d / "weights-6x2gb.npz", members)


def _weights_three_1gb(d: Path) -> Path:
    # Within the archive limits: must be read, without decompressing the junk.
    members = npz_members(lstm_weights()) + _junk_members(3, 10**9)
    return write_zip(d / "weights-3x1gb-junk.npz", members)


def _csv_lines(path: Path, line: bytes, count: int) -> Path:
    block = line * 10_000
    with open(path, "wb") as out:
        for _ in range(count // 10_000):
            out.write(block)
    return path


def _million_steps(d: Path) -> Path:
    return _csv_lines(d / "steps-1e6.csv", b"0.5,-0.25,1,2\n", 1_000_000)


def _million_steps_wide(d: Path) -> Path:
    # 40 million numbers: more than a sequence may hold; refused while reading.
    return _csv_lines(d / "steps-1e6x40.csv", b"1," * 39 + b"1\n", 1_000_000)


def _many_members(d: Path) -> Path:
    one = npy_bytes(np.zeros(1))
    members = (member_from_bytes(f"a{k}.npy", one, zipfile.ZIP_STORED) for k in range(100_000))
    return write_zip(d / "members-100k.npz", members)


def _long_layer_key(d: Path) -> Path:
    arrays = lstm_weights()
    arrays["weight_ih_l" + "1" * 5000] = np.zeros((12, 2))
    return write_zip(d / "layer-5000-digits.npz", npz_members(arrays))


def _newline_key(d: Path) -> Path:
    arrays = {"enc\nINJECTED.weight_ih_l0": np.zeros((12, 2)),
              "enc\nINJECTED.weight_hh_l0": np.zeros((12, 5))}
    return write_zip(d / "newline-key.npz", npz_members(arrays))


def _newline_name(d: Path) -> Path:
    path = d / "bad\nname.csv"
    path.write_text("1,2\n3,x\n")
    return path


def _zip_slip_session(d: Path) -> Path:
    members = session_members(valid_session(d / "valid.rnnviz"))
    members.append(member_from_bytes("../../evil.npy", b"x"))
    return write_zip(d / "zip-slip.rnnviz", members)


def _object_array(d: Path) -> Path:
    head = npy_header((3,), "|O")
    member = member_from_bytes("inputs.npy", head + b"\x80\x04N.")  # a pickle, never run
    return write_zip(d / "object-array.npz", [member])


def _lying_ratio(d: Path) -> Path:
    # Declares 1.5 GiB but stores a few bytes: no deflate stream expands that much.
    lie = RawMember("inputs.npy", (b"\x03\x00",), 0, 3 * (1 << 29))
    return write_zip(d / "lying-size.npz", [lie])


def _unrelated_arrays(d: Path) -> Path:
    arrays = {"alpha": np.zeros((5, 2)), "beta": np.ones((5, 1))}
    return write_zip(d / "unrelated.npz", npz_members(arrays))


def _utf16_csv(d: Path) -> Path:
    path = d / "utf16.csv"
    path.write_bytes("a,b\n1.5,2\n3,4\n".encode("utf-16"))
    return path


def _utf16_no_bom(d: Path) -> Path:
    path = d / "utf16le.csv"
    path.write_bytes("a;b\n1,5;2\n3;4\n".encode("utf-16-le"))
    return path


def _session_json_edit(d: Path, file_name: str, old: bytes, new: bytes) -> Path:
    members = session_members(valid_session(d / "valid.rnnviz"))
    out = []
    for member in members:
        if member.name == "session.json":
            with zipfile.ZipFile(d / "valid.rnnviz") as archive:
                text = archive.read("session.json")
            assert old in text
            member = member_from_bytes("session.json", text.replace(old, new, 1))
        out.append(member)
    return write_zip(d / file_name, out)


def _hidden_1e400(d: Path) -> Path:
    return _session_json_edit(d, "hidden-1e400.rnnviz", b'"hidden_size": 3',
                              b'"hidden_size": 1e400')


def _huge_int(d: Path) -> Path:
    return _session_json_edit(d, "huge-int.rnnviz", b'"step": 3', b'"step": 1' + b"0" * 5000)


def _random_pth(d: Path) -> Path:
    path = d / "random.pth"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    return path


CASES: tuple[Case, ...] = (
    Case("session-member-2gb", _session_member_bomb, "session",
         r"inputs\.npy holds 256,000,000 numbers \(\(1000000, 256\)\), more than the", True),
    Case("nul-10gb", _nul_csv, "sequence",
         r"^nul-10gb\.csv: the file is 9\.3 GiB, more than the .* a text sequence may be$",
         True),
    Case("u8-1e6x1000", _u8_npy, "sequence",
         r"holds 1,000,000,000 numbers \(\(1000000, 1000\)\), more than the", True),
    Case("npz-bomb-1e6x1000", _npz_bomb, "sequence",
         r"array 'inputs' holds 1,000,000,000 numbers \(\(1000000, 1000\)\), more than the",
         True),
    Case("weights-6x2gb", _weights_six_2gb, "weights",
         r"declares 11\.2 GiB uncompressed, more than the 4\.0 GiB allowed", True),
    Case("weights-3x1gb-junk", _weights_three_1gb, "weights", None, True),
    Case("steps-1e6", _million_steps, "sequence", None, True),
    Case("steps-1e6x40", _million_steps_wide, "sequence",
         r"more than the 33,554,432 numbers a sequence may hold", True),
    Case("members-100k", _many_members, "sequence",
         r"^members-100k\.npz: the archive has 100000 members, more than the 1000 allowed$"),
    Case("layer-5000-digits", _long_layer_key, "weights", r"layer index .* at most 16 layers"),
    Case("newline-key", _newline_key, "weights", r"\\n"),
    Case("newline-name", _newline_name, "sequence", r"^bad\\nname\.csv: row 2, column 2"),
    Case("zip-slip", _zip_slip_session, "session", r"unsafe member name '\.\./\.\./evil\.npy'"),
    Case("object-array", _object_array, "sequence", r"holds Python objects"),
    Case("lying-size", _lying_ratio, "sequence", r"declares 1\.5 GiB .* compressed"),
    Case("unrelated-arrays", _unrelated_arrays, "sequence", r"'alpha', 'beta'"),
    Case("utf16", _utf16_csv, "sequence", None),
    Case("utf16-no-bom", _utf16_no_bom, "sequence", None),
    Case("hidden-1e400", _hidden_1e400, "session", r"session\.json is not valid JSON .*too large"),
    Case("huge-int", _huge_int, "session", r"session\.json is not valid JSON"),
    Case("random-pth", _random_pth, "weights", r"not a PyTorch file|torch is not installed"),
)


def build_all(directory: Path) -> Iterator[tuple[Case, Path]]:
    directory.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        sub = directory / case.name
        sub.mkdir(exist_ok=True)
        yield case, case.build(sub)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    for case, path in build_all(target):
        print(json.dumps({"case": case.name, "path": str(path), "bytes": path.stat().st_size}))
