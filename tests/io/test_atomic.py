"""Atomic file writes: all or nothing."""

import os
import stat

import pytest

from rnnviz.io.atomic import atomic_open, atomic_write_bytes


def test_write_creates_file_with_content(tmp_path):
    target = tmp_path / "out.bin"
    atomic_write_bytes(target, b"\x00\x01hello")
    assert target.read_bytes() == b"\x00\x01hello"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_write_replaces_old_content(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old content that is longer")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"


def test_exception_half_way_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "session.json"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk on fire"):
        with atomic_open(target) as handle:
            handle.write(b"half of the new ")
            raise RuntimeError("disk on fire")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["session.json"]


def test_exception_leaves_no_file_when_none_existed(tmp_path):
    target = tmp_path / "new.txt"
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(target, "w") as handle:
            handle.write("partial")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


def test_text_mode_writes_utf8(tmp_path):
    target = tmp_path / "notes.txt"
    with atomic_open(target, "w") as handle:
        handle.write("Zürich ✓\n")
    assert target.read_bytes().decode("utf-8") == "Zürich ✓\n"


@pytest.mark.parametrize("mode", ["r", "rb", "a", "w+", "ab"])
def test_non_write_modes_are_refused(tmp_path, mode):
    with pytest.raises(ValueError, match="mode"):
        with atomic_open(tmp_path / "x", mode):
            pass
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_replacing_keeps_the_old_permissions(tmp_path):
    target = tmp_path / "private.npz"
    target.write_bytes(b"old")
    target.chmod(0o640)
    atomic_write_bytes(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_missing_directory_raises_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_write_bytes(tmp_path / "no" / "such" / "dir.bin", b"x")
