"""``rnnviz export ...``: figures, data and animations of a run, without a display."""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from rnnviz.cli.common import CELLS, Parser, UsageError, csv_list
from rnnviz.gui.panels.registry import PANELS, export_targets

FIGURE_FORMATS = ("png", "svg", "pdf", "gif", "mp4")
DATA_FORMATS = ("csv", "npz")
FORMATS = FIGURE_FORMATS + DATA_FORMATS


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="rnnviz export",
                description="Write figures and data of a run, without a display.")
    p.add_argument("session", nargs="?", help="a .rnnviz session file")
    p.add_argument("--demo", help="a bundled demo (sine, adding, vanishing, exploding, text)")
    p.add_argument("--input", help="a sequence file (CSV/TSV/NPY/NPZ): rows = steps")
    p.add_argument("--target-column", help="the input file's target column (name or index)")
    p.add_argument("--cell", choices=sorted(CELLS), help="cell type")
    p.add_argument("--hidden", type=int, help="hidden units per layer")
    p.add_argument("--layers", type=int, help="number of stacked layers")
    p.add_argument("--seed", type=int, help="initialisation seed")
    p.add_argument("--scale", type=float, help="recurrent weight spectral radius")
    p.add_argument("--weights", help="trained weights (.npz, .safetensors, .pt/.pth)")
    p.add_argument("--prefix", help="the weights' key prefix, e.g. 'encoder.rnn.'")
    p.add_argument("--compare", type=csv_list(tuple(CELLS), "cell"),
                   help="comma-separated cells, e.g. rnn_tanh,lstm,gru: compare the model with "
                   "these cell types (figures per model as <panel>-<model>.png, and compare.png)")
    p.add_argument("--matched-params", action="store_true",
                   help="with --compare: size each cell to the model's parameter count")
    p.add_argument("--out", required=True, help="output directory (created if missing)")
    p.add_argument("--format", type=csv_list(FORMATS, "format"), default=["png"],
                   help=f"comma-separated: {','.join(FORMATS)} (default png)")
    p.add_argument("--panels", type=csv_list(export_targets(), "panel"),
                   help=f"comma-separated: {','.join(export_targets())} (default: every panel the "
                   "network has something to show in)")
    p.add_argument("--step", type=int, help="the cursor step drawn on the figures")
    p.add_argument("--width", type=int, default=1600, help="figure width in pixels (PNG)")
    p.add_argument("--fps", type=float, default=10.0, help="animation frames per second")
    p.add_argument("--stride", type=int, default=1, help="animation: steps per frame")
    p.add_argument("--quiet", action="store_true",
                   help="no progress on stderr (shown for exports that take a while)")
    add_figure_arguments(p)
    return p


def add_figure_arguments(p: argparse.ArgumentParser) -> None:
    """``--figure`` and how the figure for a handout is made."""
    group = p.add_argument_group("a figure for a handout")
    group.add_argument("--figure", action="store_true",
                       help="write the image formats (png, svg, pdf) as one figure of the "
                       "panels, figure.<format>: panel letters, a title, a caption")
    group.add_argument("--dpi", type=int, default=300, help="figure resolution (PNG)")
    group.add_argument("--figure-width", type=float, default=7.0,
                       help="figure width in inches (default 7)")
    group.add_argument("--title", default="", help="the figure's title")
    group.add_argument("--caption", help="the caption (default: the model's description)")


def handout_options(args: argparse.Namespace):
    """The figure's options from ``args`` (None without --figure)."""
    if not args.figure:
        if args.title or args.caption is not None:
            raise UsageError("--title and --caption go with --figure")
        return None
    from rnnviz.gui.export.handout import MAX_DPI

    if not 36 <= args.dpi <= MAX_DPI:
        raise UsageError(f"--dpi must lie in 36..{MAX_DPI}")
    if not 1.0 <= args.figure_width <= 40.0:
        raise UsageError("--figure-width must lie in 1..40 inches")
    from rnnviz.gui.export.headless import HandoutOptions

    return HandoutOptions(title=args.title, caption=args.caption, width_in=args.figure_width,
                          dpi=args.dpi, cursor=args.step is not None)


class StderrProgress:
    """Progress of a long export on stderr: nothing for the first ``after`` seconds (most
    exports are done by then), then "rnnviz export: hidden.gif 40%" for the file being
    written — rewritten in place on a terminal; otherwise a line as each file starts and, for
    animations, at each quarter."""

    def __init__(self, stream: TextIO | None = None, after: float = 2.0) -> None:
        self.stream = stream or sys.stderr
        self.after = after
        self.start = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._shown: tuple[str, int] | None = None
        self._open_line = False

    def __call__(self, name: str, fraction: float) -> None:
        if time.perf_counter() - self.start < self.after:
            return
        percent = int(round(100 * fraction))
        step = percent if self.tty else 25 * (percent // 25)
        if self._shown == (name, step) or (not self.tty and 0 < fraction and step in (0, 100)):
            return
        self._shown = (name, step)
        text = (f"rnnviz export: {name} {step}%" if self.tty or fraction > 0
                else f"rnnviz export: writing {name}")
        if self.tty:
            self.stream.write("\r" + text.ljust(60))
            self._open_line = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self) -> None:
        """End an in-place line, so what follows starts on a line of its own."""
        if self._open_line:
            self.stream.write("\n")
            self.stream.flush()
            self._open_line = False


MAX_SHOWN_PATH = 100  # longer paths are shortened in messages, which stay one line


