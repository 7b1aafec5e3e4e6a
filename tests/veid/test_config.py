"""Typed configuration: sections become frozen dataclasses; bad keys and types are named."""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path

import pytest

from veid.config import from_mapping, load_params, load_section, to_mapping
from veid.errors import ConfigError


class Mode(enum.Enum):
    FAST = "fast"
    EXACT = "exact"


@dataclasses.dataclass(frozen=True)
class Inner:
    margin_px: int = 4
    ratio: float = 0.5


@dataclasses.dataclass(frozen=True)
class Section:
    name: str
    angles_deg: tuple[int, ...] = (0, 90, 180, 270)
    inner: Inner = Inner()
    mode: Mode = Mode.FAST
    threshold: float | None = None


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def test_section_loads_into_frozen_dataclass(tmp_path: Path) -> None:
    path = _write(tmp_path, "stage:\n  name: x\n  angles_deg: [0, 180]\n  inner: {margin_px: 7}\n  mode: exact\n  threshold: 1\n")
    cfg = load_section(path, "stage", Section)
    assert cfg == Section(name="x", angles_deg=(0, 180), inner=Inner(margin_px=7), mode=Mode.EXACT, threshold=1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.name = "y"  # type: ignore[misc]
    assert from_mapping(Section, to_mapping(cfg)) == cfg


def test_unknown_key_is_named_with_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "stage:\n  name: x\n  inner: {margin_px: 7, marign: 3}\n")
    with pytest.raises(ConfigError) as err:
        load_section(path, "stage", Section)
    assert "stage.inner.marign" in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize(
    "body, key",
    [
        ("name: 3", "stage.name"),
        ("name: x\n  inner: {margin_px: 2.5}", "stage.inner.margin_px"),
        ("name: x\n  inner: {margin_px: true}", "stage.inner.margin_px"),
        ("name: x\n  angles_deg: 90", "stage.angles_deg"),
        ("name: x\n  mode: slow", "stage.mode"),
    ],
)
def test_wrong_type_is_named(tmp_path: Path, body: str, key: str) -> None:
    path = _write(tmp_path, f"stage:\n  {body}\n")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_section(path, "stage", Section)


def test_missing_required_key_and_section(tmp_path: Path) -> None:
    path = _write(tmp_path, "stage:\n  angles_deg: [0]\n")
    with pytest.raises(ConfigError, match=r"stage\.name.*missing"):
        load_section(path, "stage", Section)
    with pytest.raises(ConfigError, match="missing section 'other'"):
        load_section(path, "other", Section)


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_params(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(_write(tmp_path, "a: [1,\n"))
    with pytest.raises(ConfigError, match="mapping of sections"):
        load_params(_write(tmp_path, "- 1\n- 2\n"))


def test_repository_params_file_parses(repo_root: Path) -> None:
    params = load_params(repo_root / "params.yaml")
    assert isinstance(params, dict)
