"""The adapters' chain Protocols (scores, roles, bank transfers) implemented on chain_client's cosmpy ChainClient."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hpc_adapter.chain import Role, RoleInfo, Score
from veid.errors import ChainError, ConfigError

#: veid module Role enum value -> adapter Role (values from proto/virtengine/veid/v1/types.proto).
_ROLES = {5: Role.SERVICE_PROVIDER, 4: Role.VALIDATOR, 6: Role.CUSTOMER}
_ACTIVE = 1  # ACCOUNT_STATE_ACTIVE


class ChainBacked:
    """:class:`~hpc_adapter.chain.ScoreReader`, ``RoleReader`` and ``Payer`` over a running chain.

    Args:
        client: a ``chain_client.client.ChainClient``.
        wallet: cosmpy ``LocalWallet`` that pays (``None``: read-only, :meth:`send` raises).
    """

    def __init__(self, client: Any, wallet: Any | None = None) -> None:
        self.client = client
        self.wallet = wallet

    def score(self, address: str) -> Score | None:
        record = self.client.score(address)
        return None if record is None else Score(int(record.score), str(record.tier))

    def roles(self, address: str) -> RoleInfo:
        record = self.client.roles(address)
        if record.address and record.state != _ACTIVE:
            return RoleInfo(frozenset())
        return RoleInfo(frozenset(_ROLES[r] for r in record.roles if r in _ROLES))

    def send(self, to_address: str, amount: int, denom: str, memo: str) -> str:
        from chain_client.messages import msg_send

        if self.wallet is None:
            raise ChainError("no paying wallet configured (read-only chain connection)")
        sender = str(self.wallet.address())
        return self.client.submit(self.wallet, [msg_send(sender, to_address, int(amount), denom)], memo=memo).tx_hash

    def balance(self, address: str) -> int:
        """Balance of ``address`` in the chain denom."""
        return int(self.client.balance(address))


def connect(grpc_address: str = "", home: str = "", payer: str = "", mnemonic_file: str = "") -> ChainBacked:
    """Connect to a chain: by gRPC address (with ``params.yaml``'s chain section) or a local chain home.

    Args:
        grpc_address: ``host:port``; empty with ``home``: the home's running node.
        home: a ``veid chain init`` home (its config and, for ``payer``, its test keys).
        payer: name of a key in ``home/keys`` that pays.
        mnemonic_file: a file holding the paying account's mnemonic (production).

    Raises:
        ConfigError: neither an address nor a running home was given.
        ChainError: the payer key cannot be read.
    """
    from chain_client.client import ChainClient
    from chain_client.config import ChainConfig
    from cosmpy.aerial.wallet import LocalWallet

    from veid.config import DEFAULT_PARAMS, load_section

    if home:
        from chain_client.chain.home import load_config, running_address, wallet

        cfg = load_config(home)
        grpc_address = grpc_address or running_address(home) or ""
    else:
        cfg = load_section(DEFAULT_PARAMS, "chain", ChainConfig)
    if not grpc_address:
        raise ConfigError("no chain to talk to: pass --grpc HOST:PORT or --chain-home of a running node")
    payer_wallet = None
    if mnemonic_file:
        try:
            payer_wallet = LocalWallet.from_mnemonic(Path(mnemonic_file).read_text().strip(), prefix=cfg.prefix)
        except OSError as exc:
            raise ChainError(f"cannot read payer mnemonic {mnemonic_file}: {exc.strerror}") from exc
    elif payer and home:
        payer_wallet = wallet(home, payer, cfg.prefix)
    return ChainBacked(ChainClient(grpc_address, cfg), payer_wallet)
