"""Export animations (the cursor sweeping through time, BPTT flowing back) as GIF or MP4.

The caller renders each frame (``render_frame(step)`` returning a ``QImage`` or an RGB array,
e.g. built on :func:`rnnviz.gui.export.figures.render_figure`); this module only encodes them,
as they come (memory stays at a few frames, however many there are).

GIF: one palette for the animation, chosen from the first frame (a new one, as a frame's own
table, only for a frame with colours the palette lacks), each frame mapped to it through a
table of 64³ colours, and only the part of a frame that changed is stored — frames of a
cursor sweep differ in a few columns. (Quantising every frame afresh, as Pillow does when
given RGB frames, was most of an export's time.) MP4 goes through imageio-ffmpeg (H.264,
yuv420p). The file is written beside its final name and moved into place only when complete
and checked, so a cancelled or failed export leaves nothing behind (and an older file of the
same name untouched).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from collections.abc import Sequence as SequenceABC
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
from PIL import GifImagePlugin, Image
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
    return _rgb24(_as_rgb32(image))


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
    second; identical consecutive GIF frames are merged into one longer frame).
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
    writer: _Writer = (_GifWriter(temp, fps, target) if suffix == ".gif"
                       else _Mp4Writer(temp, fps, target))
    try:
        first: tuple[int, ...] | None = None
        for done, step in enumerate(steps, start=1):
            frame = _as_rgb32(render_frame(step))
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
        _check_written(temp, target, suffix, len(steps))
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
def _as_rgb32(frame: Any) -> np.ndarray:
    """(H, W) uint32 0xFFRRGGBB of ``frame``, transparent parts shown over white."""
    if isinstance(frame, QtGui.QImage | QtGui.QPixmap):
        image = frame.toImage() if isinstance(frame, QtGui.QPixmap) else frame
        if image.isNull():
            raise ExportError("the frame is an empty image")
        if image.hasAlphaChannel():
            opaque = QtGui.QImage(image.size(), QtGui.QImage.Format.Format_RGB32)
            opaque.fill(QtGui.QColor("white"))
            painter = QtGui.QPainter(opaque)
            painter.drawImage(0, 0, image)
            painter.end()
            image = opaque
        elif image.format() != QtGui.QImage.Format.Format_RGB32:
            image = image.convertToFormat(QtGui.QImage.Format.Format_RGB32)
        h, w, stride = image.height(), image.width(), image.bytesPerLine()
        rows = np.frombuffer(image.constBits(), dtype=np.uint32, count=h * stride // 4)
        return np.array(rows.reshape(h, stride // 4)[:, :w])
    if not isinstance(frame, np.ndarray):
        raise ExportError(f"a frame must be a QImage or an RGB array, got {type(frame).__name__}")
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise ExportError(
            f"a frame array must be uint8 (H, W, 3) or (H, W, 4), got {frame.dtype} {frame.shape}"
        )
    if frame.shape[0] < 1 or frame.shape[1] < 1:
        raise ExportError(f"a frame must have pixels, got shape {frame.shape}")
    rgb = _rgb_over_white(frame) if frame.shape[2] == 4 else frame
    r, g, b = (rgb[..., k].astype(np.uint32) for k in range(3))
    return (np.uint32(0xFF000000) | (r << 16) | (g << 8) | b).astype(np.uint32)


def _rgb24(frame: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 of a (H, W) 0xFFRRGGBB frame."""
    return np.ascontiguousarray(frame.view(np.uint8).reshape(*frame.shape, 4)[..., 2::-1])


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
        """Add a (H, W) 0xFFRRGGBB frame."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        """Stop without finishing the file (it is removed by the caller)."""


CODE_BITS = 6  # bits per channel of the colour table that maps pixels to palette entries
FAR = 40  # a colour farther than this (in any channel) from every palette entry is not in it
MANY_FAR = 0.002  # a frame with more such pixels than this share gets its own palette


def _codes(frame: np.ndarray) -> np.ndarray:
    """Each pixel's colour reduced to CODE_BITS bits per channel, as one index."""
    shift = 8 - CODE_BITS
    mask = (1 << CODE_BITS) - 1
    return (((frame >> (16 + shift)) & mask) << (2 * CODE_BITS)
            | ((frame >> (8 + shift)) & mask) << CODE_BITS
            | ((frame >> shift) & mask)).astype(np.intp)


