"""The veid chain client: build, sign (SIGN_MODE_DIRECT), broadcast and wait with cosmpy; query the veid module over gRPC.

Works against any Cosmos SDK chain that has the veid module, the embedded chain included.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message

from chain_client.config import ChainConfig
from chain_client.gen.virtengine.veid.v1 import query_pb2 as vq
from chain_client.gen.virtengine.veid.v1 import query_pb2_grpc as vq_grpc
from chain_client.gen.virtengine.veid.v1 import types_pb2 as T
from chain_client.messages import AttestationPayload, msg_send
from cosmpy.aerial.client import LedgerClient, NetworkConfig
from cosmpy.aerial.client.utils import prepare_basic_transaction
from cosmpy.aerial.exceptions import NotFoundError
from cosmpy.aerial.tx import Transaction, TxFee
from cosmpy.aerial.types import Account
from cosmpy.aerial.wallet import LocalWallet
from cosmpy.protos.cosmos.base.query.v1beta1.pagination_pb2 import PageRequest
from cosmpy.protos.cosmos.tx.v1beta1.service_pb2 import BroadcastMode, BroadcastTxRequest
from veid.errors import ChainError

_SEQUENCE = re.compile(r"account sequence mismatch, expected (\d+)")


class TxFailed(ChainError):
    """The chain refused or failed a transaction; ``code`` and ``log`` are the chain's."""

    def __init__(self, tx_hash: str, code: int, log: str) -> None:
        super().__init__(f"tx {tx_hash or '(not broadcast)'} failed with code {code}: {log}")
        self.tx_hash, self.code, self.log = tx_hash, code, log


@dataclass(frozen=True)
class TxOutcome:
    """A transaction that landed: hash, height, gas used and its events (type -> attributes)."""

    tx_hash: str
    height: int
    gas_used: int
    events: dict[str, dict[str, str]]


def _grpc_url(address: str) -> str:
    return address if address.startswith(("grpc+http", "rest+http")) else f"grpc+http://{address}"


