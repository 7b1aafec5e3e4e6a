"""Finished SLURM jobs from accounting: ``sacct --json`` or ``--parsable2`` (Slurm 22.05+), optional pyslurm (25.11).

Every reader returns :class:`AccountingBatch`: the records it could parse plus one
:class:`Problem` per record it could not, so a malformed row never hides the others.
"""

from __future__ import annotations

import enum
import json
import os
import subprocess
from collections.abc import Iterable
from datetime import datetime, timezone
from dataclasses import dataclass
from typing import Any, Protocol

from veid.errors import AdapterError

#: Job states after which a job never changes again (sacct's base state names).
FINAL_STATES = frozenset(
    {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE"}
)

#: ``--format`` fields for the parsable2 backend, in this order.
PARSABLE_FIELDS = ("Cluster", "JobID", "Account", "State", "ElapsedRaw", "AllocTRES", "End")


class SacctFormat(enum.Enum):
    """How :class:`SacctReader` asks sacct for records."""

    JSON = "json"
    PARSABLE2 = "parsable2"


@dataclass(frozen=True)
class JobRecord:
    """One job allocation as accounting reports it.

    Attributes:
        cluster: SLURM cluster name.
        job_id: job id as sacct prints it (``"42"``, ``"42_7"`` for array tasks).
        account: SLURM account, lowercased (SLURM stores accounts lowercased).
        state: base state name (``"COMPLETED"``, ``"FAILED"``, ``"RUNNING"``...).
        elapsed_s: wall-clock run time, seconds.
        billing: the allocation's ``billing`` TRES count (billing units).
        end_time: end as a Unix timestamp in seconds, or ``None`` while the job has not ended.
    """

    cluster: str
    job_id: str
    account: str
    state: str
    elapsed_s: int
    billing: int
    end_time: int | None

    @property
    def is_final(self) -> bool:
        """True once the job has reached a state it never leaves."""
        return self.state in FINAL_STATES


@dataclass(frozen=True)
class Problem:
    """A record that could not be used, and why (reported, never fatal)."""

    where: str
    reason: str


@dataclass(frozen=True)
class AccountingBatch:
    """The result of one accounting read."""

    records: tuple[JobRecord, ...]
    problems: tuple[Problem, ...]


class AccountingReader(Protocol):
    """Anything that returns the jobs of the last ``lookback_s`` seconds."""

    def read(self, lookback_s: int) -> AccountingBatch:
        """Jobs that ran within the last ``lookback_s`` seconds.

        Raises:
            AdapterError: accounting could not be queried at all.
        """


def _base_state(raw: Any) -> str:
    if isinstance(raw, list):  # Slurm 23.02+: state.current is a list of flags
        if not raw:
            raise ValueError("empty state list")
        raw = raw[0]
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"bad state {raw!r}")
    return raw.split()[0].rstrip("+").upper()  # "CANCELLED by 0" -> "CANCELLED"


def _nonneg_int(raw: Any, name: str) -> int:
    if isinstance(raw, dict):  # Slurm 23.02+: {"set": true, "number": N}
        raw = raw.get("number") if raw.get("set", True) else None
    if isinstance(raw, bool) or raw is None:
        raise ValueError(f"{name} missing")
    value = int(raw)
    if value < 0:
        raise ValueError(f"{name} negative ({value})")
    return value


def _job_from_json(job: dict[str, Any]) -> JobRecord:
    tres = job["tres"]["allocated"]
    billing = next((t.get("count") for t in tres if t.get("type") == "billing"), None)
    state = _base_state(job["state"]["current"])
    end = job["time"].get("end")
    end_time = _nonneg_int(end, "end") if end not in (None, 0) else None
    array = job.get("array") or {}
    task = array.get("task_id")
    if isinstance(task, dict):
        task = task.get("number") if task.get("set") else None
    job_id = f"{array['job_id']}_{task}" if task is not None and array.get("job_id") else str(job["job_id"])
    account = job.get("account")
    if not isinstance(account, str) or not account:
        raise ValueError("account missing")
    return JobRecord(
        cluster=str(job["cluster"]),
        job_id=job_id,
        account=account.lower(),
        state=state,
        elapsed_s=_nonneg_int(job["time"]["elapsed"], "elapsed"),
        billing=_nonneg_int(billing, "billing") if billing is not None else 0,
        end_time=end_time,
    )


