"""``veid hpc``: pay compute rewards to verified SLURM providers; generate Kubernetes node manifests."""

from __future__ import annotations

import json
from pathlib import Path

import click

from veid.config import DEFAULT_PARAMS

_params = click.option("--params", "params_path", type=click.Path(dir_okay=False, path_type=Path),
                       default=DEFAULT_PARAMS, show_default=True, help="params.yaml (sections hpc, chain).")  # fmt: skip
_chain_home = click.option("--chain-home", default="", help="Chain home of a running `veid chain start` node.")
_grpc = click.option("--grpc", "grpc_address", default="", help="Chain gRPC host:port (default: the home's node).")


@click.group()
def hpc() -> None:
    """HPC network (SLURM): compute rewards for verified providers, node manifests for Kubernetes."""


@hpc.command()
@_params
@_chain_home
@_grpc
@click.option("--payer", default="genesis", show_default=True, help="Key name in CHAIN_HOME/keys that pays.")
@click.option("--payer-mnemonic-file", default="", help="File with the paying account's mnemonic (instead of --payer).")
@click.option("--map", "mappings", multiple=True, metavar="ACCOUNT=ADDRESS",
              help="Map a SLURM account to a provider address (adds to hpc.accounts).")  # fmt: skip
@click.option("--slurm-conf", default=None, help="SLURM_CONF for sacct (default: hpc.slurm_conf).")
@click.option("--ledger", default=None, help="SQLite ledger of settled jobs (default: hpc.ledger_path).")
@click.option("--json", "as_json", is_flag=True, help="Print the cycle report as JSON.")
def rewards(params_path: Path, chain_home: str, grpc_address: str, payer: str, payer_mnemonic_file: str,
            mappings: tuple[str, ...], slurm_conf: str | None, ledger: str | None, as_json: bool) -> None:  # fmt: skip
    """Run one reward cycle: read finished jobs from sacct, pay verified providers once, print what was paid."""
    import dataclasses

    from hpc_adapter.accounting import make_reader
    from hpc_adapter.chain_backed import connect
    from hpc_adapter.ledger import RewardLedger
    from hpc_adapter.rewards import HpcConfig, RewardCycle
    from veid.config import load_section

    cfg = load_section(params_path, "hpc", HpcConfig)
    accounts = dict(cfg.accounts)
    for item in mappings:
        account, sep, address = item.partition("=")
        if not sep or not account or not address:
            raise click.BadParameter(f"expected ACCOUNT=ADDRESS, got {item!r}", param_hint="--map")
        accounts[account.lower()] = address
    cfg = dataclasses.replace(cfg, accounts=accounts, slurm_conf=cfg.slurm_conf if slurm_conf is None else slurm_conf,
                              ledger_path=ledger or cfg.ledger_path)  # fmt: skip
    chain = connect(grpc_address, chain_home, payer, payer_mnemonic_file)
    reader = make_reader(cfg.backend, cfg.sacct_format, cfg.sacct_bin, cfg.slurm_conf)
    book = RewardLedger(cfg.ledger_path)
    try:
        report = RewardCycle(cfg, reader, book, chain, chain)()
    finally:
        book.close()
        chain.client.close()
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(report), indent=2, default=str))
        return
    click.echo(f"{'provider':<48} {'amount':>14} {'jobs':>5}  tx")
    for p in report.payouts:
        click.echo(f"{p.address:<48} {p.amount:>10} {p.denom:<3} {len(p.jobs):>5}  {p.tx_hash}")
    click.echo(f"paid {report.total_paid} {cfg.denom} in {len(report.payouts)} transfer(s); "
               f"{len(report.skipped)} skipped, {len(report.waiting)} waiting, "
               f"{report.already_settled} already settled, {len(report.problems)} problem(s)")  # fmt: skip
    for cluster, job, reason in report.skipped:
        click.echo(f"  skipped {cluster}/{job}: {reason}")
    for problem in report.problems:
        click.echo(f"  problem {problem.where}: {problem.reason}")
    for row in report.in_doubt:
        click.echo(f"  IN DOUBT (interrupted transfer, reconcile by memo): {row}")


@hpc.command("node-manifests")
@_params
@_chain_home
@_grpc
@click.argument("address")
@click.option("--name", required=True, help="Node-set name (DNS-1123 label).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the manifests here as multi-document YAML (default: stdout).")  # fmt: skip
@click.option("--apply/--no-apply", default=True, show_default=True, help="Apply when a kubeconfig is present.")
def node_manifests(params_path: Path, chain_home: str, grpc_address: str, address: str, name: str,
                   out_path: Path | None, apply: bool) -> None:  # fmt: skip
    """Manifests adding verified provider ADDRESS's node to the SLURM cluster on Kubernetes."""
    import yaml

    from hpc_adapter.chain_backed import connect
    from hpc_adapter.k8s import ProviderNode, apply_manifests, build_manifests, check_provider, kubeconfig_path
    from hpc_adapter.k8s import validate_manifests
    from hpc_adapter.rewards import HpcConfig
    from veid.config import load_section
    from veid.errors import AdapterError

    cfg = load_section(params_path, "hpc", HpcConfig)
    chain = connect(grpc_address, chain_home)
    try:
        check_provider(address, chain, chain, cfg.min_score)
    finally:
        chain.client.close()
    objects = build_manifests(ProviderNode(address, name), cfg.kubernetes)
    problems = validate_manifests(objects)
    if problems:
        raise AdapterError("generated manifests are invalid: " + "; ".join(problems))
    text = yaml.safe_dump_all(objects, sort_keys=False)
    if out_path:
        out_path.write_text(text)
        click.echo(f"wrote {len(objects)} manifest(s) to {out_path}")
    else:
        click.echo(text)
    kubeconfig = kubeconfig_path()
    if apply and kubeconfig is not None:
        for line in apply_manifests(objects, kubeconfig):
            click.echo(line)
    elif apply:
        click.echo("no kubeconfig found ($KUBECONFIG or ~/.kube/config): not applied", err=True)