class _Palette:
    """Up to 256 colours and a table from colour codes to the nearest of them (filled in as
    codes are met)."""

    def __init__(self, frame: np.ndarray) -> None:
        rgb = Image.fromarray(_rgb24(frame))
        quantised = rgb.quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                 dither=Image.Dither.NONE)
        flat = np.frombuffer(bytes(quantised.getpalette()), np.uint8)
        used = len(flat) // 3
        self.colours = flat[: used * 3].reshape(used, 3).astype(np.int32)
        self.bytes = self.colours.astype(np.uint8).tobytes()
        self.table = np.full(1 << (3 * CODE_BITS), -1, np.int16)
        self.distance = np.zeros(1 << (3 * CODE_BITS), np.int16)

    def indices(self, frame: np.ndarray) -> tuple[np.ndarray, float]:
        """(H, W) uint8 palette indices of ``frame`` and the share of its pixels whose colour
        is far from every palette entry."""
        codes = _codes(frame)
        found = self.table[codes]
        missing = found < 0
        if missing.any():
            self._learn(np.unique(codes[missing]))
            found = self.table[codes]
        far = float(np.count_nonzero(self.distance[codes] > FAR)) / codes.size
        return found.astype(np.uint8), far

    def _learn(self, codes: np.ndarray) -> None:
        mask = (1 << CODE_BITS) - 1
        shift = 8 - CODE_BITS
        centre = np.stack([(codes >> (2 * CODE_BITS)) & mask, (codes >> CODE_BITS) & mask,
                           codes & mask], axis=1) << shift
        centre = centre + (1 << shift) // 2
        for k in range(0, len(codes), 4096):
            part = centre[k:k + 4096, None, :] - self.colours[None, :, :]
            gap = np.abs(part).max(axis=2)
            best = gap.argmin(axis=1)
            self.table[codes[k:k + 4096]] = best
            self.distance[codes[k:k + 4096]] = gap[np.arange(len(best)), best]


