"""The embedded single-node chain: ABCI-shaped app, SQLite state, ante checks, keepers and the Cosmos gRPC services."""
