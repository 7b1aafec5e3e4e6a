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
    """The embedded veid chain (chain_client) serving gRPC on 127.0.0.1, with a ChainBacked paying from ``genesis``."""
    import dataclasses

    from chain_client.chain.home import init_home, open_node, wallet
    from chain_client.client import ChainClient
    from chain_client.config import ChainConfig
    from chain_client.messages import msg_update_score
    from hpc_adapter.chain_backed import ChainBacked

    class LocalChain(ChainBacked):
        def set_score(self, address: str, score: int) -> None:
            """Two of three validators vote ``score`` (MsgUpdateScore reaches the 2/3 quorum)."""
            for i in range(2):
                w = wallet(home, f"validator-{i}", cfg.prefix)
                self.client.submit(w, [msg_update_score(str(w.address()), address, score, 1)])

    cfg = dataclasses.replace(ChainConfig(), grpc_port=0, block_time_ms=5, sqlite_synchronous="NORMAL", tx_timeout_s=20.0)
    home = tmp_path / "chain"
    init_home(home, cfg)
    running = open_node(home, grpc_port=0)
    client = ChainClient(running.address, cfg)
    yield LocalChain(client, wallet(home, "genesis", cfg.prefix))
    client.close()
    running.stop()
