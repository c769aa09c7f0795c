"""Atomic file writes: all or nothing."""

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from rnnviz.io.atomic import (
    STALE_SECONDS,
    atomic_open,
    atomic_write_bytes,
    remove_stale_temporaries,
    temporary_name_pid,
)


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


def test_temporary_files_have_a_recognisable_name(tmp_path):
    target = tmp_path / "lesson.rnnviz"
    with atomic_open(target) as handle:
        handle.write(b"x")
        (temp,) = [p for p in os.listdir(tmp_path) if p != "lesson.rnnviz"]
    assert temp.startswith(f".lesson.rnnviz.rnnviz-tmp-{os.getpid()}-")
    assert temporary_name_pid(temp) == os.getpid()
    assert temporary_name_pid("lesson.rnnviz") is None
    assert temporary_name_pid(".x.rnnviz-tmp-12-zzzzzzzz") is None  # not what we write


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporaries_of_this_app_are_removed_by_the_next_save(tmp_path):
    dead = tmp_path / f".old.rnnviz.rnnviz-tmp-{_dead_pid()}-0123abcd"
    old = tmp_path / f".old.npz.rnnviz-tmp-{os.getppid()}-89abcdef"  # alive, but two hours old
    young = tmp_path / f".new.csv.rnnviz-tmp-{os.getppid()}-fedcba98"  # a save running now
    other = tmp_path / ".notes.txt.tmp"  # not ours
    for path in (dead, old, young, other):
        path.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    atomic_write_bytes(tmp_path / "out.bin", b"data")
    assert sorted(os.listdir(tmp_path)) == sorted([young.name, other.name, "out.bin"])
    assert remove_stale_temporaries(tmp_path, now=time.time() + 2 * STALE_SECONDS) == 1


@pytest.mark.skipif(os.name != "posix", reason="kill -9")
def test_a_save_killed_half_way_leaves_the_old_file_and_a_temporary_the_next_save_removes(
    tmp_path,
):
    target = tmp_path / "work.rnnviz"
    target.write_bytes(b"the old, complete file")
    script = textwrap.dedent(
        f"""
        import sys, time
        from rnnviz.io.atomic import atomic_open
        with atomic_open({str(target)!r}) as handle:
            handle.write(b"half of the new file")
            handle.flush()
            print("writing", flush=True)
            time.sleep(60)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"writing"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    leftovers = [p for p in os.listdir(tmp_path) if p != "work.rnnviz"]
    assert len(leftovers) == 1 and temporary_name_pid(leftovers[0]) == child.pid
    assert target.read_bytes() == b"the old, complete file"
    atomic_write_bytes(target, b"the new file")
    assert os.listdir(tmp_path) == ["work.rnnviz"]
    assert target.read_bytes() == b"the new file"