class _GifWriter(_Writer):
    """Streams frames into a GIF: one palette (a frame's own only when it needs one), and
    each frame as the rectangle that changed since the one before."""

    def __init__(self, path: Path, fps: float, shown: Path | None = None) -> None:
        self.path = path
        self.shown = shown or path  # the file name messages give (path is its temporary)
        # GIF delays are hundredths of a second; round to the nearest.
        self.duration_ms = 10 * round(100.0 / fps)
        self.file: Any = None
        self.palette: _Palette | None = None
        self.previous: np.ndarray | None = None  # the last frame's 0xFFRRGGBB pixels
        self.pending: tuple[Image.Image, tuple[int, int], int, bool] | None = None

    def append(self, frame: np.ndarray) -> None:
        try:
            if self.palette is None:
                self.palette = _Palette(frame)
                first = self._image(self.palette.indices(frame)[0], self.palette)
                self.file = open(self.path, "wb")  # noqa: SIM115 (closed in close/abort)
                header, _ = GifImagePlugin.getheader(
                    first, info={"loop": 0, "duration": self.duration_ms})
                self._write(header)
                self.pending = (first, (0, 0), self.duration_ms, False)
                self.previous = frame
                return
            changed = frame != self.previous
            if not changed.any():  # the same picture: the last frame lasts longer
                image, offset, duration, local = self.pending
                self.pending = (image, offset, duration + self.duration_ms, local)
                return
            rows = np.flatnonzero(changed.any(axis=1))
            cols = np.flatnonzero(changed.any(axis=0))
            y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
            part = frame[y0:y1, x0:x1]
            indices, far = self.palette.indices(part)
            palette, local = self.palette, False
            if far > MANY_FAR:  # colours the animation's palette lacks: this frame's own
                palette, local = _Palette(part), True
                indices, _ = palette.indices(part)
            self._flush()
            self.pending = (self._image(indices, palette), (int(x0), int(y0)),
                            self.duration_ms, local)
            self.previous = frame
        except OSError as exc:
            raise ExportError(f"{self.shown}: cannot write the GIF ({exc.strerror or exc})") \
                from None

    @staticmethod
    def _image(indices: np.ndarray, palette: _Palette) -> Image.Image:
        image = Image.fromarray(np.ascontiguousarray(indices), mode="P")
        image.putpalette(palette.bytes)
        return image

    def _flush(self) -> None:
        if self.pending is None:
            return
        image, offset, duration, local = self.pending
        self.pending = None
        self._write(GifImagePlugin.getdata(image, offset, duration=duration,
                                           include_color_table=local))

    def _write(self, chunks) -> None:
        for chunk in chunks:
            self.file.write(chunk)

    def close(self) -> None:
        if self.file is None:
            return
        try:
            self._flush()
            self.file.write(b";")  # the GIF trailer
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
        except OSError as exc:
            raise ExportError(f"{self.shown}: cannot write the GIF ({exc.strerror or exc})") \
                from None
        finally:
            self.file = None

    def abort(self) -> None:
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.close()
            self.file = None


class _Mp4Writer(_Writer):
    """Streams frames to ffmpeg as they come."""

    def __init__(self, path: Path, fps: float, shown: Path | None = None) -> None:
        self.path = path
        self.shown = shown or path
        self.fps = fps
        self.encoder: Any = None

    def append(self, frame: np.ndarray) -> None:
        frame = _pad_to_block(_rgb24(frame), MP4_BLOCK)
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
                    # ffmpeg's own lines would break the one-line message; what went wrong
                    # is found by reading the file back (see _check_written)
                    ffmpeg_log_level="quiet",
                )
                self.encoder.send(None)  # starts ffmpeg
            self.encoder.send(np.ascontiguousarray(frame))
        except (OSError, RuntimeError, StopIteration) as exc:
            raise ExportError(f"{self.shown}: cannot write the MP4 ({_first_line(exc)})") from None

    def close(self) -> None:
        if self.encoder is None:
            return
        encoder, self.encoder = self.encoder, None
        try:
            encoder.close()
        except (OSError, RuntimeError, StopIteration) as exc:
            raise ExportError(f"{self.shown}: cannot write the MP4 ({_first_line(exc)})") from None

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def _check_written(temp: Path, target: Path, suffix: str, frames: int) -> None:
    """Refuse a file that is not what was asked for: empty, cut short (a full disk that the
    encoder did not report), or holding fewer frames."""
    try:
        size = temp.stat().st_size
    except OSError as exc:
        raise ExportError(f"{target}: cannot write ({exc.strerror or exc})") from None
    if size == 0:
        raise ExportError(f"{target}: nothing was written (is the disk full?)")
    if suffix == ".gif":
        with open(temp, "rb") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b";":
                raise ExportError(f"{target}: the GIF was cut short (is the disk full?)")
        return
    try:
        reader = imageio_ffmpeg.read_frames(str(temp))
        meta = next(reader)
        count = sum(1 for _ in reader)
    except (OSError, RuntimeError, StopIteration) as exc:
        raise ExportError(f"{target}: the MP4 is unreadable ({_first_line(exc)}; is the disk "
                          "full?)") from None
    if count != frames or not meta.get("size"):
        raise ExportError(f"{target}: the MP4 holds {count} of {frames} frames (is the disk "
                          "full?)")


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
