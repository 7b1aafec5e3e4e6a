"""``veid market``: gate Waldur orders on on-chain identity, and decide provider bids."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from veid.config import DEFAULT_PARAMS

_params = click.option("--params", "params_path", type=click.Path(dir_okay=False, path_type=Path),
                       default=DEFAULT_PARAMS, show_default=True, help="params.yaml (sections market, chain).")  # fmt: skip
_chain_home = click.option("--chain-home", default="", help="Chain home of a running `veid chain start` node.")
_grpc = click.option("--grpc", "grpc_address", default="", help="Chain gRPC host:port (default: the home's node).")


@click.group()
def market() -> None:
    """Marketplace (Waldur): accept orders only from verified buyers to verified providers; provider bids."""


@market.command()
@_params
@_chain_home
@_grpc
@click.option("--offering", "offerings", multiple=True, help="Offering UUID (default: market.offering_uuids).")
@click.option("--waldur-url", default=None, help="Waldur API URL (default: market.waldur_url); token from $WALDUR_TOKEN.")
@click.option("--provider-key", required=True, help="Provider's X25519 public key (hex or base64): order details are sealed to it.")
@click.option("--sender-key-file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File with the agent's Ed25519 private key (32 bytes, hex) that signs envelopes.")  # fmt: skip
@click.option("--domain-secret-env", default="VEID_DOMAIN_SECRET", show_default=True,
              help="Environment variable holding the domain-token secret.")  # fmt: skip
@click.option("--nameserver", "nameservers", multiple=True, help="DNS server for domain checks (default: scopes.domain or system).")
@click.option("--dns-port", type=int, default=53, show_default=True, help="Port of --nameserver.")
def orders(params_path: Path, chain_home: str, grpc_address: str, offerings: tuple[str, ...], waldur_url: str | None,
           provider_key: str, sender_key_file: Path, domain_secret_env: str, nameservers: tuple[str, ...],
           dns_port: int) -> None:  # fmt: skip
    """Decide every pending-provider order: approve, reject with a reason, or hold; print the decisions."""
    import dataclasses

    from attest.keys import Ed25519Key
    from hpc_adapter.chain_backed import connect
    from market_adapter.agent import OrderAgent
    from market_adapter.domains import DnsDomainChecker
    from market_adapter.gate import MarketConfig, OrderGate
    from market_adapter.sealing import recipient_key_from_text
    from market_adapter.waldur import WaldurClient
    from pipelines.scopes.domain import DomainConfig, DomainVerifier
    from veid.config import from_mapping, load_params, load_section
    from veid.errors import ConfigError

    cfg = load_section(params_path, "market", MarketConfig)
    scopes = load_params(params_path).get("scopes") or {}
    domain_cfg = from_mapping(DomainConfig, scopes["domain"], source=str(params_path), where="scopes.domain") if (
        isinstance(scopes, dict) and "domain" in scopes) else DomainConfig()
    if nameservers:
        domain_cfg = dataclasses.replace(domain_cfg, nameservers=nameservers, dns_port=dns_port)
    token = os.environ.get("WALDUR_TOKEN", "")
    secret = os.environ.get(domain_secret_env, "").encode()
    if not token:
        raise ConfigError("set WALDUR_TOKEN to the Waldur API token")
    if not secret:
        raise ConfigError(f"set {domain_secret_env} to the domain-token secret")
    sender = Ed25519Key.from_bytes(bytes.fromhex(sender_key_file.read_text().strip()))
    chain = connect(grpc_address, chain_home)
    gate = OrderGate(cfg, chain, chain, DnsDomainChecker(DomainVerifier(domain_cfg, secret)))
    agent = OrderAgent(cfg, WaldurClient(waldur_url or cfg.waldur_url, token, cfg.timeout_s), gate,
                       recipient_key_from_text(provider_key), sender)  # fmt: skip
    try:
        for offering in offerings or cfg.offering_uuids:
            for out in agent.run_offering(offering):
                status = "" if out.applied or out.decision.verdict.value == "pending" else f" (NOT APPLIED: {out.error})"
                click.echo(f"{out.order_uuid}  {out.decision.verdict.value:<7} {out.decision.reason}{status}")
    finally:
        chain.client.close()


@market.command()
@_params
@_chain_home
@_grpc
@click.argument("orders_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--provider", "provider_address", required=True, help="The bidding provider's chain address.")
def bid(params_path: Path, chain_home: str, grpc_address: str, orders_file: Path, provider_address: str) -> None:
    """Decide bids for the open orders in ORDERS_FILE (JSON list of {order_id, buyer_address, quantities,
    requirements, max_price}) with market.bids prices; print one line per order."""
    from hpc_adapter.chain_backed import connect
    from market_adapter.bids import BidEngine, OpenOrder
    from market_adapter.gate import MarketConfig
    from veid.config import load_section
    from veid.errors import InputError

    cfg = load_section(params_path, "market", MarketConfig)
    try:
        rows = json.loads(orders_file.read_text())
        open_orders = [OpenOrder(**row) for row in rows]
    except (ValueError, TypeError) as exc:
        raise InputError(f"{orders_file}: not a JSON list of open orders: {exc}") from exc
    chain = connect(grpc_address, chain_home)
    try:
        decisions = BidEngine(cfg.bids, provider_address, chain, chain)(open_orders)
    finally:
        chain.client.close()
    for d in decisions:
        click.echo(f"{d.order_id:<24} {'BID' if d.bid else 'no':<3} {d.price:>12.4f} {cfg.bids.currency}  {d.reason}")
