from cosmpy.protos.cosmos.base.query.v1beta1 import pagination_pb2 as _pagination_pb2
from chain_client.gen.virtengine.veid.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QueryScoreRequest(_message.Message):
    __slots__ = ("address",)
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    address: str
    def __init__(self, address: _Optional[str] = ...) -> None: ...

class QueryScoreResponse(_message.Message):
    __slots__ = ("found", "score")
    FOUND_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    found: bool
    score: _types_pb2.ScoreRecord
    def __init__(self, found: bool = ..., score: _Optional[_Union[_types_pb2.ScoreRecord, _Mapping]] = ...) -> None: ...

class QueryAttestationsRequest(_message.Message):
    __slots__ = ("address", "pagination")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PAGINATION_FIELD_NUMBER: _ClassVar[int]
    address: str
    pagination: _pagination_pb2.PageRequest
    def __init__(self, address: _Optional[str] = ..., pagination: _Optional[_Union[_pagination_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class QueryAttestationsResponse(_message.Message):
    __slots__ = ("attestations", "pagination")
    ATTESTATIONS_FIELD_NUMBER: _ClassVar[int]
    PAGINATION_FIELD_NUMBER: _ClassVar[int]
    attestations: _containers.RepeatedCompositeFieldContainer[_types_pb2.Attestation]
    pagination: _pagination_pb2.PageResponse
    def __init__(self, attestations: _Optional[_Iterable[_Union[_types_pb2.Attestation, _Mapping]]] = ..., pagination: _Optional[_Union[_pagination_pb2.PageResponse, _Mapping]] = ...) -> None: ...

class QueryAttestationRequest(_message.Message):
    __slots__ = ("attestation_id",)
    ATTESTATION_ID_FIELD_NUMBER: _ClassVar[int]
    attestation_id: str
    def __init__(self, attestation_id: _Optional[str] = ...) -> None: ...

class QueryAttestationResponse(_message.Message):
    __slots__ = ("attestation",)
    ATTESTATION_FIELD_NUMBER: _ClassVar[int]
    attestation: _types_pb2.Attestation
    def __init__(self, attestation: _Optional[_Union[_types_pb2.Attestation, _Mapping]] = ...) -> None: ...

class QueryApprovedClientsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryApprovedClientsResponse(_message.Message):
    __slots__ = ("clients",)
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    clients: _containers.RepeatedCompositeFieldContainer[_types_pb2.ApprovedClient]
    def __init__(self, clients: _Optional[_Iterable[_Union[_types_pb2.ApprovedClient, _Mapping]]] = ...) -> None: ...

class QueryRolesRequest(_message.Message):
    __slots__ = ("address",)
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    address: str
    def __init__(self, address: _Optional[str] = ...) -> None: ...

class QueryRolesResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: _types_pb2.AccountRecord
    def __init__(self, account: _Optional[_Union[_types_pb2.AccountRecord, _Mapping]] = ...) -> None: ...

class QueryPendingVerificationsRequest(_message.Message):
    __slots__ = ("owner",)
    OWNER_FIELD_NUMBER: _ClassVar[int]
    owner: str
    def __init__(self, owner: _Optional[str] = ...) -> None: ...

class QueryPendingVerificationsResponse(_message.Message):
    __slots__ = ("scopes",)
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    scopes: _containers.RepeatedCompositeFieldContainer[_types_pb2.Scope]
    def __init__(self, scopes: _Optional[_Iterable[_Union[_types_pb2.Scope, _Mapping]]] = ...) -> None: ...

class QueryValidatorsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryValidatorsResponse(_message.Message):
    __slots__ = ("validators",)
    VALIDATORS_FIELD_NUMBER: _ClassVar[int]
    validators: _containers.RepeatedCompositeFieldContainer[_types_pb2.Validator]
    def __init__(self, validators: _Optional[_Iterable[_Union[_types_pb2.Validator, _Mapping]]] = ...) -> None: ...

class QueryParamsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryParamsResponse(_message.Message):
    __slots__ = ("params",)
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    params: _types_pb2.Params
    def __init__(self, params: _Optional[_Union[_types_pb2.Params, _Mapping]] = ...) -> None: ...
