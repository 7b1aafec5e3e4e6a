from chain_client.gen.virtengine.veid.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GenesisState(_message.Message):
    __slots__ = ("params", "genesis_account", "validators", "accounts", "approved_clients")
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    GENESIS_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    VALIDATORS_FIELD_NUMBER: _ClassVar[int]
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    APPROVED_CLIENTS_FIELD_NUMBER: _ClassVar[int]
    params: _types_pb2.Params
    genesis_account: str
    validators: _containers.RepeatedCompositeFieldContainer[_types_pb2.Validator]
    accounts: _containers.RepeatedCompositeFieldContainer[_types_pb2.AccountRecord]
    approved_clients: _containers.RepeatedCompositeFieldContainer[_types_pb2.ApprovedClient]
    def __init__(self, params: _Optional[_Union[_types_pb2.Params, _Mapping]] = ..., genesis_account: _Optional[str] = ..., validators: _Optional[_Iterable[_Union[_types_pb2.Validator, _Mapping]]] = ..., accounts: _Optional[_Iterable[_Union[_types_pb2.AccountRecord, _Mapping]]] = ..., approved_clients: _Optional[_Iterable[_Union[_types_pb2.ApprovedClient, _Mapping]]] = ...) -> None: ...
