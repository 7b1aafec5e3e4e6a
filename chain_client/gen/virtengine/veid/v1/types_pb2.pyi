from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_GENESIS_ACCOUNT: _ClassVar[Role]
    ROLE_ADMINISTRATOR: _ClassVar[Role]
    ROLE_MODERATOR: _ClassVar[Role]
    ROLE_VALIDATOR: _ClassVar[Role]
    ROLE_SERVICE_PROVIDER: _ClassVar[Role]
    ROLE_CUSTOMER: _ClassVar[Role]
    ROLE_SUPPORT_AGENT: _ClassVar[Role]
    ROLE_STAKER: _ClassVar[Role]

class AccountState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCOUNT_STATE_UNSPECIFIED: _ClassVar[AccountState]
    ACCOUNT_STATE_ACTIVE: _ClassVar[AccountState]
    ACCOUNT_STATE_SUSPENDED: _ClassVar[AccountState]
    ACCOUNT_STATE_TERMINATED: _ClassVar[AccountState]

class VerificationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERIFICATION_STATUS_UNSPECIFIED: _ClassVar[VerificationStatus]
    VERIFICATION_STATUS_PENDING: _ClassVar[VerificationStatus]
    VERIFICATION_STATUS_VERIFIED: _ClassVar[VerificationStatus]
    VERIFICATION_STATUS_REJECTED: _ClassVar[VerificationStatus]
ROLE_UNSPECIFIED: Role
ROLE_GENESIS_ACCOUNT: Role
ROLE_ADMINISTRATOR: Role
ROLE_MODERATOR: Role
ROLE_VALIDATOR: Role
ROLE_SERVICE_PROVIDER: Role
ROLE_CUSTOMER: Role
ROLE_SUPPORT_AGENT: Role
ROLE_STAKER: Role
ACCOUNT_STATE_UNSPECIFIED: AccountState
ACCOUNT_STATE_ACTIVE: AccountState
ACCOUNT_STATE_SUSPENDED: AccountState
ACCOUNT_STATE_TERMINATED: AccountState
VERIFICATION_STATUS_UNSPECIFIED: VerificationStatus
VERIFICATION_STATUS_PENDING: VerificationStatus
VERIFICATION_STATUS_VERIFIED: VerificationStatus
VERIFICATION_STATUS_REJECTED: VerificationStatus

class Params(_message.Message):
    __slots__ = ("quorum_tolerance", "tiers", "quorum_threshold_num", "quorum_threshold_den")
    QUORUM_TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    TIERS_FIELD_NUMBER: _ClassVar[int]
    QUORUM_THRESHOLD_NUM_FIELD_NUMBER: _ClassVar[int]
    QUORUM_THRESHOLD_DEN_FIELD_NUMBER: _ClassVar[int]
    quorum_tolerance: int
    tiers: _containers.RepeatedCompositeFieldContainer[TierBound]
    quorum_threshold_num: int
    quorum_threshold_den: int
    def __init__(self, quorum_tolerance: _Optional[int] = ..., tiers: _Optional[_Iterable[_Union[TierBound, _Mapping]]] = ..., quorum_threshold_num: _Optional[int] = ..., quorum_threshold_den: _Optional[int] = ...) -> None: ...

class TierBound(_message.Message):
    __slots__ = ("name", "min_score")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    name: str
    min_score: int
    def __init__(self, name: _Optional[str] = ..., min_score: _Optional[int] = ...) -> None: ...

class Validator(_message.Message):
    __slots__ = ("address", "power", "moniker", "encryption_key")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    POWER_FIELD_NUMBER: _ClassVar[int]
    MONIKER_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTION_KEY_FIELD_NUMBER: _ClassVar[int]
    address: str
    power: int
    moniker: str
    encryption_key: bytes
    def __init__(self, address: _Optional[str] = ..., power: _Optional[int] = ..., moniker: _Optional[str] = ..., encryption_key: _Optional[bytes] = ...) -> None: ...

