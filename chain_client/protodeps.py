"""Export the Cosmos .proto descriptors bundled in cosmpy as a FileDescriptorSet for protoc.

cosmpy ships generated ``*_pb2`` modules but no ``.proto`` sources. ``make proto`` compiles
our own ``proto/virtengine/**`` files against these descriptors
(``protoc --descriptor_set_in``), so the generated code imports cosmpy's ``cosmos.*``
modules and no second copy of the Cosmos protos ever exists.

Usage: ``python -m chain_client.protodeps OUT.pb cosmos/msg/v1/msg.proto ...``
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2


def _module_for(proto_path: str) -> str:
    """``cosmos/msg/v1/msg.proto`` -> ``cosmpy.protos.cosmos.msg.v1.msg_pb2`` (google.* as is)."""
    dotted = proto_path[: -len(".proto")].replace("/", ".") + "_pb2"
    return dotted if dotted.startswith("google.") else "cosmpy.protos." + dotted


def descriptor_set(proto_paths: list[str]) -> descriptor_pb2.FileDescriptorSet:
    """Collect the named files and their transitive imports, dependencies first.

    Args:
        proto_paths: import paths as written in ``.proto`` files, e.g. ``cosmos/msg/v1/msg.proto``.

    Returns:
        A FileDescriptorSet that protoc accepts through ``--descriptor_set_in``.
    """
    out = descriptor_pb2.FileDescriptorSet()
    seen: set[str] = set()

    def visit(path: str) -> None:
        if path in seen:
            return
        seen.add(path)
        module = importlib.import_module(_module_for(path))
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        for dep in proto.dependency:
            visit(dep)
        out.file.append(proto)

    for path in proto_paths:
        visit(path)
    return out


def main(argv: list[str] | None = None) -> None:
    """Write the descriptor set named on the command line (atomically)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        raise SystemExit("usage: python -m chain_client.protodeps OUT.pb PROTO...")
    target = Path(args[0])
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(descriptor_set(args[1:]).SerializeToString())
    os.replace(tmp, target)


if __name__ == "__main__":
    main()
