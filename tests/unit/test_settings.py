"""Settings say what they do: HUB_MAPPINGS_DIR defaults to ./mappings, as the README says."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.settings import BUNDLED_MAPPINGS, Settings


def test_mappings_default_to_the_working_directorys_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_MAPPINGS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mappings").mkdir()
    assert Settings(_env_file=None).mappings_dir == (tmp_path / "mappings").resolve()


def test_without_a_local_folder_the_bundled_mappings_are_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_MAPPINGS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert Settings(_env_file=None).mappings_dir == BUNDLED_MAPPINGS


def test_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mappings").mkdir()
    monkeypatch.setenv("HUB_MAPPINGS_DIR", str(tmp_path / "elsewhere"))
    assert Settings(_env_file=None).mappings_dir == tmp_path / "elsewhere"