class AccountRecord(_message.Message):
    __slots__ = ("address", "roles", "state", "updated_height")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    address: str
    roles: _containers.RepeatedScalarFieldContainer[Role]
    state: AccountState
    updated_height: int
    def __init__(self, address: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[Role, str]]] = ..., state: _Optional[_Union[AccountState, str]] = ..., updated_height: _Optional[int] = ...) -> None: ...

class ApprovedClient(_message.Message):
    __slots__ = ("client_id", "name", "public_key", "algorithm", "registered_by", "registered_height")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_BY_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    name: str
    public_key: bytes
    algorithm: str
    registered_by: str
    registered_height: int
    def __init__(self, client_id: _Optional[str] = ..., name: _Optional[str] = ..., public_key: _Optional[bytes] = ..., algorithm: _Optional[str] = ..., registered_by: _Optional[str] = ..., registered_height: _Optional[int] = ...) -> None: ...

class Scope(_message.Message):
    __slots__ = ("scope_id", "owner", "envelope_ref", "envelope_hash", "salt_hash", "client_id", "client_signature", "user_signature", "status", "uploaded_height")
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_REF_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_HASH_FIELD_NUMBER: _ClassVar[int]
    SALT_HASH_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    USER_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    scope_id: str
    owner: str
    envelope_ref: str
    envelope_hash: bytes
    salt_hash: bytes
    client_id: str
    client_signature: bytes
    user_signature: bytes
    status: VerificationStatus
    uploaded_height: int
    def __init__(self, scope_id: _Optional[str] = ..., owner: _Optional[str] = ..., envelope_ref: _Optional[str] = ..., envelope_hash: _Optional[bytes] = ..., salt_hash: _Optional[bytes] = ..., client_id: _Optional[str] = ..., client_signature: _Optional[bytes] = ..., user_signature: _Optional[bytes] = ..., status: _Optional[_Union[VerificationStatus, str]] = ..., uploaded_height: _Optional[int] = ...) -> None: ...

class Attestation(_message.Message):
    __slots__ = ("attestation_id", "validator", "subject", "scope_id", "score", "tier", "model_versions_hash", "evidence_commitment", "signed_attestation", "height", "revoked", "revoke_reason", "round", "score_version")
    ATTESTATION_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATOR_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSIONS_HASH_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_COMMITMENT_FIELD_NUMBER: _ClassVar[int]
    SIGNED_ATTESTATION_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    REVOKE_REASON_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    SCORE_VERSION_FIELD_NUMBER: _ClassVar[int]
    attestation_id: str
    validator: str
    subject: str
    scope_id: str
    score: int
    tier: str
    model_versions_hash: bytes
    evidence_commitment: bytes
    signed_attestation: bytes
    height: int
    revoked: bool
    revoke_reason: str
    round: str
    score_version: int
    def __init__(self, attestation_id: _Optional[str] = ..., validator: _Optional[str] = ..., subject: _Optional[str] = ..., scope_id: _Optional[str] = ..., score: _Optional[int] = ..., tier: _Optional[str] = ..., model_versions_hash: _Optional[bytes] = ..., evidence_commitment: _Optional[bytes] = ..., signed_attestation: _Optional[bytes] = ..., height: _Optional[int] = ..., revoked: bool = ..., revoke_reason: _Optional[str] = ..., round: _Optional[str] = ..., score_version: _Optional[int] = ...) -> None: ...

class ScoreRecord(_message.Message):
    __slots__ = ("address", "score", "tier", "round", "agreeing_power", "total_power", "updated_height", "score_version")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    AGREEING_POWER_FIELD_NUMBER: _ClassVar[int]
    TOTAL_POWER_FIELD_NUMBER: _ClassVar[int]
    UPDATED_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    SCORE_VERSION_FIELD_NUMBER: _ClassVar[int]
    address: str
    score: int
    tier: str
    round: str
    agreeing_power: int
    total_power: int
    updated_height: int
    score_version: int
    def __init__(self, address: _Optional[str] = ..., score: _Optional[int] = ..., tier: _Optional[str] = ..., round: _Optional[str] = ..., agreeing_power: _Optional[int] = ..., total_power: _Optional[int] = ..., updated_height: _Optional[int] = ..., score_version: _Optional[int] = ...) -> None: ...
