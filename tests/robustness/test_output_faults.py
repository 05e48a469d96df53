"""An output folder that cannot be written: every converter stops with a clear error, and resumes once it can.

The faults are injected at the three places the pipeline writes (atomic file writes, copies of source files, shard
lines) so that they behave the same for every user, root included (``chmod`` does not stop root): a read-only file
system (``EROFS``) or no permission (``EACCES``) from the first write, and a disk that fills up half-way
(``ENOSPC``). Each must raise :class:`OutputError` naming a path under the output folder, leave no report that claims
the conversion is complete, and a rerun of the same command once space is back must end byte-identical to an
uninterrupted conversion.
"""

from __future__ import annotations

import builtins
import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

from data_converters import get_converter
from ts_instruct import imageio, pipeline
from ts_instruct import io as io_module
from ts_instruct.errors import OutputError
from ts_instruct.pipeline import ConvertOptions, convert_dataset

from ..test_pipeline import tree_bytes
from .harness import Reference, convert
from .test_bad_input import CONVERTERS


class FaultyDisk:
    """Lets ``budget`` writes through, then fails every write with ``code``.

    Attributes:
        writes: writes attempted so far (let through or not).
    """

    def __init__(self, budget: float, code: int) -> None:
        self.budget = budget
        self.code = code
        self.writes = 0

    def check(self, path: str | os.PathLike[str]) -> None:
        self.writes += 1
        if self.writes > self.budget:
            raise OSError(self.code, os.strerror(self.code), os.fspath(path))

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FaultyDisk:
        atomic_open = imageio.atomic_open
        place_file = pipeline.place_file

        @contextmanager
        def faulty_atomic_open(path: str | Path, mode: Any = "wb") -> Iterator[IO[bytes]]:
            self.check(path)
            with atomic_open(path, mode) as f:
                yield f

        def faulty_place_file(src: str | Path, dst: str | Path, mode: Any) -> None:
            self.check(dst)
            place_file(src, dst, mode)

        def faulty_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if any(c in mode for c in "wax+"):
                self.check(file)
            return builtins.open(file, mode, *args, **kwargs)

        monkeypatch.setattr(imageio, "atomic_open", faulty_atomic_open)
        monkeypatch.setattr(pipeline, "place_file", faulty_place_file)
        monkeypatch.setattr(io_module, "open", faulty_open, raising=False)
        return self


def _under(path: str, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
@pytest.mark.parametrize("name", CONVERTERS)
def test_unwritable_output_stops_with_a_clear_error(
    name: str, code: int, reference: Callable[[str], Reference], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = reference(name)
    FaultyDisk(0, code).install(monkeypatch)
    out = tmp_path / "out"
    with pytest.raises(OutputError, match=rf"cannot write .*{os.strerror(code)}.*run the same command again") as info:
        convert(name, ref.root, out)
    assert _under(info.value.path, out), f"the error names {info.value.path}, not a file under {out}"
    assert not (out / ref.out.name / "report.json").exists(), "a failed conversion must not leave a report"


@pytest.mark.parametrize("name", CONVERTERS)
def test_full_disk_then_resume_gives_identical_output(
    name: str, reference: Callable[[str], Reference], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = reference(name)
    with monkeypatch.context() as patch:  # count the writes of a whole conversion
        counter = FaultyDisk(float("inf"), errno.ENOSPC).install(patch)
        convert(name, ref.root, tmp_path / "count")
    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        FaultyDisk(counter.writes // 2, errno.ENOSPC).install(patch)
        with pytest.raises(OutputError, match="No space left on device"):
            convert(name, ref.root, out)
    assert not (out / ref.out.name / "report.json").exists()
    convert(name, ref.root, out)  # space is back: the same command resumes
    assert tree_bytes(out / ref.out.name) == tree_bytes(ref.out)


def test_output_error_from_a_worker_reaches_the_caller(
    reference: Callable[[str], Reference], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = reference("levir_cd")
    FaultyDisk(0, errno.ENOSPC).install(monkeypatch)  # forked workers inherit the fault
    opts = ConvertOptions(out=tmp_path / "out", progress=False, workers=2)
    with pytest.raises(OutputError, match="No space left on device"):
        convert_dataset(get_converter("levir_cd")(ref.root), opts)


def test_output_folder_that_cannot_be_created(reference: Callable[[str], Reference], tmp_path: Path) -> None:
    ref = reference("nwpu_resisc45")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(OutputError, match="cannot create the output folder"):
        convert("nwpu_resisc45", ref.root, blocker / "out")


def test_unreadable_source_is_a_skip_not_an_output_error(tmp_path: Path) -> None:
    out = tmp_path / "out" / "ds"
    assert pipeline.is_output_failure(OSError(errno.EACCES, "Permission denied", str(out / "images/x.png")), out)
    assert not pipeline.is_output_failure(OSError(errno.EACCES, "Permission denied", str(tmp_path / "raw.png")), out)
    assert pipeline.is_output_failure(OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x")), out)
    assert not pipeline.is_output_failure(FileNotFoundError(errno.ENOENT, "No such file", str(out / "x")), out)
