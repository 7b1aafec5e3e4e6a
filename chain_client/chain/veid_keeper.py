"""The veid module keeper: roles, account states, approved clients, scopes, attestations and quorum scores."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from fractions import Fraction

from chain_client.chain import codes
from chain_client.chain.keepers import AuthKeeper
from chain_client.chain.sigs import valid_address, verify, verify_secp256k1
from chain_client.chain.state import Store
from chain_client.gen.virtengine.veid.v1 import genesis_pb2, tx_pb2
from chain_client.gen.virtengine.veid.v1 import types_pb2 as T
from chain_client.messages import decode_signed_attestation, model_versions_hash, scope_sign_bytes
from veid.errors import VeidError

_PARAMS = b"\x10params"
_GENESIS_ACCOUNT = b"\x10genesis_account"
_ACCOUNT = b"\x11"
_VALIDATOR = b"\x12"
_CLIENT = b"\x13"
_SCOPE = b"\x14"
_ATTESTATION = b"\x15"
_BY_SUBJECT = b"\x16"
_VOTE = b"\x17"
_SCORE = b"\x18"
_PENDING = b"\x19"

_ADMINS = (T.ROLE_GENESIS_ACCOUNT, T.ROLE_ADMINISTRATOR)
_KEY_LENGTHS = {"secp256k1": 33, "ed25519": 32}
MAX_SIGNED_ATTESTATION = 8192  # bytes
Events = list[tuple[str, dict[str, str]]]


def _load(cls, raw: bytes | None):
    if raw is None:
        return None
    obj = cls()
    obj.ParseFromString(raw)
    return obj


class VeidKeeper:
    """State and message handlers of the veid module (the quorum rule comes from ``attest.quorum``)."""

    def __init__(self, auth: AuthKeeper, prefix: str) -> None:
        self.auth = auth
        self.prefix = prefix
        # Verdicts of attest/ signature checks by SHA-256 of the signed bytes: a pure function of
        # the bytes, so Simulate's check serves FinalizeBlock's (bounded, oldest dropped first).
        self._verified: OrderedDict[bytes, tuple | str] = OrderedDict()

    # ----- state -------------------------------------------------------------------------
    def params(self, store: Store) -> T.Params:
        """Module parameters."""
        return _load(T.Params, store.get(_PARAMS)) or T.Params()

    def genesis_account(self, store: Store) -> str:
        """Address holding ROLE_GENESIS_ACCOUNT."""
        return (store.get(_GENESIS_ACCOUNT) or b"").decode()

    def account(self, store: Store, address: str) -> T.AccountRecord:
        """Roles and state of ``address`` (active with no roles when never recorded)."""
        record = _load(T.AccountRecord, store.get(_ACCOUNT + address.encode()))
        return record or T.AccountRecord(address=address, state=T.ACCOUNT_STATE_ACTIVE)

    def _set_account(self, store: Store, record: T.AccountRecord) -> None:
        store.set(_ACCOUNT + record.address.encode(), record.SerializeToString())

    def has_any_role(self, store: Store, address: str, roles: tuple[int, ...]) -> bool:
        """True when ``address`` holds one of ``roles``."""
        return any(r in roles for r in self.account(store, address).roles)

    def is_active(self, store: Store, address: str) -> bool:
        """False for suspended and terminated accounts."""
        return self.account(store, address).state in (T.ACCOUNT_STATE_ACTIVE, T.ACCOUNT_STATE_UNSPECIFIED)

    def validators(self, store: Store) -> list[T.Validator]:
        """The validator set, ordered by address."""
        return [_load(T.Validator, v) for _, v in store.iterate(_VALIDATOR)]

    def client(self, store: Store, client_id: str) -> T.ApprovedClient | None:
        """The approved client ``client_id`` or None."""
        return _load(T.ApprovedClient, store.get(_CLIENT + client_id.encode()))

    def clients(self, store: Store) -> list[T.ApprovedClient]:
        """Every approved client, ordered by id."""
        return [_load(T.ApprovedClient, v) for _, v in store.iterate(_CLIENT)]

    def scope(self, store: Store, scope_id: str) -> T.Scope | None:
        """The uploaded scope ``scope_id`` or None."""
        return _load(T.Scope, store.get(_SCOPE + scope_id.encode()))

    def pending(self, store: Store, owner: str = "") -> list[T.Scope]:
        """Scopes awaiting a quorum, optionally of one owner."""
        prefix = _PENDING + (owner.encode() + b"\x00" if owner else b"")
        return [self.scope(store, k[len(prefix) :].split(b"\x00")[-1].decode()) for k, _ in store.iterate(prefix)]

    def attestation(self, store: Store, att_id: str) -> T.Attestation | None:
        """The attestation ``att_id`` or None."""
        return _load(T.Attestation, store.get(_ATTESTATION + att_id.encode()))

    def attestations(self, store: Store, subject: str) -> list[T.Attestation]:
        """Every attestation about ``subject``, oldest first."""
        prefix = _BY_SUBJECT + subject.encode() + b"\x00"
        return [self.attestation(store, k[len(prefix) + 8 :].decode()) for k, _ in store.iterate(prefix)]

    def score(self, store: Store, address: str) -> T.ScoreRecord | None:
        """The score in force for ``address`` or None."""
        return _load(T.ScoreRecord, store.get(_SCORE + address.encode()))

    # ----- genesis -----------------------------------------------------------------------
    def init_genesis(self, store: Store, state: genesis_pb2.GenesisState) -> None:
        """Write a validated genesis state."""
        store.set(_PARAMS, state.params.SerializeToString())
        store.set(_GENESIS_ACCOUNT, state.genesis_account.encode())
        for validator in state.validators:
            store.set(_VALIDATOR + validator.address.encode(), validator.SerializeToString())
        for record in state.accounts:
            self._set_account(store, record)
        self._grant(store, state.genesis_account, T.ROLE_GENESIS_ACCOUNT, 0)
        for validator in state.validators:
            self._grant(store, validator.address, T.ROLE_VALIDATOR, 0)
        for client in state.approved_clients:
            store.set(_CLIENT + client.client_id.encode(), client.SerializeToString())

    def _grant(self, store: Store, address: str, role: int, height: int) -> None:
        record = self.account(store, address)
        if role not in record.roles:
            record.roles.append(role)
            record.roles.sort()
            record.updated_height = height
            self._set_account(store, record)

    # ----- checks ------------------------------------------------------------------------
    def _address(self, address: str, what: str) -> None:
        if not valid_address(address, self.prefix):
            raise codes.refuse(codes.INVALID_ADDRESS, f"invalid {what} address {address!r}: invalid address")

    def _require_admin(self, store: Store, sender: str, action: str, extra: tuple[int, ...] = ()) -> None:
        if not self.has_any_role(store, sender, _ADMINS + extra):
            raise codes.veid_refuse(
                codes.VEID_NOT_AUTHORIZED, f"{sender} may not {action}: requires the genesis account or an administrator"
            )

    def _require_validator(self, store: Store, sender: str) -> int:
        raw = store.get(_VALIDATOR + sender.encode())
        power = _load(T.Validator, raw).power if raw else 0
        if power <= 0:
            raise codes.veid_refuse(codes.VEID_NOT_AUTHORIZED, f"only validators attest: {sender} is not a validator")
        return power

    # ----- handlers ----------------------------------------------------------------------
    def handle(self, store: Store, msg, height: int, time_s: int) -> tuple[Events, object]:
        """Execute one veid message at block ``height`` and block time ``time_s`` (Unix seconds).

        Returns:
            (events, response message).
        """
        name = type(msg).DESCRIPTOR.name
        if name == "MsgSubmitAttestation":
            return self._h_MsgSubmitAttestation(store, msg, height, time_s)
        return getattr(self, "_h_" + name)(store, msg, height)

    def _h_MsgAssignRole(self, store: Store, msg: tx_pb2.MsgAssignRole, height: int):
        self._require_admin(store, msg.sender, "assign roles")
        self._address(msg.address, "target")
        if msg.role not in T.Role.values() or msg.role in (T.ROLE_UNSPECIFIED, T.ROLE_GENESIS_ACCOUNT):
            raise codes.veid_refuse(codes.VEID_INVALID, f"role {msg.role} cannot be assigned")
        record = self.account(store, msg.address)
        if msg.revoke:
            if msg.role not in record.roles:
                raise codes.veid_refuse(codes.VEID_NOT_FOUND, f"{msg.address} does not hold {T.Role.Name(msg.role)}")
            record.roles.remove(msg.role)
            record.updated_height = height
            self._set_account(store, record)
        else:
            self._grant(store, msg.address, msg.role, height)
        event = {"address": msg.address, "role": T.Role.Name(msg.role), "revoke": str(msg.revoke).lower()}
        return [("veid.role_assigned", event)], tx_pb2.MsgAssignRoleResponse()

    def _h_MsgSetAccountState(self, store: Store, msg: tx_pb2.MsgSetAccountState, height: int):
        self._require_admin(store, msg.sender, "set account states", (T.ROLE_MODERATOR,))
        self._address(msg.address, "target")
        if msg.state not in T.AccountState.values() or msg.state == T.ACCOUNT_STATE_UNSPECIFIED:
            raise codes.veid_refuse(codes.VEID_INVALID, f"account state {msg.state} is not valid")
        if msg.address == self.genesis_account(store):
            raise codes.veid_refuse(codes.VEID_NOT_AUTHORIZED, "the genesis account's state cannot be changed")
        record = self.account(store, msg.address)
        record.state = msg.state
        record.updated_height = height
        self._set_account(store, record)
        return [("veid.account_state", {"address": msg.address, "state": T.AccountState.Name(msg.state)})], (
            tx_pb2.MsgSetAccountStateResponse()
        )

    def _h_MsgRegisterApprovedClient(self, store: Store, msg: tx_pb2.MsgRegisterApprovedClient, height: int):
        self._require_admin(store, msg.sender, "approve clients")
        if not 0 < len(msg.client_id) <= 64:
            raise codes.veid_refuse(codes.VEID_INVALID, "client_id must be 1-64 characters")
        if _KEY_LENGTHS.get(msg.algorithm) != len(msg.public_key):
            raise codes.veid_refuse(
                codes.VEID_INVALID, f"public key must be 33-byte secp256k1 or 32-byte ed25519, got {msg.algorithm!r}"
            )
        if self.client(store, msg.client_id) is not None:
            raise codes.veid_refuse(codes.VEID_DUPLICATE, f"client {msg.client_id!r} is already approved")
        client = T.ApprovedClient(
            client_id=msg.client_id, name=msg.name, public_key=msg.public_key, algorithm=msg.algorithm,
            registered_by=msg.sender, registered_height=height,
        )  # fmt: skip
        store.set(_CLIENT + msg.client_id.encode(), client.SerializeToString())
        return [("veid.client_approved", {"client_id": msg.client_id})], tx_pb2.MsgRegisterApprovedClientResponse()

    def _h_MsgRemoveApprovedClient(self, store: Store, msg: tx_pb2.MsgRemoveApprovedClient, height: int):
        self._require_admin(store, msg.sender, "remove clients")
        if self.client(store, msg.client_id) is None:
            raise codes.veid_refuse(codes.VEID_NOT_FOUND, f"client {msg.client_id!r} is not approved")
        store.delete(_CLIENT + msg.client_id.encode())
        return [("veid.client_removed", {"client_id": msg.client_id})], tx_pb2.MsgRemoveApprovedClientResponse()

    def _h_MsgUploadScope(self, store: Store, msg: tx_pb2.MsgUploadScope, height: int):
        if not 0 < len(msg.scope_id) <= 128 or b"\x00" in msg.scope_id.encode():
            raise codes.veid_refuse(codes.VEID_INVALID, "scope_id must be 1-128 characters")
        if len(msg.envelope_hash) != 32 or len(msg.salt_hash) != 32:
            raise codes.veid_refuse(codes.VEID_INVALID, "envelope_hash and salt_hash must be 32-byte SHA-256 digests")
        if self.scope(store, msg.scope_id) is not None:
            raise codes.veid_refuse(codes.VEID_DUPLICATE, f"scope {msg.scope_id!r} already exists")
        client = self.client(store, msg.client_id)
        if client is None:
            raise codes.veid_refuse(codes.VEID_NOT_AUTHORIZED, f"client {msg.client_id!r} is not approved")
        digest = scope_sign_bytes(
            msg.sender, msg.scope_id, msg.envelope_ref, msg.envelope_hash, msg.salt_hash, msg.client_id
        )
        if not verify(client.algorithm, client.public_key, digest, msg.client_signature):
            raise codes.veid_refuse(codes.VEID_BAD_SIGNATURE, f"client signature of {msg.client_id!r} does not verify")
        account = self.auth.get(store, msg.sender)
        owner_key = self.auth.pubkey_bytes(account) if account else None
        if owner_key is None or not verify_secp256k1(owner_key, digest, msg.user_signature):
            raise codes.veid_refuse(codes.VEID_BAD_SIGNATURE, "user signature does not verify against the sender's key")
        scope = T.Scope(
            scope_id=msg.scope_id, owner=msg.sender, envelope_ref=msg.envelope_ref, envelope_hash=msg.envelope_hash,
            salt_hash=msg.salt_hash, client_id=msg.client_id, client_signature=msg.client_signature,
            user_signature=msg.user_signature, status=T.VERIFICATION_STATUS_PENDING, uploaded_height=height,
        )  # fmt: skip
        store.set(_SCOPE + msg.scope_id.encode(), scope.SerializeToString())
        store.set(_PENDING + msg.sender.encode() + b"\x00" + msg.scope_id.encode(), b"")
        return [("veid.scope_uploaded", {"scope_id": msg.scope_id, "owner": msg.sender})], tx_pb2.MsgUploadScopeResponse()

    def _h_MsgSubmitAttestation(self, store: Store, msg: tx_pb2.MsgSubmitAttestation, height: int, time_s: int):
        self._require_validator(store, msg.validator)
        self._address(msg.subject, "subject")
        if msg.score > 100:
            raise codes.veid_refuse(codes.VEID_INVALID, f"score must be 0-100, got {msg.score}")
        if len(msg.model_versions_hash) != 32 or len(msg.evidence_commitment) != 32:
            raise codes.veid_refuse(codes.VEID_INVALID, "model_versions_hash and evidence_commitment must be 32 bytes")
        if not 0 < len(msg.signed_attestation) <= MAX_SIGNED_ATTESTATION:
            raise codes.veid_refuse(codes.VEID_INVALID, f"signed_attestation must be 1-{MAX_SIGNED_ATTESTATION} bytes")
        if msg.scope_id:
            scope = self.scope(store, msg.scope_id)
            if scope is None or scope.owner != msg.subject:
                raise codes.veid_refuse(codes.VEID_NOT_FOUND, f"scope {msg.scope_id!r} of {msg.subject} not found")
        att_id = self._check_signed_attestation(msg, time_s)
        att = T.Attestation(
            attestation_id=att_id, validator=msg.validator, subject=msg.subject,
            scope_id=msg.scope_id, score=msg.score, tier=msg.tier, model_versions_hash=msg.model_versions_hash,
            evidence_commitment=msg.evidence_commitment, signed_attestation=msg.signed_attestation, height=height,
        )  # fmt: skip
        att.round = msg.scope_id or "direct"
        accepted = self._record_vote(store, att)
        event = {"attestation_id": att.attestation_id, "subject": msg.subject, "score_accepted": str(accepted).lower()}
        response = tx_pb2.MsgSubmitAttestationResponse(attestation_id=att.attestation_id, score_accepted=accepted)
        return [("veid.attestation_submitted", event)], response

    def _h_MsgUpdateScore(self, store: Store, msg: tx_pb2.MsgUpdateScore, height: int):
        self._require_validator(store, msg.sender)
        self._address(msg.account_address, "account")
        if msg.new_score > 100:
            raise codes.veid_refuse(codes.VEID_INVALID, f"new_score must be 0-100, got {msg.new_score}")
        body = f"MsgUpdateScore|{msg.sender}|{msg.account_address}|{msg.new_score}|{msg.score_version}".encode()
        att = T.Attestation(
            attestation_id=hashlib.sha256(body).hexdigest(), validator=msg.sender, subject=msg.account_address,
            score=msg.new_score, tier=self._tier_for(store, msg.new_score), height=height,
            round=f"v{msg.score_version}", score_version=msg.score_version,
        )  # fmt: skip
        accepted = self._record_vote(store, att)
        return [("veid.score_vote", {"account": msg.account_address, "score_accepted": str(accepted).lower()})], (
            tx_pb2.MsgUpdateScoreResponse(score_accepted=accepted)
        )

    def _h_MsgRevokeAttestation(self, store: Store, msg: tx_pb2.MsgRevokeAttestation, height: int):
        att = self.attestation(store, msg.attestation_id)
        if att is None:
            raise codes.veid_refuse(codes.VEID_NOT_FOUND, f"attestation {msg.attestation_id!r} not found")
        if msg.sender != att.validator and not self.has_any_role(store, msg.sender, _ADMINS):
            raise codes.veid_refuse(codes.VEID_NOT_AUTHORIZED, f"{msg.sender} may not revoke another validator's attestation")
        if att.revoked:
            raise codes.veid_refuse(codes.VEID_DUPLICATE, f"attestation {msg.attestation_id!r} is already revoked")
        att.revoked, att.revoke_reason = True, msg.reason
        store.set(_ATTESTATION + att.attestation_id.encode(), att.SerializeToString())
        vote_key = self._vote_key(att.subject, att.round, att.validator)
        if store.get(vote_key) == att.attestation_id.encode():
            store.delete(vote_key)
        self._evaluate(store, att.subject, att.round, att.score_version, height)
        return [("veid.attestation_revoked", {"attestation_id": att.attestation_id})], tx_pb2.MsgRevokeAttestationResponse()

    def _verify_signed(self, raw: bytes):
        """(attestation, its model versions hash) for valid attest/ signed bytes, else the error text (cached)."""
        from attest.attestation import verify_attestation

        key = hashlib.sha256(raw).digest()
        if key not in self._verified:
            try:
                signed = decode_signed_attestation(raw)
                verify_attestation(signed, signed.public_key)
                verdict = (signed.attestation, model_versions_hash(signed.attestation.to_dict()["model_versions"]))
            except VeidError as exc:
                verdict = str(exc)
            self._verified[key] = verdict
            if len(self._verified) > 8192:
                self._verified.popitem(last=False)
        return self._verified[key]

    def _check_signed_attestation(self, msg: tx_pb2.MsgSubmitAttestation, time_s: int) -> str:
        """Verify the attest/ signed attestation and that the clear fields match it; returns its id."""
        from attest.attestation import AttestationStatus

        verdict = self._verify_signed(msg.signed_attestation)
        if isinstance(verdict, str):
            raise codes.veid_refuse(codes.VEID_BAD_SIGNATURE, f"signed attestation does not verify: {verdict}")
        att, mv_hash = verdict
        clear = (msg.validator, msg.subject, msg.score, msg.tier, msg.evidence_commitment.hex(), msg.model_versions_hash)
        signed_fields = (att.issuer, att.subject, att.score, att.tier, att.evidence_commitment, mv_hash)
        names = ("issuer", "subject", "score", "tier", "evidence_commitment", "model_versions_hash")
        for name, a, b in zip(names, clear, signed_fields):
            if a != b:
                raise codes.veid_refuse(codes.VEID_INVALID, f"message {name} does not match the signed attestation")
        status = att.effective_status(time_s)
        if status is not AttestationStatus.ACTIVE:
            raise codes.veid_refuse(
                codes.VEID_INVALID, f"attestation is {status.value} at block time {time_s}: only active ones are submitted"
            )
        return att.attestation_id

    # ----- quorum ------------------------------------------------------------------------
    @staticmethod
    def _vote_key(subject: str, round_id: str, validator: str) -> bytes:
        return _VOTE + subject.encode() + b"\x00" + round_id.encode() + b"\x00" + validator.encode()

    def _record_vote(self, store: Store, att: T.Attestation) -> bool:
        if self.attestation(store, att.attestation_id) is not None:
            raise codes.veid_refuse(codes.VEID_DUPLICATE, f"attestation {att.attestation_id} already recorded")
        store.set(_ATTESTATION + att.attestation_id.encode(), att.SerializeToString())
        index = _BY_SUBJECT + att.subject.encode() + b"\x00" + att.height.to_bytes(8, "big") + att.attestation_id.encode()
        store.set(index, b"")
        # A validator's newer vote in a round replaces its earlier one (re-scoring).
        store.set(self._vote_key(att.subject, att.round, att.validator), att.attestation_id.encode())
        return self._evaluate(store, att.subject, att.round, att.score_version, att.height)

    def _evaluate(self, store: Store, subject: str, round_id: str, score_version: int, height: int) -> bool:
        """Re-run the quorum of one round; update the subject's score. True if the round is accepted."""
        from attest.quorum import Vote, aggregate  # the quorum rule lives in attest/

        power = {v.address: v.power for v in self.validators(store)}
        prefix = _VOTE + subject.encode() + b"\x00" + round_id.encode() + b"\x00"
        votes, atts = [], {}
        for _, att_id in store.iterate(prefix):
            att = self.attestation(store, att_id.decode())
            if att is not None and not att.revoked and att.validator in power:
                votes.append(Vote(validator=att.validator, score=att.score, attestation_id=att.attestation_id))
                atts[att.validator] = att
        params = self.params(store)
        threshold = (
            Fraction(params.quorum_threshold_num, params.quorum_threshold_den)
            if params.quorum_threshold_den else Fraction(2, 3)
        )  # fmt: skip
        outcome = aggregate(votes, power, tolerance=params.quorum_tolerance, threshold=threshold)
        current = self.score(store, subject)
        if not outcome.accepted:
            if current is not None and current.round == round_id:
                store.delete(_SCORE + subject.encode())
            return False
        dissenters = set(outcome.dissenters)
        tiers = {a.tier for v, a in atts.items() if v not in dissenters}
        tier = tiers.pop() if len(tiers) == 1 else self._tier_for(store, outcome.score)
        record = T.ScoreRecord(
            address=subject, score=int(outcome.score), tier=tier, round=round_id,
            agreeing_power=int(outcome.agreeing_power), total_power=int(outcome.total_power),
            updated_height=height, score_version=score_version,
        )  # fmt: skip
        store.set(_SCORE + subject.encode(), record.SerializeToString())
        scope = self.scope(store, round_id)
        if scope is not None and scope.owner == subject and scope.status == T.VERIFICATION_STATUS_PENDING:
            scope.status = T.VERIFICATION_STATUS_VERIFIED
            store.set(_SCOPE + round_id.encode(), scope.SerializeToString())
            store.delete(_PENDING + subject.encode() + b"\x00" + round_id.encode())
        return True

    def _tier_for(self, store: Store, score: int) -> str:
        for bound in sorted(self.params(store).tiers, key=lambda b: -b.min_score):
            if score >= bound.min_score:
                return bound.name
        return ""
