"""The ``veid`` command line: one lazy group whose subcommands live beside the code they drive.

Each subcommand is a click command in its own package (``training/synth_cli.py`` for
``veid synth`` and so on) and is imported only when it runs, so ``veid --help`` stays fast
and never loads TensorFlow or a model.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from veid import __version__
from veid.errors import VeidError

#: name -> (module:attribute, one-line help shown by ``veid --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("training.synth_cli:synth", "Generate synthetic identities (documents, selfies, scopes) with ground truth."),
    "document": ("pipelines.document_cli:document", "Read and verify an identity document photo."),
    "face": ("pipelines.face_cli:face", "Compare two face photos (distance, match, quality checks)."),
    "capture": ("pipelines.capture_cli:capture", "Build a signed capture upload from image files, as a client app would."),
    "score": ("pipelines.score_cli:score", "Score a feature file: identity score 0-100, tier and reasons."),
    "verify": ("serving.verify_cli:verify", "Verify a document and a selfie locally, without a chain."),
    "vc": ("attest.vc_cli:vc", "Issue and verify W3C Verifiable Credentials (eddsa-jcs-2022)."),
    "keys": ("attest.keys_cli:keys", "Create and inspect keys in an encrypted keystore."),
    "chain": ("chain_client.cli:chain", "Run and query the embedded local chain."),
    "models": ("models.cli:models", "List, verify and export the registered models."),
    "serve": ("serving.serve_cli:serve", "Start the BentoML verification server."),
    "validator": ("serving.validator_cli:validator", "Run the validator daemon against a chain."),
    "demo": ("serving.demo_cli:demo", "Run VEID end to end on a local chain with three validators."),
    "models-export": ("serving.models_export:models_export", "Copy registered models from MLflow into the BentoML model store."),
    "hpc": ("hpc_adapter.cli:hpc", "HPC network (SLURM): compute rewards for verified providers."),
    "market": ("market_adapter.cli:market", "Marketplace (Waldur): order gating and provider bids."),
}


def _available(target: str) -> bool:
    module = target.split(":")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class LazyGroup(click.Group):
    """A click group that imports each subcommand's module only when it is invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, (target, _) in COMMANDS.items() if _available(target))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS or not _available(COMMANDS[name][0]):
            return None
        module_name, attr = COMMANDS[name][0].split(":")
        module = importlib.import_module(module_name)
        return getattr(module, attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List subcommands from the registry, without importing their modules."""
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="veid")
def cli() -> None:
    """VEID: open identity verification.

    Reads identity documents and selfies, scores identities from 0 to 100 with reasons,
    and signs the result as an attestation on a Cosmos SDK chain. Run
    `veid COMMAND --help` for each command's options.
    """


def main() -> None:
    """Console entry point: turns VEID errors into a one-line message and exit status 2."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except VeidError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
