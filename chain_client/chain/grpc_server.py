"""The embedded chain's gRPC server: the Cosmos services an unmodified cosmpy LedgerClient calls, plus veid Query.

Served: cosmos.auth.v1beta1.Query (Account, AccountInfo, Bech32Prefix), cosmos.bank.v1beta1.Query
(Balance, AllBalances), cosmos.tx.v1beta1.Service (Simulate, BroadcastTx, GetTx),
cosmos.base.tendermint.v1beta1.Service (GetNodeInfo, GetSyncing, GetLatestBlock, GetBlockByHeight),
cosmos.consensus.v1.Query (Params: cosmpy reads the block gas limit there),
virtengine.veid.v1.Query, and virtengine.veid.v1.Msg (which, as on any Cosmos node, only
answers that messages go inside signed transactions).
"""

from __future__ import annotations

from concurrent import futures

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from chain_client.chain.app import TxResult
from chain_client.chain.node import Node
from chain_client.chain.sigs import valid_address
from chain_client.chain.state import Store
from chain_client.gen.virtengine.veid.v1 import query_pb2 as vq
from chain_client.gen.virtengine.veid.v1 import query_pb2_grpc as vq_grpc
from chain_client.gen.virtengine.veid.v1 import tx_pb2 as vtx_pb2
from chain_client.gen.virtengine.veid.v1 import tx_pb2_grpc as vtx_grpc
from cosmpy.protos.cosmos.auth.v1beta1 import query_pb2 as authq
from cosmpy.protos.cosmos.auth.v1beta1 import query_pb2_grpc as authq_grpc
from cosmpy.protos.cosmos.bank.v1beta1 import query_pb2 as bankq
from cosmpy.protos.cosmos.bank.v1beta1 import query_pb2_grpc as bankq_grpc
from cosmpy.protos.cosmos.base.abci.v1beta1.abci_pb2 import GasInfo, Result, TxResponse
from cosmpy.protos.cosmos.base.query.v1beta1.pagination_pb2 import PageResponse
from cosmpy.protos.cosmos.base.tendermint.v1beta1 import query_pb2 as tmq
from cosmpy.protos.cosmos.base.tendermint.v1beta1 import query_pb2_grpc as tmq_grpc
from cosmpy.protos.cosmos.base.v1beta1.coin_pb2 import Coin
from cosmpy.protos.cosmos.consensus.v1 import query_pb2 as consq
from cosmpy.protos.cosmos.consensus.v1 import query_pb2_grpc as consq_grpc
from cosmpy.protos.cosmos.tx.v1beta1 import service_pb2 as txs
from cosmpy.protos.cosmos.tx.v1beta1 import service_pb2_grpc as txs_grpc
from cosmpy.protos.cosmos.tx.v1beta1.tx_pb2 import Tx, TxRaw
from cosmpy.protos.tendermint.abci.types_pb2 import Event, EventAttribute
from cosmpy.protos.tendermint.p2p.types_pb2 import DefaultNodeInfo
from cosmpy.protos.tendermint.types import block_pb2, params_pb2, types_pb2
from veid import __version__

COSMOS_SDK_VERSION = "v0.50.0"  # the API level these services follow


class _Base:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.prefix = node.app.cfg.prefix

    def _view(self) -> Store:
        return Store(self.node.app.db)

    def _address(self, address: str, context: grpc.ServicerContext) -> None:
        if not valid_address(address, self.prefix):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid address {address!r}: decoding bech32 failed")


class AuthQuery(_Base, authq_grpc.QueryServicer):
    """cosmos.auth.v1beta1.Query."""

    def _get(self, request, context):
        self._address(request.address, context)
        account = self.node.app.auth.get(self._view(), request.address)
        if account is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"account {request.address} not found")
        return account

    def Account(self, request, context):
        account = self._get(request, context)
        response = authq.QueryAccountResponse()
        response.account.Pack(account, "/")
        return response

    def AccountInfo(self, request, context):
        return authq.QueryAccountInfoResponse(info=self._get(request, context))

    def Bech32Prefix(self, request, context):
        return authq.Bech32PrefixResponse(bech32_prefix=self.prefix)