def parse_sacct_json(text: str) -> AccountingBatch:
    """Parse ``sacct --json`` output (openapi dbv0.0.38 in 22.05; newer shapes tolerated).

    Raises:
        AdapterError: the document itself is not JSON or has no ``jobs`` list.
    """
    try:
        doc = json.loads(text)
        jobs = doc["jobs"]
        if not isinstance(jobs, list):
            raise TypeError("jobs is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise AdapterError(f"sacct --json output is not an accounting document: {exc}") from exc
    records, problems = [], []
    for index, job in enumerate(jobs):
        where = f"jobs[{index}]" + (f" job {job.get('job_id')}" if isinstance(job, dict) else "")
        try:
            records.append(_job_from_json(job))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            problems.append(Problem(where, f"malformed record: {type(exc).__name__}: {exc}"))
    return AccountingBatch(tuple(records), tuple(problems))


def _parse_tres(text: str) -> dict[str, str]:
    out = {}
    for part in filter(None, text.split(",")):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"bad TRES item {part!r}")
        out[key] = value
    return out


def parse_sacct_parsable(lines: Iterable[str]) -> AccountingBatch:
    """Parse ``sacct --parsable2 --noheader --format=`` :data:`PARSABLE_FIELDS` output lines (times printed in UTC)."""
    records, problems = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        cols = line.rstrip("\n").split("|")
        try:
            if len(cols) != len(PARSABLE_FIELDS):
                raise ValueError(f"{len(cols)} columns, expected {len(PARSABLE_FIELDS)}")
            cluster, job_id, account, state, elapsed, alloc_tres, end = cols
            if not account or not job_id:
                raise ValueError("empty account or job id")
            tres = _parse_tres(alloc_tres)
            end_time = None
            if end not in ("", "Unknown", "None"):
                # SacctReader runs sacct with TZ=UTC, so the naive timestamp is UTC.
                end_time = int(datetime.fromisoformat(end).replace(tzinfo=timezone.utc).timestamp())
            records.append(
                JobRecord(
                    cluster=cluster,
                    job_id=job_id,
                    account=account.lower(),
                    state=_base_state(state),
                    elapsed_s=_nonneg_int(elapsed, "ElapsedRaw"),
                    billing=_nonneg_int(tres["billing"], "billing") if "billing" in tres else 0,
                    end_time=end_time,
                )
            )
        except (ValueError, KeyError) as exc:
            problems.append(Problem(f"line {number}", f"malformed record: {exc}"))
    return AccountingBatch(tuple(records), tuple(problems))


class SacctReader:
    """Reads allocations (``-X``) of all users (``-a``) through the ``sacct`` command.

    Args:
        fmt: :class:`SacctFormat` to request.
        sacct_bin: the sacct executable.
        slurm_conf: ``SLURM_CONF`` for the subprocess (``""``: inherit the environment).
        timeout_s: subprocess timeout, seconds.
    """

    def __init__(
        self, fmt: SacctFormat = SacctFormat.JSON, sacct_bin: str = "sacct", slurm_conf: str = "", timeout_s: float = 60.0
    ) -> None:
        self.fmt = fmt
        self.sacct_bin = sacct_bin
        self.slurm_conf = slurm_conf
        self.timeout_s = timeout_s

    def command(self, lookback_s: int) -> list[str]:
        """The sacct argv for a window of ``lookback_s`` seconds ending now."""
        cmd = [self.sacct_bin, "-a", "-X", "-S", f"now-{int(lookback_s)}", "-E", "now"]
        if self.fmt is SacctFormat.JSON:
            return cmd + ["--json"]
        return cmd + ["--parsable2", "--noheader", "--format=" + ",".join(PARSABLE_FIELDS)]

    def read(self, lookback_s: int) -> AccountingBatch:
        env = dict(os.environ)
        if self.slurm_conf:
            env["SLURM_CONF"] = self.slurm_conf
        env["TZ"] = "UTC"  # parsable2 times are printed in local time; make that UTC
        cmd = self.command(lookback_s)
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=self.timeout_s, check=True)
        except FileNotFoundError as exc:
            raise AdapterError(f"sacct not found ({self.sacct_bin}); install slurm-client") from exc
        except subprocess.TimeoutExpired as exc:
            raise AdapterError(f"sacct did not answer within {self.timeout_s:.0f} s") from exc
        except subprocess.CalledProcessError as exc:
            raise AdapterError(f"sacct failed (exit {exc.returncode}): {exc.stderr.strip()[:300]}") from exc
        if self.fmt is SacctFormat.JSON:
            return parse_sacct_json(done.stdout)
        return parse_sacct_parsable(done.stdout.splitlines())


