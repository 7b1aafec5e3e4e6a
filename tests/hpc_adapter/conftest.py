"""Fixtures for the HPC adapter tests: a real single-node SLURM cluster for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slurm_cluster import SlurmCluster


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    """A running SLURM 22.05 cluster (munge, MariaDB, slurmdbd, slurmctld, slurmd); stopped at the end."""
    with SlurmCluster(tmp_path_factory.mktemp("slurm"), cluster="veidtest", cpus=2) as cluster:
        yield cluster
