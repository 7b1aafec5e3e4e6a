"""Auth and bank keepers of the embedded chain: accounts (number, sequence, public key) and balances."""

from __future__ import annotations

import re

from google.protobuf.any_pb2 import Any as ProtoAny

from chain_client.chain import codes
from chain_client.chain.sigs import valid_address
from chain_client.chain.state import Store
from cosmpy.protos.cosmos.auth.v1beta1.auth_pb2 import BaseAccount
from cosmpy.protos.cosmos.bank.v1beta1.tx_pb2 import MsgSend
from cosmpy.protos.cosmos.base.v1beta1.coin_pb2 import Coin
from cosmpy.protos.cosmos.crypto.secp256k1.keys_pb2 import PubKey

_ACCOUNT = b"\x01"
_NEXT_ACCOUNT_NUMBER = b"\x00next_account_number"
_BALANCE = b"\x02"
DENOM_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9/:._-]{2,127}$")


class AuthKeeper:
    """Accounts: number, sequence and (once it has signed) the secp256k1 public key."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def get(self, store: Store, address: str) -> BaseAccount | None:
        """The account at ``address`` or None."""
        raw = store.get(_ACCOUNT + address.encode())
        if raw is None:
            return None
        account = BaseAccount()
        account.ParseFromString(raw)
        return account

    def set(self, store: Store, account: BaseAccount) -> None:
        """Store ``account``."""
        store.set(_ACCOUNT + account.address.encode(), account.SerializeToString())

    def create(self, store: Store, address: str) -> BaseAccount:
        """A new account with the next account number (stored)."""
        raw = store.get(_NEXT_ACCOUNT_NUMBER)
        number = int(raw.decode()) if raw else 0
        store.set(_NEXT_ACCOUNT_NUMBER, str(number + 1).encode())
        account = BaseAccount(address=address, account_number=number, sequence=0)
        self.set(store, account)
        return account

    def ensure(self, store: Store, address: str) -> BaseAccount:
        """The account at ``address``, created if it does not exist yet."""
        return self.get(store, address) or self.create(store, address)

    @staticmethod
    def pubkey_bytes(account: BaseAccount) -> bytes | None:
        """The account's compressed secp256k1 key, or None if it never signed."""
        if not account.HasField("pub_key"):
            return None
        key = PubKey()
        account.pub_key.Unpack(key)
        return bytes(key.key)

    @staticmethod
    def set_pubkey(account: BaseAccount, key: bytes) -> None:
        """Record ``key`` on ``account`` (as a cosmos.crypto.secp256k1.PubKey Any)."""
        packed = ProtoAny()
        packed.Pack(PubKey(key=key), type_url_prefix="/")
        account.pub_key.CopyFrom(packed)


class BankKeeper:
    """Balances in base units per (address, denom); transfers create the recipient's account."""

    def __init__(self, auth: AuthKeeper, prefix: str) -> None:
        self.auth = auth
        self.prefix = prefix

    @staticmethod
    def _key(address: str, denom: str) -> bytes:
        return _BALANCE + address.encode() + b"\x00" + denom.encode()

    def balance(self, store: Store, address: str, denom: str) -> int:
        """Balance of ``address`` in ``denom`` (0 when none)."""
        raw = store.get(self._key(address, denom))
        return int(raw.decode()) if raw else 0

    def all_balances(self, store: Store, address: str) -> list[Coin]:
        """Every non-zero balance of ``address``, ordered by denom."""
        prefix = _BALANCE + address.encode() + b"\x00"
        return [Coin(denom=k[len(prefix) :].decode(), amount=v.decode()) for k, v in store.iterate(prefix)]

    def _set(self, store: Store, address: str, denom: str, amount: int) -> None:
        if amount == 0:
            store.delete(self._key(address, denom))
        else:
            store.set(self._key(address, denom), str(amount).encode())

    def mint(self, store: Store, address: str, denom: str, amount: int) -> None:
        """Credit ``amount`` (genesis allocation)."""
        self._set(store, address, denom, self.balance(store, address, denom) + amount)

    def send(self, store: Store, sender: str, recipient: str, coins: list[tuple[str, int]]) -> None:
        """Move ``coins`` [(denom, amount)] from ``sender`` to ``recipient``.

        Raises:
            TxRefused: insufficient funds (code 5) or an invalid amount (code 10).
        """
        for denom, amount in coins:
            if amount <= 0 or not DENOM_RE.match(denom):
                raise codes.refuse(codes.INVALID_COINS, f"{amount}{denom}: invalid coins")
            have = self.balance(store, sender, denom)
            if have < amount:
                raise codes.refuse(
                    codes.INSUFFICIENT_FUNDS, f"spendable balance {have}{denom} is smaller than {amount}{denom}: insufficient funds"
                )
            self._set(store, sender, denom, have - amount)
            self.auth.ensure(store, recipient)
            self._set(store, recipient, denom, self.balance(store, recipient, denom) + amount)

    def handle_send(self, store: Store, msg: MsgSend) -> list[tuple[str, dict[str, str]]]:
        """Execute a cosmos.bank.v1beta1.MsgSend; returns its events."""
        for address in (msg.from_address, msg.to_address):
            if not valid_address(address, self.prefix):
                raise codes.refuse(codes.INVALID_ADDRESS, f"invalid address {address!r}: invalid address")
        if not msg.amount:
            raise codes.refuse(codes.INVALID_COINS, "empty amount: invalid coins")
        try:
            coins = [(c.denom, int(c.amount)) for c in msg.amount]
        except ValueError as exc:
            raise codes.refuse(codes.INVALID_COINS, f"{exc}: invalid coins") from exc
        self.send(store, msg.from_address, msg.to_address, coins)
        amount = ",".join(f"{a}{d}" for d, a in coins)
        return [("transfer", {"recipient": msg.to_address, "sender": msg.from_address, "amount": amount})]
