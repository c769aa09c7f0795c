"""``rnnviz export ...``: figures, data and animations of a run, without a display."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

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
    return p


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
    return doc, view


def _comparison(doc, view, cells: list[str], matched: bool):
    """The document's selected model compared with the given cell types."""
    from rnnviz.session.compare import compare_cells

    base = doc.models[view.model]
    new = compare_cells(doc, view.model, [CELLS[c] for c in cells], matched)
    index = next((k for k, m in enumerate(new.models) if m is base), 0)
    return new, replace(view, model=index)


def run_export(args: argparse.Namespace) -> list[Path]:
    """Write every requested format; returns the files written."""
    if args.width < 16 or args.width > 16384:
        raise UsageError("--width must lie in 16..16384 pixels")
    if not 0 < args.fps <= 60 or args.stride < 1:
        raise UsageError("--fps must lie in (0, 60] and --stride be at least 1")
    doc, view = build_document(args)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {out}: {exc.strerror}") from None
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

            if len(doc.models) > 1:
                from rnnviz.gui.compare.export import export_comparison

                written += export_comparison(session, out, figure_formats, args.panels,
                                             width=args.width, fps=args.fps,
                                             stride=args.stride)
            else:
                panels = args.panels or [s.key for s in PANELS if s.shown]
                written += export_views(session, out, figure_formats, panels,
                                        width=args.width, fps=args.fps, stride=args.stride,
                                        skip_empty=args.panels is None)
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    return written


def run(args: argparse.Namespace) -> int:
    for path in run_export(args):
        print(path)
    return 0
