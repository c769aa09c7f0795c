"""Autosave and crash recovery: offered once after a crash, never after a clean exit, corrupt
autosaves discarded, and a second running instance kept out of the way."""

import os
import subprocess
import sys
import textwrap
from datetime import datetime

import numpy as np
import pytest

from rnnviz.io.autosave import AutosaveStore
from rnnviz.io.errors import FileFormatError
from rnnviz.session import Document, ViewState
from rnnviz.session.demos import load_demo

VIEW = ViewState(step=4, layer=0, units=(2,), reveal=True, phase="forward")


def assert_same_document(a: Document, b: Document) -> None:
    np.testing.assert_array_equal(a.sequence.inputs, b.sequence.inputs)
    np.testing.assert_array_equal(a.sequence.targets, b.sequence.targets)
    assert a.sequence.labels == b.sequence.labels
    assert a.models[0].config == b.models[0].config and a.task == b.task


@pytest.fixture
def stores(tmp_path):
    """Make stores on one directory; each is closed at the end, like a process exiting."""
    made = []

    def make():
        store = AutosaveStore(tmp_path / "autosave")
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


def test_recovery_is_offered_once_after_a_crash(stores):
    first = stores()
    before = datetime.now().replace(microsecond=0)
    assert first.write(load_demo("text"), VIEW, "/home/u/lesson.rnnviz")
    first.close()  # the process dies without clear()

    second = stores()
    info = second.pending()
    assert info is not None
    assert info.original_path == "/home/u/lesson.rnnviz"
    assert before <= info.saved_at <= datetime.now()
    doc, view, original = second.take()
    assert_same_document(doc, load_demo("text"))
    assert view == VIEW
    assert original == "/home/u/lesson.rnnviz"
    assert second.pending() is None  # not offered again to the one that took it
    second.clear()  # the recovered document was saved

    assert stores().pending() is None


def test_recovered_work_survives_a_crash_before_the_next_autosave(stores):
    first = stores()
    assert first.write(load_demo("text"), VIEW, "/home/u/lesson.rnnviz")
    first.close()

    second = stores()
    second.take()
    assert second.holds_recovered
    second.close()  # killed 2.5 s after recovering: no autosave, no save yet

    third = stores()
    info = third.pending()
    assert info is not None and info.original_path == "/home/u/lesson.rnnviz"
    doc, view, original = third.take()
    assert_same_document(doc, load_demo("text"))
    assert (view, original) == (VIEW, "/home/u/lesson.rnnviz")


def test_first_autosave_of_the_recovered_document_releases_the_recovered_file(stores, tmp_path):
    first = stores()
    assert first.write(load_demo("text"), VIEW, None)
    first.close()

    second = stores()
    doc, view, _ = second.take()
    edited = doc.with_sequence(doc.sequence)  # the recovered document, as the window holds it
    assert second.write(edited, ViewState(step=1), None)
    assert not second.holds_recovered
    assert sorted(os.listdir(tmp_path / "autosave")) == [
        "autosave.json", "autosave.rnnviz", "running.lock"
    ]
    second.close()  # a crash now offers the newer autosave
    info = stores().pending()
    assert info is not None and info.path.name == "autosave.rnnviz"


def test_a_recovered_file_left_by_a_crash_is_not_overwritten_by_another_session(stores):
    first = stores()
    assert first.write(load_demo("text"), VIEW, None)
    first.close()
    second = stores()
    second.take()
    second.close()

    third = stores()  # does not look at pending(): must still not destroy it
    assert not third.write(load_demo("sine"), ViewState(), None)
    third.close()
    assert stores().pending() is not None


def test_recovery_after_a_real_process_crash(stores, tmp_path):
    script = textwrap.dedent(
        f"""
        import os
        from rnnviz.session.demos import load_demo
        from rnnviz.io.autosave import AutosaveStore
        from rnnviz.session import ViewState
        store = AutosaveStore({str(tmp_path / "autosave")!r})
        assert store.write(load_demo("adding"), ViewState(step=9), None)
        os._exit(3)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert result.returncode == 3, result.stderr.decode()

    store = stores()
    info = store.pending()
    assert info is not None and info.original_path is None
    doc, view, original = store.take()
    assert_same_document(doc, load_demo("adding"))
    assert view == ViewState(step=9)
    assert original is None
    store.clear()
    store.close()
    assert stores().pending() is None


def test_clean_exit_leaves_nothing_pending(stores, tmp_path):
    store = stores()
    assert store.write(load_demo("sine"), ViewState(), None)
    assert store.write(load_demo("adding"), ViewState(), "/tmp/a.rnnviz")
    store.clear()
    store.close()
    assert os.listdir(tmp_path / "autosave") == ["running.lock"]
    assert stores().pending() is None


def test_own_autosave_is_not_offered_to_the_writer(stores):
    store = stores()
    assert store.pending() is None
    assert store.write(load_demo("sine"), ViewState(), None)
    assert store.pending() is None


def test_corrupt_autosave_is_discarded_with_a_message(stores, tmp_path):
    first = stores()
    first.write(load_demo("sine"), ViewState(), "/x/y.rnnviz")
    first.close()
    (tmp_path / "autosave" / "autosave.rnnviz").write_bytes(b"PK\x03\x04 not really a zip")

    store = stores()
    assert store.pending() is not None
    with pytest.raises(FileFormatError, match="could not be read and was discarded") as info:
        store.take()
    assert "not a zip archive" in str(info.value) and "\n" not in str(info.value)
    assert store.pending() is None
    assert sorted(os.listdir(tmp_path / "autosave")) == ["running.lock"]
    store.close()
    assert stores().pending() is None


def test_damaged_info_file_still_offers_the_autosave(stores, tmp_path):
    first = stores()
    first.write(load_demo("sine"), ViewState(), "/x/y.rnnviz")
    first.close()
    (tmp_path / "autosave" / "autosave.json").write_text("{broken")

    info = stores().pending()
    assert info is not None and info.original_path is None


def test_take_without_pending_autosave(stores):
    with pytest.raises(FileFormatError, match="no autosave to recover"):
        stores().take()


def test_second_running_instance_keeps_out(stores, tmp_path):
    owner = stores()
    assert owner.write(load_demo("sine"), ViewState(), "/mine.rnnviz")

    other = stores()
    assert other.acquire() is False
    assert other.owner_pid() == os.getpid()
    assert other.pending() is None  # the owner's autosave is a live session, not a crash
    assert other.write(load_demo("text"), ViewState(), "/other.rnnviz") is False
    other.clear()
    assert (tmp_path / "autosave" / "autosave.rnnviz").exists()

    owner.clear()
    owner.close()
    assert other.write(load_demo("text"), ViewState(), "/other.rnnviz") is True


def test_crash_autosave_is_not_overwritten_before_recovery(stores):
    crashed = stores()
    crashed.write(load_demo("text"), VIEW, "/lost.rnnviz")
    crashed.close()

    new = stores()
    assert new.write(load_demo("sine"), ViewState(), None) is False
    doc, _, original = new.take()
    assert_same_document(doc, load_demo("text"))
    assert original == "/lost.rnnviz"
    assert new.write(load_demo("sine"), ViewState(), None) is True


def test_declined_recovery_is_cleared(stores):
    crashed = stores()
    crashed.write(load_demo("sine"), ViewState(), None)
    crashed.close()

    new = stores()
    assert new.pending() is not None
    new.clear()
    assert new.pending() is None
    assert new.write(load_demo("adding"), ViewState(), None) is True
