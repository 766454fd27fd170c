"""A PostgreSQL cluster of the test's own, made with initdb in a temporary folder, which a
test may stop and start at will (the shared server the suite runs on is never touched).

initdb and the server refuse to run as root: as root, they run as the `postgres` account
(runuser), which owns the cluster's folder."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

#: Where Debian's packages put the server programs, one folder per major version.
BINARY_GLOB = "/usr/lib/postgresql/*/bin"


def find_binaries() -> Path | None:
    """The folder of the newest initdb and pg_ctl on this machine, if any."""
    folders = [Path(p) for p in glob.glob(BINARY_GLOB)]
    on_path = shutil.which("pg_ctl")
    if on_path:
        folders.append(Path(on_path).parent)
    found = [f for f in folders if (f / "initdb").exists() and (f / "pg_ctl").exists()]

    def version(folder: Path) -> float:
        try:
            return float(folder.parent.name)
        except ValueError:
            return 0.0

    return max(found, key=version) if found else None


class PrivateCluster:
    """initdb, start, stop and remove one throw-away cluster on 127.0.0.1:`port`."""

    def __init__(self, binaries: Path, port: int) -> None:
        self.binaries, self.port = binaries, port
        self.runs_as: list[str] = []
        owner = None
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")  # KeyError: no account to run the server as
            self.runs_as = ["runuser", "-u", "postgres", "--"]
        self.folder = Path(tempfile.mkdtemp(prefix="collective-pg-"))
        if owner is not None:
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        self.data = self.folder / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [*self.runs_as, str(self.binaries / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} {' '.join(args)} failed ({done.returncode}):\n"
                               f"{done.stdout}{done.stderr}{tail}")

    def create(self) -> None:
        """initdb: trust on 127.0.0.1 only, no fsync (a test's data need not survive)."""
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync", "--no-instructions")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"),
                  "-o", options, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (fast: cut the sessions, roll back what they had begun)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def remove(self) -> None:
        """Stop the server if it runs, and delete the cluster."""
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except RuntimeError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)
