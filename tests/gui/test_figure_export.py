"""Figure, dashboard and animation exports: the files open, have the asked-for size and show
the plotted data."""

import os
import xml.etree.ElementTree as ET

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pyqtgraph as pg
import pytest
from PIL import Image
from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.gui.export.animation import export_animation, frame_steps, qimage_to_array
from rnnviz.gui.export.figures import (
    ExportError,
    export_figure,
    export_widget_image,
    prepare_offscreen,
    render_figure,
    render_widget,
)

SVG = "{http://www.w3.org/2000/svg}"
RED = (255, 0, 0)
SIZE = (240, 180)


@pytest.fixture
def figure(qtbot):
    """A heatmap (8 units x 20 steps, fixed levels) above a red horizontal line at y = 0.5
    with a legend."""
    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    heat = view.addPlot(row=0, col=0)
    data = np.linspace(0.0, 1.0, 160).reshape(20, 8)
    heat.addItem(pg.ImageItem(data, levels=(0.0, 1.0)))
    line = view.addPlot(row=1, col=0)
    line.addLegend(offset=(5, 5))
    line.plot([0.0, 1.0], [0.5, 0.5], pen=pg.mkPen(RED, width=2), name="loss")
    line.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
    prepare_offscreen(view, SIZE)
    return view


@pytest.fixture
def dashboard(qtbot, figure):
    top = QtWidgets.QWidget()
    qtbot.addWidget(top)
    layout = QtWidgets.QVBoxLayout(top)
    layout.addWidget(QtWidgets.QLabel("Hidden state of layer 0"))
    layout.addWidget(figure)
    prepare_offscreen(top, (300, 260))
    return top


def _rgb(path):
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def _red_ink(image, column):
    """How many pixels' worth of pure red a column holds (antialiased edges count partly)."""
    col = image[:, column]
    redness = np.clip(col[:, 0] - np.maximum(col[:, 1], col[:, 2]), 0, 255)
    return redness.sum() / 255


def _downsample(image, factor):
    h, w = image.shape[0] // factor * factor, image.shape[1] // factor * factor
    return image[:h, :w].reshape(h // factor, factor, w // factor, factor, 3).mean(axis=(1, 3))


# ---- figures --------------------------------------------------------------------------------
def test_prepare_offscreen_lays_the_widget_out_at_the_size(figure):
    assert (figure.width(), figure.height()) == SIZE
    assert figure.testAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen)


def test_png_has_the_requested_width_and_shows_the_plots(figure, tmp_path):
    path = export_figure(figure, tmp_path / "fig.png", width=720)
    image = _rgb(path)
    assert image.shape == (540, 720, 3)  # 3x, aspect ratio kept
    assert image.var() > 0
    assert _red_ink(image, 500) > 0
    gray = (image[..., 0] == image[..., 1]) & (image[..., 1] == image[..., 2])
    assert len(np.unique(image[gray][:, 0])) > 100  # the heatmap's gradient of grays


def test_png_at_higher_resolution_is_the_same_picture_with_lines_scaled(figure, tmp_path):
    small = _rgb(export_figure(figure, tmp_path / "1x.png"))
    large = _rgb(export_figure(figure, tmp_path / "4x.png", width=4 * SIZE[0]))
    assert small.shape[:2] == (SIZE[1], SIZE[0])
    # A 2-pixel line on screen stays 2 screen pixels thick: 8 pixels at 4x, not a hairline.
    assert _red_ink(large, 4 * 150) == pytest.approx(4 * _red_ink(small, 150), rel=0.25)
    assert np.abs(_downsample(large, 4) - small).mean() < 6


def test_svg_is_valid_xml_with_paths_and_the_line(figure, tmp_path):
    path = export_figure(figure, tmp_path / "fig.svg")
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    assert root.findall(f".//{SVG}path")
    strokes = {el.get("stroke") for el in root.iter()} | {
        g.get("stroke") for g in root.iter(f"{SVG}g")
    }
    assert "#ff0000" in strokes
    assert root.findall(f".//{SVG}image")  # the heatmap