class BankQuery(_Base, bankq_grpc.QueryServicer):
    """cosmos.bank.v1beta1.Query."""

    def Balance(self, request, context):
        self._address(request.address, context)
        amount = self.node.app.bank.balance(self._view(), request.address, request.denom)
        return bankq.QueryBalanceResponse(balance=Coin(denom=request.denom, amount=str(amount)))

    def AllBalances(self, request, context):
        self._address(request.address, context)
        balances = self.node.app.bank.all_balances(self._view(), request.address)
        return bankq.QueryAllBalancesResponse(balances=balances, pagination=PageResponse(total=len(balances)))


def _events(result: TxResult) -> list[Event]:
    return [
        Event(type=kind, attributes=[EventAttribute(key=k, value=v, index=True) for k, v in attrs.items()])
        for kind, attrs in result.events
    ]


class TxService(_Base, txs_grpc.ServiceServicer):
    """cosmos.tx.v1beta1.Service."""

    def Simulate(self, request, context):
        if request.tx_bytes:
            tx_bytes = request.tx_bytes
        else:
            tx = request.tx
            raw = TxRaw(
                body_bytes=tx.body.SerializeToString(), auth_info_bytes=tx.auth_info.SerializeToString(),
                signatures=tx.signatures,
            )  # fmt: skip
            tx_bytes = raw.SerializeToString()
        result = self.node.simulate(tx_bytes)
        if not result.ok:
            context.abort(
                grpc.StatusCode.UNKNOWN,
                f"{result.log} With gas wanted: '{result.gas_wanted}' and gas used: '{result.gas_used}' ",
            )
        return txs.SimulateResponse(
            gas_info=GasInfo(gas_wanted=result.gas_wanted, gas_used=result.gas_used),
            result=Result(data=result.data, log=result.log, events=_events(result)),
        )

    def BroadcastTx(self, request, context):
        if request.mode not in (txs.BROADCAST_MODE_SYNC, txs.BROADCAST_MODE_ASYNC):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "only BROADCAST_MODE_SYNC and BROADCAST_MODE_ASYNC are supported")
        result = self.node.broadcast(request.tx_bytes)
        return txs.BroadcastTxResponse(
            tx_response=TxResponse(
                txhash=result.hash, code=result.code, codespace=result.codespace, raw_log=result.log,
                gas_wanted=result.gas_wanted, gas_used=result.gas_used,
            )  # fmt: skip
        )

    def GetTx(self, request, context):
        record = self.node.app.db.tx(request.hash)
        if record is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"tx not found: {request.hash}")
        response = TxResponse()
        response.ParseFromString(record.response)
        raw = TxRaw()
        raw.ParseFromString(record.tx_bytes)
        tx = Tx()
        tx.body.ParseFromString(raw.body_bytes)
        tx.auth_info.ParseFromString(raw.auth_info_bytes)
        tx.signatures.extend(raw.signatures)
        response.tx.Pack(tx, "/")
        return txs.GetTxResponse(tx=tx, tx_response=response)


