"""Writers check what they wrote: on a disk that fills up (a file size limit in the exporting
process and the encoders it starts), every format ends with exit 2, one line naming the file,
and nothing left behind — an MP4 that ffmpeg could not finish is not listed as written."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys

import pytest

LIMIT = 20_000  # bytes: room for nothing the export writes


def _small_disk() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail (EFBIG)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE semantics")
@pytest.mark.parametrize("fmt", ["mp4", "gif", "png", "svg", "pdf", "csv", "npz"])
def test_a_full_disk_is_an_error_and_leaves_no_file(tmp_path, fmt):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run(
        [sys.executable, "-m", "rnnviz", "export", "--demo", "sine", "--format", fmt,
         "--panels", "hidden", "--out", str(tmp_path), "--quiet"],
        preexec_fn=_small_disk, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""  # nothing claimed as written
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("rnnviz export: error: ")
    assert ".part" not in done.stderr  # the user's file is named, not a temporary
    assert os.listdir(tmp_path) == []


def test_an_encoder_that_says_nothing_about_a_full_disk_is_caught(tmp_path):
    """ffmpeg reporting "No space left on device" and still exiting 0, leaving a stub."""
    fake = tmp_path / "ffmpeg"
    real = subprocess.run([sys.executable, "-c", "import imageio_ffmpeg as f; "
                           "print(f.get_ffmpeg_exe())"], capture_output=True, text=True).stdout
    fake.write_text(
        "#!/bin/sh\n"
        f'case " $* " in *" -i -"*) ;; *) exec "{real.strip()}" "$@";; esac\n'  # reading: real
        'for last; do :; done\n'
        'cat > /dev/null\n'
        'printf "\\000\\000\\000\\030ftypisom" > "$last"\n'
        'case " $* " in *"-v quiet"*) ;; '
        '*) echo "av_interleaved_write_frame(): No space left on device" >&2;; esac\n'
        "exit 0\n")
    fake.chmod(0o755)
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["IMAGEIO_FFMPEG_EXE"] = str(fake)
    done = subprocess.run(
        [sys.executable, "-m", "rnnviz", "export", "--demo", "sine", "--format", "mp4",
         "--panels", "hidden", "--stride", "20", "--out", str(out), "--quiet"],
        capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == "" and done.stderr.count("\n") == 1
    assert "hidden.mp4" in done.stderr
    assert os.listdir(out) == []