def test_pdf_has_one_page_of_the_on_screen_size(figure, tmp_path):
    data = export_figure(figure, tmp_path / "fig.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    assert b"/Type /Page" in data
    # 240 x 180 screen pixels at 96 dpi = 180 x 135 points.
    assert b"/MediaBox [0 0 180.000000 135.000000]" in data


def test_plot_widget_and_plot_item_export(qtbot, tmp_path):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.plot([0, 1, 4], pen=pg.mkPen(RED))
    prepare_offscreen(widget, (200, 150))
    assert _rgb(export_figure(widget, tmp_path / "w.png")).shape == (150, 200, 3)
    item = widget.getPlotItem()
    image = _rgb(export_figure(item, tmp_path / "item.png", width=300))
    assert image.shape[1] == 300 and _red_ink(image, 150) > 0
    assert render_figure(widget, 100).width() == 100


def test_unknown_format_and_bad_widths_are_refused(figure, tmp_path):
    with pytest.raises(ExportError, match=r"fig\.bmp: unknown figure format '\.bmp'"):
        export_figure(figure, tmp_path / "fig.bmp")
    with pytest.raises(ExportError, match="no suffix"):
        export_widget_image(figure, tmp_path / "fig")
    with pytest.raises(ExportError, match="positive whole number, got 0"):
        export_figure(figure, tmp_path / "fig.png", width=0)
    with pytest.raises(ExportError, match="too large"):
        export_figure(figure, tmp_path / "fig.png", width=100_000)
    with pytest.raises(ExportError, match="cannot export a str"):
        export_figure("plot", tmp_path / "fig.png")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_path_is_a_one_line_error(figure, tmp_path):
    with pytest.raises(ExportError, match=r"missing/fig\.png: cannot write") as info:
        export_figure(figure, tmp_path / "missing" / "fig.png")
    assert "\n" not in str(info.value)


# ---- dashboards -----------------------------------------------------------------------------
def test_dashboard_png_defaults_to_the_on_screen_image(dashboard, tmp_path):
    image = _rgb(export_widget_image(dashboard, tmp_path / "d.png"))
    grabbed = qimage_to_array(dashboard.grab().toImage())
    np.testing.assert_array_equal(image, grabbed)


def test_dashboard_png_at_a_larger_width_matches_the_screen(dashboard, tmp_path):
    screen = qimage_to_array(dashboard.grab().toImage()).astype(int)
    large = _rgb(export_widget_image(dashboard, tmp_path / "d2.png", width=600))
    assert large.shape == (520, 600, 3)
    assert np.abs(_downsample(large, 2) - screen).mean() < 6
    assert render_widget(dashboard, 450).size() == QtCore.QSize(450, 390)


def test_dashboard_svg_keeps_text_and_clips_plots(dashboard, tmp_path):
    root = ET.parse(export_widget_image(dashboard, tmp_path / "d.svg")).getroot()
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert "Hidden state of layer 0" in texts
    assert root.findall(f".//{SVG}clipPath")


def test_dashboard_pdf_has_a_page(dashboard, tmp_path):
    data = export_widget_image(dashboard, tmp_path / "d.pdf").read_bytes()
    assert data.startswith(b"%PDF") and b"/Type /Page" in data
    assert b"/MediaBox [0 0 225.000000 195.000000]" in data


# ---- animations -----------------------------------------------------------------------------
def _frame(step):
    """A 70x50 frame whose red bar grows with the step, plus a green row at y = step."""
    a = np.full((50, 70, 3), 255, np.uint8)
    a[:, : 6 * (step + 1)] = RED
    a[step, :] = (0, 200, 0)
    return a


def test_frame_steps_cover_the_sequence_and_end_on_the_last_step():
    assert frame_steps(10, 3) == [0, 3, 6, 9]
    assert frame_steps(10, 4) == [0, 4, 8, 9]
    assert frame_steps(1, 5) == [0]
    with pytest.raises(ExportError, match="stride must be a positive whole number, got 0"):
        frame_steps(10, 0)


def test_qimage_to_array_gives_rgb_and_composites_over_white():
    image = QtGui.QImage(4, 3, QtGui.QImage.Format.Format_ARGB32)
    image.fill(QtGui.QColor(10, 20, 30))
    array = qimage_to_array(image)
    assert array.shape == (3, 4, 3) and array.dtype == np.uint8
    assert (array == (10, 20, 30)).all()
    image.fill(QtGui.QColor(0, 0, 0, 0))
    assert (qimage_to_array(image) == 255).all()


def test_gif_has_every_frame_with_its_duration_and_loops(tmp_path):
    fractions = []
    steps = [0, 2, 4, 6]
    done = export_animation(
        tmp_path / "a.gif", _frame, steps, fps=10, progress=lambda f: fractions.append(f) or True
    )
    assert done is True
    assert fractions == [0.25, 0.5, 0.75, 1.0]
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.n_frames == 4
        assert gif.info["loop"] == 0
        for index, step in enumerate(steps):
            gif.seek(index)
            assert gif.info["duration"] == 100  # ms at 10 fps
            frame = np.asarray(gif.convert("RGB")).astype(int)
            assert np.abs(frame - _frame(step)).max() <= 8


def test_gif_accepts_qimages(tmp_path):
    def render(step):
        image = QtGui.QImage(20, 10, QtGui.QImage.Format.Format_RGB32)
        image.fill(QtGui.QColor(step * 50, 0, 0))
        return image

    export_animation(tmp_path / "q.gif", render, range(3), fps=5)
    frames = iio.imread(tmp_path / "q.gif", index=None)
    assert frames.shape[:3] == (3, 10, 20)
    assert [int(f[0, 0, 0]) for f in frames] == [0, 50, 100]


def test_mp4_has_every_frame_padded_to_multiples_of_16(tmp_path):
    path = tmp_path / "a.mp4"
    assert export_animation(path, _frame, range(5), fps=12) is True
    assert path.stat().st_size > 0
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    frames = [np.frombuffer(f, np.uint8).reshape(64, 80, 3) for f in reader]
    assert meta["size"] == (80, 64)  # 70 x 50 padded
    assert len(frames) == 5
    assert meta["fps"] == pytest.approx(12)
    # The red bar of the last frame is 30 pixels wide (video compression blurs the edge).
    last = frames[-1].astype(int)
    assert last[40, 5, 0] > 200 and last[40, 5, 1] < 60 and last[40, 50, 1] > 200


def test_cancel_removes_the_partial_file_and_keeps_the_old_one(tmp_path):
    for name in ("a.gif", "a.mp4"):
        old = tmp_path / name
        old.write_bytes(b"previous export")
        calls = []

        def progress(fraction, calls=calls):
            calls.append(fraction)
            return fraction < 0.5

        assert export_animation(old, _frame, range(6), fps=10, progress=progress) is False
        assert len(calls) == 3  # stopped at the first False
        assert old.read_bytes() == b"previous export"
    assert sorted(os.listdir(tmp_path)) == ["a.gif", "a.mp4"]


def test_failing_frames_leave_nothing_behind(tmp_path):
    def broken(step):
        if step == 2:
            raise RuntimeError("render failed")
        return _frame(step)

    with pytest.raises(RuntimeError, match="render failed"):
        export_animation(tmp_path / "a.mp4", broken, range(4), fps=10)
    with pytest.raises(
        ExportError, match="the frame for step 1 is 10x15 pixels, the first was 10x5"
    ):
        export_animation(
            tmp_path / "b.gif", lambda s: np.zeros((10 * s + 5, 10, 3), np.uint8), range(3), fps=10
        )
    with pytest.raises(ExportError, match="uint8"):
        export_animation(tmp_path / "c.gif", lambda s: np.zeros((4, 4, 3)), range(2), fps=10)
    assert os.listdir(tmp_path) == []


def test_animation_arguments_are_checked(tmp_path):
    with pytest.raises(ExportError, match=r"a\.avi: unknown animation format '\.avi'"):
        export_animation(tmp_path / "a.avi", _frame, range(2), fps=10)
    with pytest.raises(ExportError, match="frame rate must be between 0 and 60 fps"):
        export_animation(tmp_path / "a.mp4", _frame, range(2), fps=0)
    with pytest.raises(ExportError, match="a GIF plays at most 50 fps"):
        export_animation(tmp_path / "a.gif", _frame, range(2), fps=60)
    with pytest.raises(ExportError, match="no frames"):
        export_animation(tmp_path / "a.gif", _frame, [], fps=10)
    with pytest.raises(ExportError, match="does not exist"):
        export_animation(tmp_path / "no" / "a.gif", _frame, range(2), fps=10)
    assert os.listdir(tmp_path) == []


def _text_width(image):
    """How many columns hold gray text (not black background, not the red line)."""
    return int((image.min(axis=2) > 60).any(axis=0).sum())


def test_legends_grow_with_the_image_like_everything_else(figure, tmp_path):
    # Legends ignore transformations, so a merely scaled painter would leave them small.
    legend = figure.ci.getItem(1, 0).legend
    box = legend.sceneBoundingRect().toAlignedRect()  # scene units are on-screen pixels here
    small = _rgb(export_figure(figure, tmp_path / "1x.png"))
    large = _rgb(export_figure(figure, tmp_path / "4x.png", width=4 * SIZE[0]))
    small_text = _text_width(small[box.top() : box.bottom(), box.left() : box.right()])
    large_text = _text_width(
        large[4 * box.top() : 4 * box.bottom(), 4 * box.left() : 4 * box.right()]
    )
    assert small_text > 10  # the label "loss"
    assert large_text == pytest.approx(4 * small_text, rel=0.2)
