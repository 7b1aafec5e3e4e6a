"""Result codes of refused transactions, numbered as the Cosmos SDK numbers them (codespace ``sdk``) plus ``veid``."""

from __future__ import annotations

from veid.errors import ChainError

# Cosmos SDK (types/errors) codes, codespace "sdk".
TX_DECODE = 2
UNAUTHORIZED = 4
INSUFFICIENT_FUNDS = 5
UNKNOWN_REQUEST = 6
INVALID_ADDRESS = 7
INVALID_PUBKEY = 8
UNKNOWN_ADDRESS = 9
INVALID_COINS = 10
OUT_OF_GAS = 11
MEMO_TOO_LARGE = 12
INSUFFICIENT_FEE = 13
NO_SIGNATURES = 15
INVALID_REQUEST = 18
TX_IN_MEMPOOL = 19
MEMPOOL_FULL = 20
TX_TOO_LARGE = 21
INVALID_CHAIN_ID = 28
TX_TIMEOUT_HEIGHT = 30
WRONG_SEQUENCE = 32
INVALID_GAS_LIMIT = 41

# veid module codes, codespace "veid".
VEID_NOT_AUTHORIZED = 2
VEID_ACCOUNT_INACTIVE = 3
VEID_NOT_FOUND = 4
VEID_INVALID = 5
VEID_DUPLICATE = 6
VEID_BAD_SIGNATURE = 7


class TxRefused(ChainError):
    """A transaction (or one of its messages) was refused; carries the ABCI code, codespace and log."""

    def __init__(self, code: int, log: str, codespace: str = "sdk") -> None:
        super().__init__(log)
        self.code, self.codespace, self.log = code, codespace, log


def refuse(code: int, log: str) -> TxRefused:
    """An SDK-codespace refusal."""
    return TxRefused(code, log, "sdk")


def veid_refuse(code: int, log: str) -> TxRefused:
    """A veid-codespace refusal."""
    return TxRefused(code, log, "veid")