class ChainClient:
    """A cosmpy LedgerClient plus the veid Query stub, with sequence tracking and retries.

    Args:
        address: ``host:port`` of the gRPC endpoint (or a ``grpc+http(s)://`` URL).
        cfg: chain identity (chain id, denom, prefix, gas price) and client timing.
    """

    def __init__(self, address: str, cfg: ChainConfig) -> None:
        self.cfg = cfg
        url = _grpc_url(address)
        self.network = NetworkConfig(
            chain_id=cfg.chain_id, url=url, fee_minimum_gas_price=cfg.gas_price,
            fee_denomination=cfg.denom, staking_denomination=cfg.denom,
        )  # fmt: skip
        self.ledger = LedgerClient(self.network)
        host_port = url.split("://", 1)[1]
        self._channel = (
            grpc.secure_channel(host_port, grpc.ssl_channel_credentials())
            if url.startswith("grpc+https")
            else grpc.insecure_channel(host_port)
        )
        self.veid = vq_grpc.QueryStub(self._channel)
        self._accounts: dict[str, Account] = {}

    def close(self) -> None:
        """Close the veid query channel."""
        self._channel.close()

    # ----- transactions -------------------------------------------------------------------
    def submit(
        self, wallet: LocalWallet, msgs: Sequence[Message], memo: str = "", gas_limit: int | None = None
    ) -> TxOutcome:
        """Sign ``msgs`` into one transaction, broadcast it (SYNC) and wait until it is in a block.

        Without ``gas_limit``, gas is estimated by simulation (cosmpy's default strategy); the
        fee is gas x ``cfg.gas_price``. After an account-sequence mismatch the transaction is
        re-signed with the sequence the chain expects, up to ``cfg.sequence_retries`` times.

        Raises:
            TxFailed: the chain refused the transaction (simulation: code -1; CheckTx or block: its code).
            ChainError: the chain could not be reached or the transaction did not land in time.
        """
        address = str(wallet.address())
        for attempt in range(self.cfg.sequence_retries + 1):
            tx = Transaction()
            for msg in msgs:
                tx.add_message(msg)
            try:
                account = self._accounts.get(address) or self.ledger.query_account(wallet.address())
                fee = TxFee(gas_limit=gas_limit) if gas_limit is not None else None
                prepare_basic_transaction(self.ledger, tx, wallet, account=account, fee=fee, memo=memo)
                request = BroadcastTxRequest(tx_bytes=tx.tx.SerializeToString(), mode=BroadcastMode.BROADCAST_MODE_SYNC)
                response = self.ledger.txs.BroadcastTx(request).tx_response
                code, log, tx_hash = response.code, response.raw_log, response.txhash
            except grpc.RpcError as exc:  # simulation refused, or the chain is unreachable
                code, log, tx_hash = -1, exc.details() or exc.code().name, ""
                if exc.code() != grpc.StatusCode.UNKNOWN:
                    raise ChainError(f"chain at {self.network.url}: {exc.code().name}: {log}") from exc
            if code == 0:
                self._accounts[address] = Account(account.address, account.number, account.sequence + 1)
                return self.wait(tx_hash)
            self._accounts.pop(address, None)
            match = _SEQUENCE.search(log)
            if match and attempt < self.cfg.sequence_retries:
                self._accounts[address] = Account(account.address, account.number, int(match.group(1)))
                continue
            raise TxFailed(tx_hash, code, log)
        raise ChainError("unreachable: sequence retries exhausted")  # pragma: no cover

    def wait(self, tx_hash: str) -> TxOutcome:
        """Poll GetTx until the transaction is in a block.

        Raises:
            TxFailed: it landed with a non-zero code.
            ChainError: not found within ``cfg.tx_timeout_s``.
        """
        deadline = time.monotonic() + self.cfg.tx_timeout_s
        while True:
            try:
                response = self.ledger.query_tx(tx_hash)
                break
            except NotFoundError:
                if time.monotonic() > deadline:
                    raise ChainError(f"tx {tx_hash} not in a block after {self.cfg.tx_timeout_s} s") from None
                time.sleep(self.cfg.poll_interval_s)
            except grpc.RpcError as exc:
                raise ChainError(f"GetTx {tx_hash}: {exc.details()}") from exc
        if response.code != 0:
            raise TxFailed(tx_hash, response.code, response.raw_log)
        return TxOutcome(response.hash, response.height, response.gas_used, response.events)

    def submit_attestations(self, validator: LocalWallet, payloads: Sequence[AttestationPayload]) -> TxOutcome:
        """Batch several attestations (one MsgSubmitAttestation each) into one transaction."""
        sender = str(validator.address())
        return self.submit(validator, [p.to_msg(sender) for p in payloads])

    def send(self, wallet: LocalWallet, recipient: str, amount: int) -> TxOutcome:
        """Bank transfer of ``amount`` base units of the chain denom."""
        return self.submit(wallet, [msg_send(str(wallet.address()), recipient, amount, self.cfg.denom)])

    def balance(self, address: str) -> int:
        """Balance of ``address`` in the chain denom (base units)."""
        return self._call(lambda: self.ledger.query_bank_balance(address, self.cfg.denom))

    # ----- veid queries -------------------------------------------------------------------
    def _call(self, fn):
        try:
            return fn()
        except grpc.RpcError as exc:
            raise ChainError(f"query failed at {self.network.url}: {exc.code().name}: {exc.details()}") from exc

    def score(self, address: str) -> T.ScoreRecord | None:
        """The score in force for ``address`` or None."""
        resp = self._call(lambda: self.veid.Score(vq.QueryScoreRequest(address=address)))
        return resp.score if resp.found else None

    def attestations(self, address: str, limit: int = 0) -> list[T.Attestation]:
        """Every attestation about ``address`` (all pages)."""
        out: list[T.Attestation] = []
        key = b""
        while True:
            req = vq.QueryAttestationsRequest(address=address, pagination=PageRequest(key=key, limit=limit))
            resp = self._call(lambda: self.veid.Attestations(req))
            out.extend(resp.attestations)
            key = resp.pagination.next_key
            if not key:
                return out

    def roles(self, address: str) -> T.AccountRecord:
        """Roles and state of ``address``."""
        return self._call(lambda: self.veid.Roles(vq.QueryRolesRequest(address=address))).account

    def approved_clients(self) -> list[T.ApprovedClient]:
        """Approved capture clients."""
        return list(self._call(lambda: self.veid.ApprovedClients(vq.QueryApprovedClientsRequest())).clients)

    def pending_verifications(self, owner: str = "") -> list[T.Scope]:
        """Uploaded scopes waiting for a quorum (of one owner, or all)."""
        return list(self._call(lambda: self.veid.PendingVerifications(vq.QueryPendingVerificationsRequest(owner=owner))).scopes)

    def validators(self) -> list[T.Validator]:
        """The validator set."""
        return list(self._call(lambda: self.veid.Validators(vq.QueryValidatorsRequest())).validators)

