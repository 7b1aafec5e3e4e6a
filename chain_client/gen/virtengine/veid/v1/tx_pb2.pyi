from cosmpy.protos.cosmos.msg.v1 import msg_pb2 as _msg_pb2
from chain_client.gen.virtengine.veid.v1 import types_pb2 as _types_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MsgUploadScope(_message.Message):
    __slots__ = ("sender", "scope_id", "envelope_ref", "envelope_hash", "salt_hash", "client_id", "client_signature", "user_signature")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_REF_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_HASH_FIELD_NUMBER: _ClassVar[int]
    SALT_HASH_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    USER_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    sender: str
    scope_id: str
    envelope_ref: str
    envelope_hash: bytes
    salt_hash: bytes
    client_id: str
    client_signature: bytes
    user_signature: bytes
    def __init__(self, sender: _Optional[str] = ..., scope_id: _Optional[str] = ..., envelope_ref: _Optional[str] = ..., envelope_hash: _Optional[bytes] = ..., salt_hash: _Optional[bytes] = ..., client_id: _Optional[str] = ..., client_signature: _Optional[bytes] = ..., user_signature: _Optional[bytes] = ...) -> None: ...

class MsgUploadScopeResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MsgSubmitAttestation(_message.Message):
    __slots__ = ("validator", "subject", "scope_id", "score", "tier", "model_versions_hash", "evidence_commitment", "signed_attestation")
    VALIDATOR_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSIONS_HASH_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_COMMITMENT_FIELD_NUMBER: _ClassVar[int]
    SIGNED_ATTESTATION_FIELD_NUMBER: _ClassVar[int]
    validator: str
    subject: str
    scope_id: str
    score: int
    tier: str
    model_versions_hash: bytes
    evidence_commitment: bytes
    signed_attestation: bytes
    def __init__(self, validator: _Optional[str] = ..., subject: _Optional[str] = ..., scope_id: _Optional[str] = ..., score: _Optional[int] = ..., tier: _Optional[str] = ..., model_versions_hash: _Optional[bytes] = ..., evidence_commitment: _Optional[bytes] = ..., signed_attestation: _Optional[bytes] = ...) -> None: ...

class MsgSubmitAttestationResponse(_message.Message):
    __slots__ = ("attestation_id", "score_accepted")
    ATTESTATION_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    attestation_id: str
    score_accepted: bool
    def __init__(self, attestation_id: _Optional[str] = ..., score_accepted: bool = ...) -> None: ...

class MsgRevokeAttestation(_message.Message):
    __slots__ = ("sender", "attestation_id", "reason")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    ATTESTATION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    sender: str
    attestation_id: str
    reason: str
    def __init__(self, sender: _Optional[str] = ..., attestation_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class MsgRevokeAttestationResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MsgRegisterApprovedClient(_message.Message):
    __slots__ = ("sender", "client_id", "name", "public_key", "algorithm")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    sender: str
    client_id: str
    name: str
    public_key: bytes
    algorithm: str
    def __init__(self, sender: _Optional[str] = ..., client_id: _Optional[str] = ..., name: _Optional[str] = ..., public_key: _Optional[bytes] = ..., algorithm: _Optional[str] = ...) -> None: ...

class MsgRegisterApprovedClientResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MsgRemoveApprovedClient(_message.Message):
    __slots__ = ("sender", "client_id")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    sender: str
    client_id: str
    def __init__(self, sender: _Optional[str] = ..., client_id: _Optional[str] = ...) -> None: ...

class MsgRemoveApprovedClientResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MsgAssignRole(_message.Message):
    __slots__ = ("sender", "address", "role", "revoke")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    REVOKE_FIELD_NUMBER: _ClassVar[int]
    sender: str
    address: str
    role: _types_pb2.Role
    revoke: bool
    def __init__(self, sender: _Optional[str] = ..., address: _Optional[str] = ..., role: _Optional[_Union[_types_pb2.Role, str]] = ..., revoke: bool = ...) -> None: ...

class MsgAssignRoleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MsgSetAccountState(_message.Message):
    __slots__ = ("sender", "address", "state", "reason")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    sender: str
    address: str
    state: _types_pb2.AccountState
    reason: str
    def __init__(self, sender: _Optional[str] = ..., address: _Optional[str] = ..., state: _Optional[_Union[_types_pb2.AccountState, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class MsgSetAccountStateResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MsgUpdateScore(_message.Message):
    __slots__ = ("sender", "account_address", "new_score", "score_version")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    NEW_SCORE_FIELD_NUMBER: _ClassVar[int]
    SCORE_VERSION_FIELD_NUMBER: _ClassVar[int]
    sender: str
    account_address: str
    new_score: int
    score_version: int
    def __init__(self, sender: _Optional[str] = ..., account_address: _Optional[str] = ..., new_score: _Optional[int] = ..., score_version: _Optional[int] = ...) -> None: ...

class MsgUpdateScoreResponse(_message.Message):
    __slots__ = ("score_accepted",)
    SCORE_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    score_accepted: bool
    def __init__(self, score_accepted: bool = ...) -> None: ...
