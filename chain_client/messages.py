"""Typed builders for the veid messages, the message registry and the bytes that uploads sign."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from google.protobuf.message import Message

from chain_client.gen.virtengine.veid.v1 import tx_pb2, types_pb2
from cosmpy.protos.cosmos.bank.v1beta1 import tx_pb2 as bank_tx_pb2
from cosmpy.protos.cosmos.msg.v1 import msg_pb2
from veid.errors import InputError

if TYPE_CHECKING:
    from attest.attestation import SignedAttestation

#: Every message the embedded chain executes, by type URL.
MSG_TYPES: dict[str, type[Message]] = {
    "/" + cls.DESCRIPTOR.full_name: cls
    for cls in (
        bank_tx_pb2.MsgSend,
        tx_pb2.MsgUploadScope,
        tx_pb2.MsgSubmitAttestation,
        tx_pb2.MsgRevokeAttestation,
        tx_pb2.MsgRegisterApprovedClient,
        tx_pb2.MsgRemoveApprovedClient,
        tx_pb2.MsgAssignRole,
        tx_pb2.MsgSetAccountState,
        tx_pb2.MsgUpdateScore,
    )
}

Role = types_pb2.Role
AccountState = types_pb2.AccountState

_SCOPE_DOMAIN = b"virtengine.veid.v1.MsgUploadScope\x00"


def signer_of(msg: Message) -> str:
    """The address that must sign ``msg``, read from its ``cosmos.msg.v1.signer`` option.

    Raises:
        InputError: the message type declares no signer field.
    """
    fields = msg.DESCRIPTOR.GetOptions().Extensions[msg_pb2.signer]
    if len(fields) != 1:
        raise InputError(f"{msg.DESCRIPTOR.full_name} declares {len(fields)} signer fields, expected 1")
    return str(getattr(msg, fields[0]))


def scope_sign_bytes(
    owner: str, scope_id: str, envelope_ref: str, envelope_hash: bytes, salt_hash: bytes, client_id: str
) -> bytes:
    """The 32-byte digest that the capture client and the owner both sign for an upload.

    SHA-256 over a domain tag and the length-prefixed fields, so no field can bleed into another.
    """
    h = hashlib.sha256(_SCOPE_DOMAIN)
    for part in (owner.encode(), scope_id.encode(), envelope_ref.encode(), envelope_hash, salt_hash, client_id.encode()):
        h.update(len(part).to_bytes(4, "big") + part)
    return h.digest()


def model_versions_hash(model_versions: list[dict[str, str]]) -> bytes:
    """SHA-256 of the RFC 8785 JSON of an attestation's ``model_versions`` list (name, sha256)."""
    from attest.jcs import canonicalize

    return hashlib.sha256(canonicalize(model_versions)).digest()


def encode_signed_attestation(signed: SignedAttestation) -> bytes:
    """The canonical (RFC 8785 JSON) bytes of an ``attest`` SignedAttestation, as carried on chain."""
    from attest.jcs import canonicalize

    return canonicalize(signed.to_dict())


def decode_signed_attestation(raw: bytes) -> SignedAttestation:
    """Inverse of :func:`encode_signed_attestation`.

    Raises:
        InputError: not JSON or not a signed attestation.
    """
    from attest.attestation import SignedAttestation

    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"signed attestation is not JSON: {exc}") from exc
    return SignedAttestation.from_dict(data)


@dataclass(frozen=True)
class AttestationPayload:
    """What a validator puts on chain for one scored subject (no personal data).

    Attributes:
        subject: account address the score is about.
        score: identity score, integer 0-100.
        tier: tier name produced by the scorer.
        model_versions_hash: 32-byte SHA-256 over the model versions used.
        evidence_commitment: 32-byte commitment to the evidence behind the score.
        signed_attestation: canonical signed attestation bytes from ``attest/``.
        scope_id: the verification request answered ("" for none).
    """

    subject: str
    score: int
    tier: str
    model_versions_hash: bytes
    evidence_commitment: bytes
    signed_attestation: bytes
    scope_id: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.score <= 100:
            raise InputError(f"score must be an integer 0-100, got {self.score}")
        if not self.signed_attestation:
            raise InputError("signed_attestation must not be empty")

    @classmethod
    def from_signed(cls, signed: SignedAttestation, scope_id: str = "") -> AttestationPayload:
        """The payload for an ``attest`` SignedAttestation: its key fields in clear, plus its canonical bytes."""
        att = signed.attestation
        return cls(
            subject=att.subject,
            score=att.score,
            tier=att.tier,
            model_versions_hash=model_versions_hash(att.to_dict()["model_versions"]),
            evidence_commitment=bytes.fromhex(att.evidence_commitment),
            signed_attestation=encode_signed_attestation(signed),
            scope_id=scope_id,
        )

    def to_msg(self, validator: str) -> tx_pb2.MsgSubmitAttestation:
        """The MsgSubmitAttestation that ``validator`` signs."""
        return tx_pb2.MsgSubmitAttestation(
            validator=validator,
            subject=self.subject,
            scope_id=self.scope_id,
            score=self.score,
            tier=self.tier,
            model_versions_hash=self.model_versions_hash,
            evidence_commitment=self.evidence_commitment,
            signed_attestation=self.signed_attestation,
        )


