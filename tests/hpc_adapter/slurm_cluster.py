"""Start and stop a real single-node SLURM 22.05 cluster (munge, MariaDB, slurmdbd, slurmctld, slurmd) in a temp dir.

Everything runs as root in the foreground as children of the test process, bound to
127.0.0.1 on free ports, with every path (sockets, spool, logs, database) under ``root``,
so nothing touches /etc or /run and parallel runs do not collide. Needs the Debian
packages listed in the Makefile's APT_PACKAGES (munge, slurmctld, slurmd, slurmdbd,
slurm-client, slurm-wlm-mysql-plugin, mariadb-server).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path
from string import Template

TEMPLATES = Path(__file__).resolve().parents[2] / "hpc_adapter" / "slurm"
REQUIRED = ("munged", "mariadb-install-db", "mariadbd", "mariadb", "slurmdbd", "slurmctld", "slurmd", "sacct", "sacctmgr", "sbatch")


class ClusterError(RuntimeError):
    """The test cluster could not be started (message includes the relevant log tail)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class SlurmCluster:
    """A throwaway SLURM cluster; use as a context manager or call :meth:`start` / :meth:`stop`.

    Args:
        root: empty working directory.
        cluster: ClusterName.
        cpus: CPUs of the single node.
        cpu_weight: TRESBillingWeights CPU weight (billing units per allocated CPU).
    """

    def __init__(self, root: Path, cluster: str = "veidtest", cpus: int = 2, cpu_weight: float = 1.0) -> None:
        self.root = Path(root)
        self.cluster = cluster
        self.host = socket.gethostname().split(".")[0]
        self.addr = "127.0.0.1"
        self.cpus = cpus
        self.cpu_weight = cpu_weight
        self._procs: list[tuple[str, subprocess.Popen]] = []
        self.slurm_conf = self.root / "etc" / "slurm.conf"

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> SlurmCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def env(self) -> dict[str, str]:
        """Environment for SLURM client commands (SLURM_CONF points at this cluster)."""
        return {**os.environ, "SLURM_CONF": str(self.slurm_conf), "TZ": "UTC"}

    def start(self, timeout_s: float = 60.0) -> None:
        """Start every daemon and wait until the node is idle.

        Raises:
            ClusterError: a binary is missing, not root, or a daemon did not come up.
        """
        missing = [b for b in REQUIRED if shutil.which(b) is None]
        if missing:
            raise ClusterError(f"missing SLURM/MariaDB binaries {missing}: run `make system-deps`")
        if os.geteuid() != 0:
            raise ClusterError("the test cluster runs its daemons as root")
        for sub in ("etc", "munge", "run", "log", "db", "spool/ctld", "spool/d"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        try:
            self._start_munge()
            self._start_mariadb()
            self._render_configs()
            self._start("slurmdbd", ["slurmdbd", "-D"])
            self._wait(lambda: self._ok(["sacctmgr", "-n", "list", "cluster"]), timeout_s, "slurmdbd", "slurmdbd.log")
            self.sacctmgr("add", "cluster", self.cluster)
            self._start("slurmctld", ["slurmctld", "-D", "-i"])
            self._start("slurmd", ["slurmd", "-D", "-N", self.host])
            self._wait(self._node_idle, timeout_s, "slurmctld/slurmd", "slurmctld.log")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Cancel jobs, terminate the daemons this object started (reverse order), kill stragglers and job steps."""
        if any(name == "slurmctld" and p.poll() is None for name, p in self._procs):
            subprocess.run(["scancel", "--full", "--user=root"], capture_output=True, env=self.env, timeout=30)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and self._squeue_busy():
                time.sleep(0.2)
        for name, proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15
        for name, proc in reversed(self._procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self._procs.clear()
        self._kill_orphan_steps()

    def _squeue_busy(self) -> bool:
        done = subprocess.run(["squeue", "-h"], capture_output=True, text=True, env=self.env, timeout=30)
        return done.returncode == 0 and bool(done.stdout.strip())

    def _kill_orphan_steps(self) -> None:
        """slurmstepd daemonizes away from slurmd; kill only those working inside this cluster's directory."""
        for proc_dir in Path("/proc").iterdir():
            if not proc_dir.name.isdigit():
                continue
            try:
                comm = (proc_dir / "comm").read_text().strip()
                cwd = os.readlink(proc_dir / "cwd")
            except OSError:
                continue
            if comm == "slurmstepd" and cwd.startswith(str(self.root)):
                try:
                    os.kill(int(proc_dir.name), 9)
                except ProcessLookupError:
                    pass

    # -- client helpers ------------------------------------------------------------------
    def sacctmgr(self, *args: str) -> str:
        """Run ``sacctmgr -i ARGS`` against this cluster and return stdout."""
        return self._run(["sacctmgr", "-i", *args])

    def add_accounts(self, *names: str, user: str = "root") -> None:
        """Create accounts (SLURM lowercases them) and associate ``user`` with each."""
        self.sacctmgr("add", "account", ",".join(names), f"cluster={self.cluster}")
        self.sacctmgr("add", "user", user, "account=" + ",".join(n.lower() for n in names), f"cluster={self.cluster}")

    def submit(self, account: str, command: str, ntasks: int = 1) -> str:
        """``sbatch --account=ACCOUNT -n NTASKS --wrap=COMMAND``; returns the job id."""
        out = self._run(
            ["sbatch", "--parsable", f"--account={account}", "-n", str(ntasks), "-o", "/dev/null", f"--wrap={command}"]
        )
        return out.strip().split(";")[0]

    def wait_in_accounting(self, job_ids: list[str], timeout_s: float = 60.0) -> None:
        """Wait until sacct reports every job in a final state (accounting lags the scheduler)."""
        want = set(job_ids)

        def done() -> bool:
            out = self._run(["sacct", "-a", "-X", "-n", "-P", "--format=JobID,State", "-S", "now-3600"])
            final = {
                line.split("|")[0]
                for line in out.splitlines()
                if line and line.split("|")[1].split()[0] not in ("PENDING", "RUNNING", "REQUEUED", "SUSPENDED")
            }
            return want <= final

        self._wait(done, timeout_s, "accounting", "slurmdbd.log")

    # -- internals -----------------------------------------------------------------------
    def _run(self, argv: list[str]) -> str:
        done = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=60)
        if done.returncode != 0:
            raise ClusterError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def _ok(self, argv: list[str]) -> bool:
        return subprocess.run(argv, capture_output=True, env=self.env, timeout=30).returncode == 0

    def _node_idle(self) -> bool:
        done = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=self.env, timeout=30)
        return done.returncode == 0 and "idle" in done.stdout

    def _start(self, name: str, argv: list[str]) -> subprocess.Popen:
        out = open(self.root / "log" / f"{name}.out", "wb")  # noqa: SIM115 (kept open for the child)
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=self.root)
        out.close()
        self._procs.append((name, proc))
        return proc

    def _wait(self, ready, timeout_s: float, what: str, log_name: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if ready():
                return
            dead = [(n, p.returncode) for n, p in self._procs if p.poll() is not None]
            if dead:
                name = dead[0][0]
                raise ClusterError(f"{name} exited ({dead[0][1]}):\n{_tail(self.root / 'log' / (name + '.out'))}")
            time.sleep(0.2)
        raise ClusterError(f"{what} not ready after {timeout_s:.0f} s:\n{_tail(self.root / 'log' / log_name)}")

    def _start_munge(self) -> None:
        key = self.root / "munge" / "munge.key"
        key.write_bytes(secrets.token_bytes(1024))
        key.chmod(0o400)
        (self.root / "munge").chmod(0o700)
        self.munge_socket = self.root / "run" / "munge.sock"
        self._start(
            "munged",
            [
                "munged", "-F", "--force", f"--socket={self.munge_socket}", f"--key-file={key}",
                f"--pid-file={self.root / 'run' / 'munged.pid'}", f"--log-file={self.root / 'log' / 'munged.log'}",
                f"--seed-file={self.root / 'munge' / 'munged.seed'}",
            ],
        )
        self._wait(self.munge_socket.exists, 20, "munged", "munged.log")

    def _start_mariadb(self) -> None:
        db = self.root / "db"
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={db}", "--user=root",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True, capture_output=True, timeout=120,
        )
        self.db_socket = self.root / "run" / "mysql.sock"
        self.db_port = _free_port()
        self._start(
            "mariadbd",
            [
                "mariadbd", "--no-defaults", f"--datadir={db}", f"--socket={self.db_socket}", f"--port={self.db_port}",
                "--bind-address=127.0.0.1", "--user=root", f"--pid-file={self.root / 'run' / 'mysql.pid'}",
                f"--log-error={self.root / 'log' / 'mariadb.err'}", "--skip-name-resolve",
                "--innodb-buffer-pool-size=64M", "--innodb-lock-wait-timeout=900",
            ],
        )
        client = ["mariadb", f"--socket={self.db_socket}", "-uroot"]
        self._wait(lambda: self._ok([*client, "-e", "select 1"]), 60, "mariadbd", "mariadb.err")
        self.db_password = secrets.token_hex(12)
        sql = (
            f"CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '{self.db_password}';"
            "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
        )
        subprocess.run([*client, "-e", sql], check=True, capture_output=True, timeout=30)

    def _render_configs(self) -> None:
        values = {
            "cluster": self.cluster, "host": self.host, "addr": self.addr, "root": str(self.root),
            "munge_socket": str(self.munge_socket), "ctld_port": _free_port(), "slurmd_port": _free_port(),
            "dbd_port": _free_port(), "db_port": self.db_port, "db_password": self.db_password,
            "cpus": self.cpus, "cpu_weight": self.cpu_weight,
        }
        for name in ("slurm.conf", "slurmdbd.conf"):
            text = Template((TEMPLATES / f"{name}.tmpl").read_text()).substitute(values)
            target = self.root / "etc" / name
            target.write_text(text)
            target.chmod(0o600)
