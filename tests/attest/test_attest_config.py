"""The attest section of params.yaml loads into AttestConfig and bad values are refused."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from attest.config import AttestConfig
from veid.config import from_mapping, load_section
from veid.errors import ConfigError


def test_repository_params_load(repo_root: Path) -> None:
    cfg = load_section(repo_root / "params.yaml", "attest", AttestConfig)
    assert cfg.quorum_tolerance == 0 and cfg.threshold == Fraction(2, 3)
    assert cfg.address_prefix == "virtengine" and cfg.keystore_kdf.log2_n >= 14


@pytest.mark.parametrize("raw", [{"quorum_threshold": [3, 2]}, {"quorum_tolerance": -1}, {"envelope_suite": "rsa"},
                                 {"keystore_kdf": {"log2_n": 4}}, {"unknown": 1}])  # fmt: skip
def test_bad_values_rejected(raw: dict) -> None:
    with pytest.raises(ConfigError):
        from_mapping(AttestConfig, raw)
