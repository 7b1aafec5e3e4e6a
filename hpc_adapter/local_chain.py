"""A throwaway embedded chain for tests, benchmarks and demos: ChainBacked plus helpers to score and grant roles.

Not for production: scores are set by two of the three local validators voting
``MsgUpdateScore`` and roles by the genesis account, with the test keys ``veid chain init`` writes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hpc_adapter.chain import Role
from hpc_adapter.chain_backed import ChainBacked

_ROLE_VALUES = {Role.SERVICE_PROVIDER: 5, Role.VALIDATOR: 4, Role.CUSTOMER: 6}


class LocalChain(ChainBacked):
    """A :class:`ChainBacked` on an in-process node, paying from the ``genesis`` test key."""

    def __init__(self, client: object, wallet: object, home: Path, address: str, cfg: object) -> None:
        super().__init__(client, wallet)
        self.home, self.address, self.cfg = home, address, cfg

    def _wallet(self, name: str) -> object:
        from chain_client.chain.home import wallet

        return wallet(self.home, name, self.cfg.prefix)

    def set_score(self, address: str, score: int, version: int = 1) -> None:
        """Two of three validators vote ``score`` for ``address`` (reaches the default 2/3 quorum)."""
        from chain_client.messages import msg_update_score

        for i in range(2):
            w = self._wallet(f"validator-{i}")
            self.client.submit(w, [msg_update_score(str(w.address()), address, score, version)])

    def grant(self, address: str, role: Role) -> None:
        """The genesis account grants ``role`` to ``address``."""
        from chain_client.messages import msg_assign_role

        w = self._wallet("genesis")
        self.client.submit(w, [msg_assign_role(str(w.address()), address, _ROLE_VALUES[role])])


@contextmanager
def local_chain(home: Path) -> Iterator[LocalChain]:
    """Initialise a chain in ``home`` (must not exist yet), serve it on 127.0.0.1:<free port>, stop it on exit."""
    from chain_client.chain.home import init_home, open_node, wallet
    from chain_client.client import ChainClient
    from chain_client.config import ChainConfig

    cfg = dataclasses.replace(ChainConfig(), grpc_port=0, block_time_ms=5, sqlite_synchronous="NORMAL", tx_timeout_s=20.0)
    init_home(home, cfg)
    running = open_node(home, grpc_port=0)
    client = ChainClient(running.address, cfg)
    try:
        yield LocalChain(client, wallet(home, "genesis", cfg.prefix), Path(home), running.address, cfg)
    finally:
        client.close()
        running.stop()
