"""The memory budget honours the container's cgroup limit; the limits module stands alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rnnviz import limits

GiB = 1 << 30


def fake_cgroups(tmp_path: Path, proc: str, files: dict[str, str]) -> tuple[Path, Path]:
    root = tmp_path / "sys" / "fs" / "cgroup"
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    proc_file = tmp_path / "proc-self-cgroup"
    proc_file.write_text(proc)
    return root, proc_file


def test_cgroup_v2_memory_max_along_the_path(tmp_path):
    root, proc = fake_cgroups(tmp_path, "0::/user.slice/app.scope\n", {
        "user.slice/memory.max": str(8 * GiB),
        "user.slice/app.scope/memory.max": "max",
        "memory.max": "max",
    })
    assert limits.cgroup_memory_limit(root, proc) == 8 * GiB


def test_cgroup_v2_inside_a_container_reads_the_root_files(tmp_path):
    # The container sees its own cgroup mounted as the root, while /proc names the host path.
    root, proc = fake_cgroups(tmp_path, "0::/docker/abc123\n", {"memory.max": str(2 * GiB)})
    assert limits.cgroup_memory_limit(root, proc) == 2 * GiB


def test_cgroup_v1_limit_and_the_smaller_of_both(tmp_path):
    root, proc = fake_cgroups(tmp_path, "4:memory:/job\n0::/job\n", {
        "memory/job/memory.limit_in_bytes": str(3 * GiB),
        "memory/memory.limit_in_bytes": "9223372036854771712",  # v1's "no limit"
        "job/memory.max": str(5 * GiB),
    })
    assert limits.cgroup_memory_limit(root, proc) == 3 * GiB


def test_no_cgroup_limit(tmp_path):
    root, proc = fake_cgroups(tmp_path, "0::/\n", {"memory.max": "max"})
    assert limits.cgroup_memory_limit(root, proc) is None
    assert limits.cgroup_memory_limit(tmp_path / "absent", tmp_path / "absent-proc") is None


def test_budget_is_a_share_of_the_smallest_limit(monkeypatch):
    monkeypatch.setattr(limits, "physical_memory", lambda: 32 * GiB)
    monkeypatch.setattr(limits, "cgroup_memory_limit", lambda: 8 * GiB)
    monkeypatch.setattr(limits, "address_space_limit", lambda: None)
    assert limits.memory_budget() == int(limits.MEMORY_SHARE * 8 * GiB)
    monkeypatch.setattr(limits, "address_space_limit", lambda: 2 * GiB)
    assert limits.memory_budget() == int(limits.MEMORY_SHARE * 2 * GiB)


def test_check_bytes_says_what_needs_how_much_in_one_line(monkeypatch):
    monkeypatch.setattr(limits, "memory_budget", lambda: int(4.8 * GiB))
    limits.check_bytes(4 * GiB, "a run")
    with pytest.raises(limits.MemoryLimitError) as info:
        limits.check_bytes(int(12.3 * GiB), "a run of 100000 steps")
    assert str(info.value) == (
        "a run of 100000 steps needs about 12.3 GiB; the limit here is 4.8 GiB"
    )
    assert isinstance(info.value, ValueError)
    with pytest.raises(limits.MemoryLimitError, match="the limit here is 1.0 KiB"):
        limits.check_bytes(2048, "x", budget=1024)


def test_limits_module_depends_on_nothing_else_in_rnnviz():
    tree = ast.parse(Path(limits.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "os", "collections", "pathlib", "resource"}, imported