def shown_path(path: str | os.PathLike[str]) -> str:
    """``path`` for a one-line message: its end, if it is longer than MAX_SHOWN_PATH."""
    text = " ".join(str(path).split())
    return text if len(text) <= MAX_SHOWN_PATH else "…" + text[-(MAX_SHOWN_PATH - 1):]


def os_problem(exc: OSError) -> str:
    """An OSError as one line: the file (shortened) and what went wrong."""
    reason = exc.strerror or type(exc).__name__
    name = exc.filename if exc.filename is not None else None
    return f"{shown_path(name)}: {reason}" if name is not None else reason


def build_document(args: argparse.Namespace):
    """The document to export: from a session, a demo or an input file, then the overrides."""
    from rnnviz.engine import EngineError
    from rnnviz.io.errors import FileFormatError
    from rnnviz.io.opener import open_file
    from rnnviz.session import SessionError, ViewState
    from rnnviz.session.demos import load_demo

    sources = [s for s in (args.session, args.demo, args.input) if s]
    if len(sources) > 1:
        raise UsageError("give one of SESSION, --demo or --input, not several")
    if args.prefix is not None and not args.weights:
        raise UsageError("--prefix goes with --weights")
    if args.target_column is not None and not args.input:
        raise UsageError("--target-column goes with --input")
    try:
        view = ViewState()
        if args.session:
            opened = open_file(args.session, load_demo("sine"), expect="session")
            doc, view = opened.document, opened.view or view
        else:
            doc = load_demo(args.demo or "sine")
            if args.input:
                doc = open_file(args.input, doc, target_column=args.target_column,
                                expect="sequence").document
        changes = {k: v for k, v in (("cell", CELLS.get(args.cell or "")),
                                     ("hidden_size", args.hidden), ("num_layers", args.layers),
                                     ("seed", args.seed), ("recurrent_scale", args.scale))
                   if v is not None}
        if changes and args.weights and set(changes) - {"recurrent_scale"}:
            raise UsageError("--cell/--hidden/--layers/--seed cannot be combined with --weights")
        if args.weights:
            doc = open_file(args.weights, doc, prefix=args.prefix, expect="weights").document
        if changes:
            doc = doc.with_models(tuple(m.with_config(m.config.replace(**changes))
                                        for m in doc.models))
        if args.compare:
            doc, view = _comparison(doc, view, args.compare, args.matched_params)
        elif args.matched_params:
            raise UsageError("--matched-params goes with --compare")
        if args.step is not None:
            if not 0 <= args.step < doc.sequence.steps:
                raise UsageError(f"--step must lie in 0..{doc.sequence.steps - 1}")
            view = replace(view, step=args.step, reveal=False, phase="forward")
    except (FileFormatError, SessionError, EngineError) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:  # a name the file system refuses (too long), a missing device
        raise UsageError(os_problem(exc)) from None
    return doc, view


def _comparison(doc, view, cells: list[str], matched: bool):
    """The document's selected model compared with the given cell types."""
    from rnnviz.session.compare import compare_cells

    base = doc.models[view.model]
    new = compare_cells(doc, view.model, [CELLS[c] for c in cells], matched)
    index = next((k for k, m in enumerate(new.models) if m is base), 0)
    return new, replace(view, model=index)


def run_export(args: argparse.Namespace,
               progress: StderrProgress | None = None) -> list[Path]:
    """Write every requested format; returns the files written. ``progress(name, fraction)``
    follows the files being written."""
    if args.width < 16 or args.width > 16384:
        raise UsageError("--width must lie in 16..16384 pixels")
    if not 0 < args.fps <= 60 or args.stride < 1:
        raise UsageError("--fps must lie in (0, 60] and --stride be at least 1")
    handout = handout_options(args)
    if handout is not None and args.compare:
        raise UsageError("--figure draws one network: leave out --compare (a saved session's "
                         "figure shows its selected model)")
    doc, view = build_document(args)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {shown_path(out)}: {exc.strerror}") from None
    from rnnviz.engine import EngineError
    from rnnviz.io.run_export import ExportError, write_run_npz
    from rnnviz.session import Session, SessionError, compute

    session = Session(doc, view)
    try:
        session.accept(compute(doc))
    except (SessionError, EngineError) as exc:
        raise UsageError(str(exc)) from None
    except MemoryError:
        raise UsageError(f"not enough memory for {doc.sequence.steps} steps of "
                         f"{len(doc.models)} network(s)") from None
    written: list[Path] = []
    try:
        if "npz" in args.format and len(doc.models) > 1:
            from rnnviz.session.compare import model_file_names

            for k, name in enumerate(model_file_names(doc)):
                written += write_run_npz(out / f"run-{name}.npz", session.results.model(k))
        elif "npz" in args.format:
            written += write_run_npz(out / "run.npz", session.results.model(view.model))
        figure_formats = [f for f in args.format if f != "npz"]
        if figure_formats:
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
            from rnnviz.gui.export.headless import export_views

            if len(doc.models) > 1 and handout is None:
                from rnnviz.gui.compare.export import export_comparison

                written += export_comparison(session, out, figure_formats, args.panels,
                                             width=args.width, fps=args.fps,
                                             stride=args.stride, progress=progress)
            else:
                panels = args.panels or [s.key for s in PANELS if s.shown]
                written += export_views(session, out, figure_formats, panels,
                                        width=args.width, fps=args.fps, stride=args.stride,
                                        skip_empty=args.panels is None, progress=progress,
                                        handout=handout)
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(os_problem(exc)) from None
    return written


def run(args: argparse.Namespace) -> int:
    progress = None if args.quiet else StderrProgress()
    try:
        written = run_export(args, progress)
    finally:
        if progress is not None:
            progress.done()
    for path in written:
        print(path)
    return 0