class TendermintService(_Base, tmq_grpc.ServiceServicer):
    """cosmos.base.tendermint.v1beta1.Service: node info and blocks."""

    def GetNodeInfo(self, request, context):
        cfg = self.node.app.cfg
        return tmq.GetNodeInfoResponse(
            default_node_info=DefaultNodeInfo(network=cfg.chain_id, moniker="veid-embedded", version="0.38.0"),
            application_version=tmq.VersionInfo(
                name="veid", app_name="veid", version=__version__, cosmos_sdk_version=COSMOS_SDK_VERSION
            ),
        )

    def GetSyncing(self, request, context):
        return tmq.GetSyncingResponse(syncing=False)

    def _block(self, height: int | None, context):
        db = self.node.app.db
        record = db.last_block() if height is None else db.block(height)
        if record is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"block {height} not found")
        stamp = Timestamp(seconds=record.time_ns // 1_000_000_000, nanos=record.time_ns % 1_000_000_000)
        header = types_pb2.Header(
            chain_id=self.node.app.cfg.chain_id, height=record.height, time=stamp, app_hash=record.app_hash,
        )  # fmt: skip
        block = block_pb2.Block(header=header, data=types_pb2.Data(txs=db.block_txs(record.height)))
        return tmq.GetLatestBlockResponse(block_id=types_pb2.BlockID(hash=record.block_hash), block=block)

    def GetLatestBlock(self, request, context):
        return self._block(None, context)

    def GetBlockByHeight(self, request, context):
        latest = self._block(request.height, context)
        return tmq.GetBlockByHeightResponse(block_id=latest.block_id, block=latest.block)


class ConsensusQuery(_Base, consq_grpc.QueryServicer):
    """cosmos.consensus.v1.Query: block limits."""

    def Params(self, request, context):
        block = params_pb2.BlockParams(max_bytes=22020096, max_gas=self.node.app.cfg.max_block_gas)
        return consq.QueryParamsResponse(params=params_pb2.ConsensusParams(block=block))


class VeidQuery(_Base, vq_grpc.QueryServicer):
    """virtengine.veid.v1.Query."""

    def Score(self, request, context):
        self._address(request.address, context)
        record = self.node.app.veid.score(self._view(), request.address)
        return vq.QueryScoreResponse(found=record is not None, score=record)

    def Attestations(self, request, context):
        self._address(request.address, context)
        items = self.node.app.veid.attestations(self._view(), request.address)
        offset = int.from_bytes(request.pagination.key, "big") if request.pagination.key else request.pagination.offset
        limit = request.pagination.limit or 100
        page = items[offset : offset + limit]
        next_key = (offset + limit).to_bytes(8, "big") if offset + limit < len(items) else b""
        return vq.QueryAttestationsResponse(attestations=page, pagination=PageResponse(next_key=next_key, total=len(items)))

    def Attestation(self, request, context):
        att = self.node.app.veid.attestation(self._view(), request.attestation_id)
        if att is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"attestation {request.attestation_id} not found")
        return vq.QueryAttestationResponse(attestation=att)

    def ApprovedClients(self, request, context):
        return vq.QueryApprovedClientsResponse(clients=self.node.app.veid.clients(self._view()))

    def Roles(self, request, context):
        self._address(request.address, context)
        return vq.QueryRolesResponse(account=self.node.app.veid.account(self._view(), request.address))

    def PendingVerifications(self, request, context):
        if request.owner:
            self._address(request.owner, context)
        return vq.QueryPendingVerificationsResponse(scopes=self.node.app.veid.pending(self._view(), request.owner))

    def Validators(self, request, context):
        return vq.QueryValidatorsResponse(validators=self.node.app.veid.validators(self._view()))

    def Params(self, request, context):
        return vq.QueryParamsResponse(params=self.node.app.veid.params(self._view()))


def _msg_via_tx_only(self, request, context):
    context.abort(
        grpc.StatusCode.UNIMPLEMENTED,
        "veid messages run inside signed transactions: use cosmos.tx.v1beta1.Service/BroadcastTx",
    )


#: virtengine.veid.v1.Msg: every method answers that messages run only inside signed transactions.
VeidMsg = type(
    "VeidMsg",
    (vtx_grpc.MsgServicer,),
    {m.name: _msg_via_tx_only for m in vtx_pb2.DESCRIPTOR.services_by_name["Msg"].methods},
)


def serve(node: Node, host: str, port: int, workers: int = 8) -> tuple[grpc.Server, int]:
    """Start the gRPC server on ``host:port`` (port 0 picks a free one); returns it and the bound port.

    Raises:
        OSError: the address cannot be bound.
    """
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="veid-grpc"))
    authq_grpc.add_QueryServicer_to_server(AuthQuery(node), server)
    bankq_grpc.add_QueryServicer_to_server(BankQuery(node), server)
    txs_grpc.add_ServiceServicer_to_server(TxService(node), server)
    tmq_grpc.add_ServiceServicer_to_server(TendermintService(node), server)
    consq_grpc.add_QueryServicer_to_server(ConsensusQuery(node), server)
    vq_grpc.add_QueryServicer_to_server(VeidQuery(node), server)
    vtx_grpc.add_MsgServicer_to_server(VeidMsg(), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot bind gRPC on {host}:{port}")
    server.start()
    return server, bound

