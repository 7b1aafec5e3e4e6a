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




@pytest.fixture()
def local_chain(tmp_path):
    """The embedded veid chain serving gRPC on 127.0.0.1, paying from its ``genesis`` key."""
    from hpc_adapter.local_chain import local_chain as start

    with start(tmp_path / "chain") as chain:
        yield chain