class PyslurmReader:
    """Optional backend for Slurm 25.11 sites through ``pyslurm.db`` (not installed by default).

    Not run against a real slurmdbd here: pyslurm 25.11 needs libslurm 25.11 and the test
    cluster is Debian's 22.05; its mapping is tested with a stand-in module exposing
    pyslurm's ``db.Job`` attributes (``id``, ``cluster``, ``account``, ``state``,
    ``elapsed_time``, ``end_time``, ``array_id``, ``array_task_id``, ``cpus``). pyslurm's
    ``db.Job`` has no billing TRES accessor, so ``billing`` is the allocated CPU count: exact
    when the partition has no ``TRESBillingWeights`` (SLURM's default billing), otherwise
    use the sacct backends.

    Raises:
        AdapterError: pyslurm is not importable.
    """

    def __init__(self) -> None:
        try:
            import pyslurm  # noqa: PLC0415  (optional dependency)
        except ImportError as exc:
            raise AdapterError("the pyslurm backend needs pyslurm matching the site's Slurm (25.11)") from exc
        self._pyslurm = pyslurm

    def read(self, lookback_s: int) -> AccountingBatch:
        import time

        db = self._pyslurm.db
        try:
            jobs = db.Jobs.load(db.JobFilter(start_time=int(time.time()) - int(lookback_s), clusters="all"))
        except Exception as exc:  # noqa: BLE001 - pyslurm raises RPCError and plain errors alike
            raise AdapterError(f"pyslurm accounting query failed: {exc}") from exc
        records, problems = [], []
        for index, job in enumerate(jobs.values() if isinstance(jobs, dict) else jobs):
            try:
                task = getattr(job, "array_task_id", None)
                job_id = f"{job.array_id}_{task}" if task is not None and getattr(job, "array_id", None) else str(job.id)
                billing = getattr(job, "billing", None)
                records.append(
                    JobRecord(
                        cluster=str(job.cluster),
                        job_id=job_id,
                        account=str(job.account).lower(),
                        state=_base_state(job.state),
                        elapsed_s=_nonneg_int(job.elapsed_time, "elapsed_time"),
                        billing=_nonneg_int(billing if billing is not None else job.cpus, "billing"),
                        end_time=int(job.end_time) if job.end_time else None,
                    )
                )
            except (AttributeError, ValueError, TypeError) as exc:
                problems.append(Problem(f"job[{index}] {getattr(job, 'id', '?')}", f"malformed record: {exc}"))
        return AccountingBatch(tuple(records), tuple(problems))


def make_reader(backend: str, fmt: str, sacct_bin: str = "sacct", slurm_conf: str = "") -> AccountingReader:
    """The accounting reader named by config: ``"sacct"`` (with ``fmt``) or ``"pyslurm"``.

    Raises:
        AdapterError: pyslurm requested but not importable.
    """
    if backend == "pyslurm":
        return PyslurmReader()
    return SacctReader(SacctFormat(fmt), sacct_bin, slurm_conf)