@dataclass(frozen=True)
class ScopeUpload:
    """A verification request: where the encrypted envelope lives and who signed it.

    Attributes:
        scope_id: unique id chosen by the client.
        envelope_ref: URI or content address of the encrypted envelope (never the data).
        envelope_hash: 32-byte SHA-256 of the envelope bytes.
        salt_hash: 32-byte SHA-256 of the key-derivation salt.
        client_id: id of the approved capture client.
        client_signature: the client's signature over :func:`scope_sign_bytes`.
        user_signature: the owner's secp256k1 signature (64 bytes r||s) over the same digest.
    """

    scope_id: str
    envelope_ref: str
    envelope_hash: bytes
    salt_hash: bytes
    client_id: str
    client_signature: bytes
    user_signature: bytes

    def to_msg(self, owner: str) -> tx_pb2.MsgUploadScope:
        """The MsgUploadScope that ``owner`` signs."""
        return tx_pb2.MsgUploadScope(
            sender=owner,
            scope_id=self.scope_id,
            envelope_ref=self.envelope_ref,
            envelope_hash=self.envelope_hash,
            salt_hash=self.salt_hash,
            client_id=self.client_id,
            client_signature=self.client_signature,
            user_signature=self.user_signature,
        )


def msg_send(sender: str, recipient: str, amount: int, denom: str) -> bank_tx_pb2.MsgSend:
    """A bank transfer of ``amount`` base units of ``denom``."""
    from cosmpy.protos.cosmos.base.v1beta1.coin_pb2 import Coin

    return bank_tx_pb2.MsgSend(from_address=sender, to_address=recipient, amount=[Coin(denom=denom, amount=str(amount))])


def msg_assign_role(sender: str, address: str, role: int, revoke: bool = False) -> tx_pb2.MsgAssignRole:
    """Grant (or revoke) ``role`` (a :data:`Role` value) to ``address``."""
    return tx_pb2.MsgAssignRole(sender=sender, address=address, role=role, revoke=revoke)


def msg_set_account_state(sender: str, address: str, state: int, reason: str = "") -> tx_pb2.MsgSetAccountState:
    """Set ``address`` to ``state`` (an :data:`AccountState` value)."""
    return tx_pb2.MsgSetAccountState(sender=sender, address=address, state=state, reason=reason)


def msg_register_client(
    sender: str, client_id: str, public_key: bytes, algorithm: str, name: str = ""
) -> tx_pb2.MsgRegisterApprovedClient:
    """Approve a capture client by its public key (``secp256k1`` or ``ed25519``)."""
    return tx_pb2.MsgRegisterApprovedClient(
        sender=sender, client_id=client_id, name=name, public_key=public_key, algorithm=algorithm
    )


def msg_remove_client(sender: str, client_id: str) -> tx_pb2.MsgRemoveApprovedClient:
    """Withdraw a capture client's approval."""
    return tx_pb2.MsgRemoveApprovedClient(sender=sender, client_id=client_id)


def msg_revoke_attestation(sender: str, attestation_id_hex: str, reason: str = "") -> tx_pb2.MsgRevokeAttestation:
    """Withdraw an attestation by id."""
    return tx_pb2.MsgRevokeAttestation(sender=sender, attestation_id=attestation_id_hex, reason=reason)


def msg_update_score(sender: str, account: str, new_score: int, score_version: int) -> tx_pb2.MsgUpdateScore:
    """Reference-chain compatible score vote (0-100)."""
    return tx_pb2.MsgUpdateScore(
        sender=sender, account_address=account, new_score=new_score, score_version=score_version
    )
