"""Export animations (the cursor sweeping through time, BPTT flowing back) as GIF or MP4.

The caller renders each frame (``render_frame(step)`` returning a ``QImage`` or an RGB array,
e.g. built on :func:`rnnviz.gui.export.figures.render_figure`); this module only encodes them.
GIF goes through imageio's pillow plugin, MP4 through imageio-ffmpeg (H.264, yuv420p). The file is
written beside its final name and moved into place only when complete, so a cancelled or failed
export leaves nothing behind (and an older file of the same name untouched).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from collections.abc import Sequence as SequenceABC
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
from PySide6 import QtGui

from rnnviz.io.run_export import ExportError

__all__ = [
    "ANIMATION_FORMATS",
    "MAX_FPS",
    "MAX_GIF_FPS",
    "MP4_BLOCK",
    "export_animation",
    "frame_steps",
    "qimage_to_array",
]

ANIMATION_FORMATS = (".gif", ".mp4")
MAX_FPS = 60.0
# GIF delays are whole hundredths of a second, and browsers slow anything under 2 of them down.
MAX_GIF_FPS = 50.0
# H.264 encoders work on 16x16 macroblocks; other sizes get rescaled (blurred) by ffmpeg.
MP4_BLOCK = 16
# imageio-ffmpeg's 0-10 scale; high, because thin plot lines smear at ordinary video quality.
_MP4_QUALITY = 8

Frame = QtGui.QImage | QtGui.QPixmap | np.ndarray


def frame_steps(steps: int, stride: int = 1) -> list[int]:
    """The steps to render for a sequence of ``steps`` steps: 0, stride, 2*stride, ... and
    always the last step, so the animation ends on the complete picture."""
    for name, value in (("the number of steps", steps), ("the frame stride", stride)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ExportError(f"{name} must be a positive whole number, got {value!r}")
    picked = list(range(0, steps, stride))
    if picked[-1] != steps - 1:
        picked.append(steps - 1)
    return picked


def qimage_to_array(image: QtGui.QImage | QtGui.QPixmap) -> np.ndarray:
    """An (H, W, 3) uint8 RGB copy of ``image``; transparent parts are shown over white."""
    if isinstance(image, QtGui.QPixmap):
        image = image.toImage()
    if image.isNull():
        raise ExportError("the frame is an empty image")
    rgba = image.convertToFormat(QtGui.QImage.Format.Format_RGBA8888)
    h, w, stride = rgba.height(), rgba.width(), rgba.bytesPerLine()
    rows = np.frombuffer(rgba.constBits(), dtype=np.uint8, count=h * stride).reshape(h, stride)
    return _rgb_over_white(rows[:, : w * 4].reshape(h, w, 4))


def export_animation(
    path: str | os.PathLike[str],
    render_frame: Callable[[int], Frame],
    steps: SequenceABC[int] | range,
    fps: float,
    progress: Callable[[float], bool | None] | None = None,
) -> bool:
    """Render ``render_frame(step)`` for each of ``steps`` and write them to ``path`` (.gif/.mp4).

    Frames are ``QImage``/``QPixmap`` or uint8 arrays (H, W, 3) / (H, W, 4), all the same size.
    ``fps``: frames per second, at most 60 (50 for GIF, whose delays are whole hundredths of a
    second; Pillow also merges identical consecutive GIF frames into one longer frame).
    MP4 frames are padded on the right and bottom to multiples of 16 pixels by repeating the
    edge pixels.
    ``progress(fraction)`` is called after each frame; returning False cancels.

    Returns True when the file was written, False when cancelled (nothing is left behind).
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in ANIMATION_FORMATS:
        shown = f"'{target.suffix}'" if target.suffix else "no suffix"
        raise ExportError(f"{target}: unknown animation format {shown}; use .gif or .mp4")
    steps = list(steps)
    if not steps:
        raise ExportError(f"{target}: no frames to export")
    if isinstance(fps, bool) or not isinstance(fps, int | float) or not 0 < fps <= MAX_FPS:
        raise ExportError(f"the frame rate must be between 0 and {MAX_FPS:g} fps, got {fps!r}")
    if suffix == ".gif" and fps > MAX_GIF_FPS:
        raise ExportError(f"{target}: a GIF plays at most {MAX_GIF_FPS:g} fps, got {fps:g}")
    temp = _reserve_temp(target)
    writer: _Writer = _GifWriter(temp, fps) if suffix == ".gif" else _Mp4Writer(temp, fps)
    try:
        first: tuple[int, ...] | None = None
        for done, step in enumerate(steps, start=1):
            frame = _as_rgb(render_frame(step))
            if first is None:
                first = frame.shape
            elif frame.shape != first:
                raise ExportError(
                    f"{target}: the frame for step {step} is {frame.shape[1]}x{frame.shape[0]} "
                    f"pixels, the first was {first[1]}x{first[0]}"
                )
            writer.append(frame)
            if progress is not None and progress(done / len(steps)) is False:
                writer.abort()
                _remove(temp)
                return False
        writer.close()
        try:
            os.replace(temp, target)
        except OSError as exc:
            raise ExportError(f"{target}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        writer.abort()
        _remove(temp)
        raise
    return True


# ---- frames -----------------------------------------------------------------------------------
def _as_rgb(frame: Any) -> np.ndarray:
    if isinstance(frame, QtGui.QImage | QtGui.QPixmap):
        return qimage_to_array(frame)
    if not isinstance(frame, np.ndarray):
        raise ExportError(f"a frame must be a QImage or an RGB array, got {type(frame).__name__}")
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise ExportError(
            f"a frame array must be uint8 (H, W, 3) or (H, W, 4), got {frame.dtype} {frame.shape}"
        )
    if frame.shape[0] < 1 or frame.shape[1] < 1:
        raise ExportError(f"a frame must have pixels, got shape {frame.shape}")
    return _rgb_over_white(frame) if frame.shape[2] == 4 else np.ascontiguousarray(frame)


def _rgb_over_white(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 from straight (not premultiplied) RGBA (H, W, 4)."""
    alpha = rgba[..., 3:4]
    if np.all(alpha == 255):
        return np.ascontiguousarray(rgba[..., :3])
    a = alpha.astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.rint(rgb).astype(np.uint8)


def _pad_to_block(frame: np.ndarray, block: int) -> np.ndarray:
    h, w = frame.shape[:2]
    pad_h, pad_w = -h % block, -w % block
    if not pad_h and not pad_w:
        return frame
    return np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")


# ---- writers ----------------------------------------------------------------------------------
class _Writer:
    def append(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        """Stop without finishing the file (it is removed by the caller)."""


class _GifWriter(_Writer):
    """Collects the frames; the palette of each is chosen when the file is written at the end."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path = path
        # Pillow truncates to hundredths of a second; round to the nearest instead.
        self.duration_ms = 10 * round(100.0 / fps)
        self.frames: list[np.ndarray] = []

    def append(self, frame: np.ndarray) -> None:
        self.frames.append(frame)

    def close(self) -> None:
        try:
            with iio.imopen(self.path, "w", plugin="pillow", extension=".gif") as file:
                for frame in self.frames:
                    # imageio's GIF duration is in milliseconds per frame; loop=0 repeats forever
                    file.write(frame, is_batch=False, duration=self.duration_ms, loop=0)
        except OSError as exc:
            raise ExportError(f"{self.path}: cannot write the GIF ({exc})") from None
        finally:
            self.frames = []

    def abort(self) -> None:
        self.frames = []


class _Mp4Writer(_Writer):
    """Streams frames to ffmpeg as they come."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path = path
        self.fps = fps
        self.encoder: Any = None

    def append(self, frame: np.ndarray) -> None:
        frame = _pad_to_block(frame, MP4_BLOCK)
        try:
            if self.encoder is None:
                self.encoder = imageio_ffmpeg.write_frames(
                    str(self.path),
                    (frame.shape[1], frame.shape[0]),
                    fps=self.fps,
                    codec="libx264",
                    pix_fmt_in="rgb24",
                    pix_fmt_out="yuv420p",
                    quality=_MP4_QUALITY,
                    macro_block_size=MP4_BLOCK,
                    ffmpeg_log_level="error",
                )
                self.encoder.send(None)  # starts ffmpeg
            self.encoder.send(np.ascontiguousarray(frame))
        except (OSError, RuntimeError) as exc:
            raise ExportError(f"{self.path}: cannot write the MP4 ({_first_line(exc)})") from None

    def close(self) -> None:
        if self.encoder is None:
            return
        encoder, self.encoder = self.encoder, None
        try:
            encoder.close()
        except (OSError, RuntimeError) as exc:
            raise ExportError(f"{self.path}: cannot write the MP4 ({_first_line(exc)})") from None

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


# ---- files ------------------------------------------------------------------------------------
def _reserve_temp(target: Path) -> Path:
    """Create an empty temporary file beside ``target`` (ending in its suffix, which is how the
    encoders pick the container); fails early with a clear error when the folder is unwritable."""
    if not target.parent.is_dir():
        raise ExportError(f"{target}: the folder {target.parent} does not exist")
    for _ in range(100):
        temp = target.with_name(f".{target.stem}.{secrets.token_hex(4)}.part{target.suffix}")
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        except OSError as exc:
            raise ExportError(f"{target}: cannot write ({exc.strerror or exc})") from None
        return temp
    raise ExportError(f"{target}: cannot create a temporary file beside it")


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
