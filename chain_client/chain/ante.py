"""Transaction decoding and the ante handler: size gas, fees, public keys, sequences and SIGN_MODE_DIRECT signatures.

The checks follow the Cosmos SDK ante chain (x/auth/ante) in order, with the same result
codes and log texts, so that cosmpy and other Cosmos clients react to refusals as they would
against a real node (for instance by re-reading the sequence after a mismatch).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import bech32
from google.protobuf.message import DecodeError, Message

from chain_client.chain import codes
from chain_client.chain.keepers import AuthKeeper, BankKeeper
from chain_client.chain.sigs import address_from_pubkey, verify_secp256k1
from chain_client.chain.state import Store
from chain_client.chain.veid_keeper import VeidKeeper
from chain_client.gen.virtengine.veid.v1 import types_pb2 as T
from chain_client.messages import MSG_TYPES, signer_of
from cosmpy.protos.cosmos.crypto.secp256k1.keys_pb2 import PubKey
from cosmpy.protos.cosmos.tx.signing.v1beta1.signing_pb2 import SignMode
from cosmpy.protos.cosmos.tx.v1beta1.tx_pb2 import AuthInfo, SignDoc, TxBody, TxRaw

TX_SIZE_COST_PER_BYTE = 10
SIG_VERIFY_COST_SECP256K1 = 1000
MAX_MEMO_CHARACTERS = 256
MAX_TX_BYTES = 1 << 20
_PUBKEY_URL = "/cosmos.crypto.secp256k1.PubKey"


@dataclass(frozen=True)
class DecodedTx:
    """A transaction split into its signed parts and decoded messages."""

    raw: TxRaw
    body: TxBody
    auth_info: AuthInfo
    msgs: tuple[Message, ...]
    signers: tuple[str, ...]
    hash: str
    size: int


def tx_hash(tx_bytes: bytes) -> str:
    """CometBFT transaction hash: upper-case hex SHA-256 of the raw bytes."""
    return hashlib.sha256(tx_bytes).hexdigest().upper()


def decode_tx(tx_bytes: bytes) -> DecodedTx:
    """Decode raw transaction bytes (TxRaw) and its messages.

    Raises:
        TxRefused: code 2 (tx parse error), 6 (unknown message type), 21 (too large).
    """
    if len(tx_bytes) > MAX_TX_BYTES:
        raise codes.refuse(codes.TX_TOO_LARGE, f"tx size {len(tx_bytes)} exceeds {MAX_TX_BYTES}: tx too large")
    raw, body, auth_info = TxRaw(), TxBody(), AuthInfo()
    try:
        raw.ParseFromString(tx_bytes)
        body.ParseFromString(raw.body_bytes)
        auth_info.ParseFromString(raw.auth_info_bytes)
    except DecodeError as exc:
        raise codes.refuse(codes.TX_DECODE, f"{exc}: tx parse error") from exc
    msgs: list[Message] = []
    for packed in body.messages:
        cls = MSG_TYPES.get(packed.type_url)
        if cls is None:
            raise codes.refuse(codes.UNKNOWN_REQUEST, f"unrecognized message type {packed.type_url}: unknown request")
        msg = cls()
        try:
            msg.ParseFromString(packed.value)
        except DecodeError as exc:
            raise codes.refuse(codes.TX_DECODE, f"{packed.type_url}: {exc}: tx parse error") from exc
        msgs.append(msg)
    signers: list[str] = []
    for msg in msgs:
        signer = signer_of(msg)
        if signer not in signers:
            signers.append(signer)
    return DecodedTx(raw, body, auth_info, tuple(msgs), tuple(signers), tx_hash(tx_bytes), len(tx_bytes))


class AnteHandler:
    """Runs the pre-execution checks of one transaction against a store branch."""

    def __init__(
        self, chain_id: str, denom: str, min_gas_price: float, max_block_gas: int,
        auth: AuthKeeper, bank: BankKeeper, veid: VeidKeeper,
    ) -> None:  # fmt: skip
        self.chain_id, self.denom = chain_id, denom
        self.min_gas_price, self.max_block_gas = min_gas_price, max_block_gas
        self.auth, self.bank, self.veid = auth, bank, veid
        self.fee_collector = module_address("fee_collector", auth.prefix)

    def __call__(self, store: Store, tx: DecodedTx, *, height: int, check: bool, simulate: bool) -> None:
        """Validate ``tx``, charge its fee and increment its signers' sequences in ``store``.

        Args:
            store: branch to write to (discarded by the caller on refusal).
            tx: the decoded transaction.
            height: height of the block being built (for timeouts).
            check: True in CheckTx (the minimum gas price applies only there, as in Cosmos).
            simulate: True for Simulate (signatures are not verified; sequences still are).

        Raises:
            TxRefused: with the Cosmos SDK code and log of the first failing check.
        """
        self._validate_basic(tx, height, simulate)
        store.gas.consume(TX_SIZE_COST_PER_BYTE * tx.size, "txSize")
        self._deduct_fee(store, tx, check, simulate)
        for index, (signer, info) in enumerate(zip(tx.signers, tx.auth_info.signer_infos)):
            account = self.auth.get(store, signer)
            if account is None:
                raise codes.refuse(codes.UNKNOWN_ADDRESS, f"account {signer} not found: unknown address")
            key = self._pubkey(account, info, signer, index)
            if info.mode_info.single.mode != SignMode.SIGN_MODE_DIRECT:
                raise codes.refuse(codes.UNAUTHORIZED, "only SIGN_MODE_DIRECT is supported: unauthorized")
            store.gas.consume(SIG_VERIFY_COST_SECP256K1, "ante verify: secp256k1")
            if info.sequence != account.sequence:
                raise codes.refuse(
                    codes.WRONG_SEQUENCE,
                    f"account sequence mismatch, expected {account.sequence}, got {info.sequence}: incorrect account sequence",
                )
            if not simulate:
                doc = SignDoc(
                    body_bytes=tx.raw.body_bytes, auth_info_bytes=tx.raw.auth_info_bytes,
                    chain_id=self.chain_id, account_number=account.account_number,
                )  # fmt: skip
                if not verify_secp256k1(key, doc.SerializeToString(), tx.raw.signatures[index]):
                    raise codes.refuse(
                        codes.UNAUTHORIZED,
                        f"signature verification failed; please verify account number ({account.account_number}), "
                        f"sequence ({account.sequence}) and chain-id ({self.chain_id}): unauthorized",
                    )
            record = self.veid.account(store, signer)
            if record.state in (T.ACCOUNT_STATE_SUSPENDED, T.ACCOUNT_STATE_TERMINATED):
                raise codes.veid_refuse(
                    codes.VEID_ACCOUNT_INACTIVE,
                    f"account {signer} is {T.AccountState.Name(record.state)} and cannot act: account inactive",
                )
            account.sequence += 1
            self.auth.set(store, account)

    def _validate_basic(self, tx: DecodedTx, height: int, simulate: bool) -> None:
        if not tx.msgs:
            raise codes.refuse(codes.INVALID_REQUEST, "must contain at least one message: invalid request")
        if tx.body.extension_options or tx.body.non_critical_extension_options:
            raise codes.refuse(31, "unknown extension options")
        if not tx.raw.signatures:
            raise codes.refuse(codes.NO_SIGNATURES, "no signatures supplied")
        if len(tx.auth_info.signer_infos) != len(tx.signers):
            raise codes.refuse(
                codes.UNAUTHORIZED,
                f"wrong number of signers; expected {len(tx.signers)}, got {len(tx.auth_info.signer_infos)}: unauthorized",
            )
        if len(tx.raw.signatures) != len(tx.signers):
            raise codes.refuse(
                codes.UNAUTHORIZED,
                f"invalid number of signatures; expected {len(tx.signers)}, got {len(tx.raw.signatures)}: unauthorized",
            )
        if len(tx.body.memo) > MAX_MEMO_CHARACTERS:
            raise codes.refuse(codes.MEMO_TOO_LARGE, f"maximum number of characters is {MAX_MEMO_CHARACTERS}: memo too large")
        if tx.body.timeout_height and height > tx.body.timeout_height:
            raise codes.refuse(
                codes.TX_TIMEOUT_HEIGHT, f"block height: {height}, timeout height: {tx.body.timeout_height}: tx timeout height"
            )
        if not simulate and tx.auth_info.fee.gas_limit > self.max_block_gas:
            raise codes.refuse(
                codes.INVALID_GAS_LIMIT, f"gas limit {tx.auth_info.fee.gas_limit} exceeds block max gas {self.max_block_gas}"
            )

    def _deduct_fee(self, store: Store, tx: DecodedTx, check: bool, simulate: bool) -> None:
        fee = tx.auth_info.fee
        if simulate:
            # Meter the gas of a real fee payment (a 1-unit transfer), so estimates cover it.
            if self.bank.balance(store, tx.signers[0], self.denom) > 0:
                self.bank.send(store, tx.signers[0], self.fee_collector, [(self.denom, 1)])
            return
        coins: list[tuple[str, int]] = []
        for coin in fee.amount:
            try:
                coins.append((coin.denom, int(coin.amount)))
            except ValueError as exc:
                raise codes.refuse(codes.INVALID_COINS, f"fee {coin.amount}{coin.denom}: invalid coins") from exc
        paid = sum(a for d, a in coins if d == self.denom)
        required = math.ceil(fee.gas_limit * self.min_gas_price)
        if check and paid < required:
            got = ",".join(f"{a}{d}" for d, a in coins) or "0" + self.denom
            raise codes.refuse(codes.INSUFFICIENT_FEE, f"insufficient fees; got: {got} required: {required}{self.denom}")
        if fee.granter:
            raise codes.refuse(codes.INVALID_REQUEST, "fee grants are not supported on this chain: invalid request")
        payer = fee.payer or tx.signers[0]
        if payer not in tx.signers:
            raise codes.refuse(codes.UNAUTHORIZED, f"fee payer {payer} did not sign: unauthorized")
        coins = [(d, a) for d, a in coins if a > 0]
        if coins:
            self.bank.send(store, payer, self.fee_collector, coins)

    def _pubkey(self, account, info, signer: str, index: int) -> bytes:
        stored = self.auth.pubkey_bytes(account)
        if info.HasField("public_key"):
            if info.public_key.type_url != _PUBKEY_URL:
                raise codes.refuse(codes.INVALID_PUBKEY, f"unsupported key type {info.public_key.type_url}: invalid pubkey")
            key = PubKey()
            info.public_key.Unpack(key)
            if address_from_pubkey(key.key, self.auth.prefix) != signer:
                raise codes.refuse(
                    codes.INVALID_PUBKEY,
                    f"pubKey does not match signer address {signer} with signer index: {index}: invalid pubkey",
                )
            if stored is None:
                self.auth.set_pubkey(account, bytes(key.key))
            return bytes(key.key)
        if stored is None:
            raise codes.refuse(codes.INVALID_PUBKEY, "pubkey on account is not set: invalid pubkey")
        return stored



def module_address(name: str, prefix: str) -> str:
    """A module account's address as Cosmos derives it: the first 20 bytes of sha256(name), in bech32."""
    return bech32.bech32_encode(prefix, bech32.convertbits(hashlib.sha256(name.encode()).digest()[:20], 8, 5, True))
