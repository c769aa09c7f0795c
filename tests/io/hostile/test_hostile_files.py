"""The hostile-file corpus: every file refused with one line (or read, when within the limits),
never a traceback, and the files that claim gigabytes handled in a child process whose peak
memory is measured (ru_maxrss) and must stay under 1 GiB."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rnnviz.io.errors import FileFormatError
from rnnviz.io.sequences import load_sequence
from rnnviz.io.session_file import load_session
from rnnviz.io.weights import load_weights

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("hostile_corpus", HERE / "corpus.py")
corpus = importlib.util.module_from_spec(_spec)
sys.modules["hostile_corpus"] = corpus
_spec.loader.exec_module(corpus)

READERS = {"session": load_session, "sequence": load_sequence, "weights": load_weights}
PEAK_LIMIT_MIB = 1024
# The child may use this much address space at most, so a reader that regresses fails the
# test with MemoryError instead of taking the machine with it.
ADDRESS_CAP = 3 << 30
LIGHT = [case for case in corpus.CASES if not case.heavy]
HEAVY = [case for case in corpus.CASES if case.heavy]


def _check_outcome(case, outcome: str, message: str, name: str) -> None:
    if case.expect is None:
        assert outcome == "read", message
        return
    assert outcome == "refused", message
    assert "\n" not in message
    assert message.startswith(name.replace("\n", "\\n") + ": "), message
    assert re.search(case.expect, message), message


@pytest.mark.parametrize("case", LIGHT, ids=[case.name for case in LIGHT])
def test_hostile_file_in_process(tmp_path, case):
    path = case.build(tmp_path)
    try:
        READERS[case.reader](path)
    except FileFormatError as exc:
        outcome, message = "refused", str(exc)
    else:
        outcome, message = "read", ""
    _check_outcome(case, outcome, message, path.name)


@pytest.mark.parametrize("case", HEAVY, ids=[case.name for case in HEAVY])
def test_hostile_file_in_bounded_memory(tmp_path, case):
    path = case.build(tmp_path)
    run = subprocess.run(
        [sys.executable, str(HERE / "probe.py"), case.reader, str(path), str(ADDRESS_CAP)],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    _check_outcome(case, result["outcome"], result["message"], path.name)
    assert result["peak_mib"] < PEAK_LIMIT_MIB, result
