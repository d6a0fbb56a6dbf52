"""Results kept between runs: used when their key matches, rebuilt when it does not or when the
kept file is damaged, and never in the way when the folder cannot be written."""

from __future__ import annotations

from pathlib import Path

import pytest

from mgsleep.warm import CACHE_DIR_ENV, CACHE_ENV, digest, warm


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_result_is_built_once_per_key(folder: Path) -> None:
    built: list[int] = []

    def build() -> dict[str, int]:
        built.append(1)
        return {"answer": 42}

    assert warm("thing", "k1", build, dict) == {"answer": 42}
    assert warm("thing", "k1", build, dict) == {"answer": 42}
    assert len(built) == 1
    assert warm("thing", "k2", build, dict) == {"answer": 42}
    assert len(built) == 2


def test_a_damaged_file_is_rebuilt(folder: Path) -> None:
    warm("thing", "k", lambda: [1, 2], list)
    [kept] = folder.glob("thing-k.pickle")
    kept.write_bytes(b"not a pickle")
    assert warm("thing", "k", lambda: [3], list) == [3]
    assert warm("thing", "k", lambda: [4], list) == [3]


def test_a_kept_result_of_the_wrong_kind_is_not_used(folder: Path) -> None:
    warm("thing", "k", lambda: "text", str)
    assert warm("thing", "k", lambda: [5], list) == [5]


def test_an_unwritable_folder_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_DIR_ENV, str(blocker / "cache"))
    assert warm("thing", "k", lambda: 7, int) == 7


def test_switched_off_it_builds_every_time(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, "0")
    warm("thing", "k", lambda: 1, int)
    assert not folder.exists()


def test_the_key_changes_with_the_content() -> None:
    assert digest([b"a", b"b"]) != digest([b"ab"])
    assert digest([b"a"]) == digest([b"a"])


def test_the_evidence_read_from_the_cache_is_the_evidence_read_afresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mgsleep.evidence import _data_bytes, _parsed, load_evidence

    assert load_evidence() == _parsed(_data_bytes())
