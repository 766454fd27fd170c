"""Web under load (issue 13, Web target 5): every page of each role, served by gunicorn with
two workers on PostgreSQL, measured sequentially and with concurrent clients.

Set-up: the database at BENCH_DATABASE_URL (PostgreSQL; it is EMPTIED) gets the migrations
and the dataset (`build_dataset`): `flask demo --scale BENCH_SCALE` (10,000 members and about
a million postings by default), or with BENCH_SCALE=0 the regular demo plus
BENCH_EXTRA_MEMBERS members added in bulk (a quick look). gunicorn serves it on
127.0.0.1:BENCH_PORT with two sync workers, in production settings, with the sign-in limits
raised so the bench's own sign-ins never meet them (every other limit stays as it is), the
limits counted in Redis as a deployment counts them (BENCH_RATELIMIT_STORAGE_URI, by default
the machine's Redis, database 15).

Each role signs in through the real login form (the CSRF token read from the page), then each
of its pages is requested in a loop for BENCH_SECONDS by one client (sequential), and again
by BENCH_CLIENTS clients at once (concurrent). /health, a database ping, is measured the same
way as the baseline: each page's p95 is shown as a multiple of /health's. Any answer but 200
is an error. At the end, the workers' peak and current resident memory (VmHWM, VmRSS).

Targets: sequential p95 < 100 ms on every page; concurrent p95 < 300 ms and no errors;
worker RSS < 300 MB. The client runs on the same machine, so its own work is in the figures.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/wt_load \\
        .venv/bin/python bench/load.py

BENCH_REUSE=1 measures the dataset an earlier run (or `flask demo --scale`) left in the
database; BENCH_PAGES=REGEX measures only the pages whose path it finds.

Without BENCH_DATABASE_URL (as `make bench` runs on SQLite) it says so and exits 0.
"""
from __future__ import annotations

import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("COLLECTIVE_ENV", "testing")  # this process: set-up only

from bench.webclient import Browser  # noqa: E402

PORT = int(os.environ.get("BENCH_PORT", "5107"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
EXTRA_MEMBERS = int(os.environ.get("BENCH_EXTRA_MEMBERS", "2000"))
#: Members of the `demo --scale` collective measured; 0 for the regular demo.
SCALE = int(os.environ.get("BENCH_SCALE", "10000"))
#: A regular expression: only the pages it finds are measured (BENCH_PAGES=balance).
ONLY = os.environ.get("BENCH_PAGES", "")
#: The collective measured: the scale collective, or the regular demo.
SLUG = f"scale-{SCALE}" if SCALE else "demo"
WORKERS = 2
SEQUENTIAL_P95_MS, CONCURRENT_P95_MS, RSS_MB = 100, 300, 300

PASSWORD = "demo-password"
#: Who signs in for each role (the demo's logins, shared/DEMO.md).
DEMO_ROLES = {"member": "priya@demo.coop", "coordinator": "maria@demo.coop",
              "treasurer": "anjali@demo.coop"}


def roles() -> dict[str, str]:
    """Who signs in for each role: the scale collective's known logins, or the demo's."""
    if not SCALE:
        return DEMO_ROLES
    from collective.demo.scale import LOGINS
    return {role: email for role, (email, _) in LOGINS.items()}



#: Each role's pages under /c/<SLUG>/. {pitch}, {payment}, {invoice}, {claim}, {entry},
#: {account}, {proposal} and {last} (last month) are filled from the dataset.
PAGES = {
    "member": [
        "dashboard", "pool/", "pool/my-work", "pool/shares", "members", "proposals",
        "fund/", "fund/claims/new", "books/expenses/", "notifications",
        "reports/statement",
    ],
    "coordinator": [
        "dashboard", "pool/", "pool/pitches/{pitch}", "pool/payments",
        "pool/payments/{payment}", "pool/clients", "pool/rules", "members",
        "proposals/{proposal}", "books/invoices/", "books/invoices/{invoice}",
    ],
    "treasurer": [
        "dashboard", "fund/treasurer", "fund/claims", "fund/claims/{claim}", "fund/plan",
        "pool/payouts", "pool/shares/all", "ledger/", "ledger/entries/{entry}",
        "ledger/trial-balance", "ledger/periods", "ledger/check", "reports/",
        "reports/balance-sheet", "books/invoices/", "books/invoices/aging",
        "books/expenses/queue", "bank/", "bank/accounts/{account}/lines?month={last}",
        "bank/accounts/{account}/reconciliation",
    ],
}


def build_dataset(url: str) -> str:
    """Empty the database, migrate it and load the dataset; returns what was loaded:
    `flask demo --scale SCALE`, or (SCALE 0) `flask demo` and EXTRA_MEMBERS members added in
    bulk to it."""
    import sqlalchemy as sa

    from bench.conftest_reset import reset

    engine = sa.create_engine(url)
    reset(engine)
    engine.dispose()
    env = {**os.environ, "COLLECTIVE_ENV": "development", "DATABASE_URL": url}
    flask = [sys.executable, "-m", "flask", "--app", "collective"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    if SCALE:
        subprocess.run([*flask, "demo", "--scale", str(SCALE)], env=env, cwd=ROOT, check=True)
        return f"`flask demo --scale {SCALE}`"
    subprocess.run([*flask, "demo"], env=env, cwd=ROOT, check=True, capture_output=True)
    add_demo_members(url, EXTRA_MEMBERS)
    return f"the regular demo + {EXTRA_MEMBERS:,} members added in bulk"


def add_demo_members(url: str, count: int) -> None:
    """Add `count` active members to the demo collective, in a few statements."""
    if count <= 0:
        return
    import sqlalchemy as sa

    from bench.bulk import add_members
    from collective import create_app
    from collective.extensions import db
    from collective.members.models import Collective, Membership, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        founder = db.session.scalar(
            sa.select(Membership).join(Collective).join(User, Membership.user_id == User.id)
            .where(Collective.slug == "demo", User.email == DEMO_ROLES["treasurer"]))
        add_members(founder, count)
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))  # statistics for the members just added
        db.session.commit()
        db.engine.dispose()


def page_ids(url: str) -> dict[str, object]:
    """The ids the page paths name, read from the collective measured (None where it has
    no such row: those pages are left out)."""
    from datetime import date

    import sqlalchemy as sa

    one = {
        "pitch": "SELECT p.id FROM pitches p JOIN collectives c ON c.id = p.collective_id "
                 "WHERE c.slug = :slug ORDER BY p.id",
        "payment": "SELECT p.id FROM client_payments p JOIN collectives c ON "
                   "c.id = p.collective_id WHERE c.slug = :slug ORDER BY p.id",
        "invoice": "SELECT i.id FROM invoices i JOIN collectives c ON c.id = i.collective_id "
                   "WHERE c.slug = :slug AND i.number IS NOT NULL ORDER BY i.id",
        "claim": "SELECT b.id FROM claims b JOIN collectives c ON c.id = b.collective_id "
                 "WHERE c.slug = :slug ORDER BY b.id",
        "entry": "SELECT e.id FROM journal_entries e JOIN collectives c ON "
                 "c.id = e.collective_id WHERE c.slug = :slug ORDER BY e.id DESC",
        "account": "SELECT a.id FROM bank_accounts a JOIN collectives c ON "
                   "c.id = a.collective_id WHERE c.slug = :slug ORDER BY a.id",
        "proposal": "SELECT p.id FROM proposals p JOIN collectives c ON "
                    "c.id = p.collective_id WHERE c.slug = :slug ORDER BY p.id DESC",
    }
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        ids = {name: conn.execute(sa.text(sql), {"slug": SLUG}).scalars().first()
               for name, sql in one.items()}
    engine.dispose()
    today = date.today()
    last = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    ids["last"] = f"{last:%Y-%m}"
    return ids


def start_server(url: str) -> subprocess.Popen:
    """gunicorn, two sync workers, production settings, the sign-in limits raised."""
    from collective.config import RATE_LIMITS

    limits = {**RATE_LIMITS, "login_per_account": "100000 per minute",
              "login_per_ip": "100000 per minute"}
    env = {**os.environ, "COLLECTIVE_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
           "RATELIMIT_STORAGE_URI": os.environ.get("BENCH_RATELIMIT_STORAGE_URI",
                                                   "redis://127.0.0.1:6379/15"),
           "COLLECTIVE_INSECURE_COOKIES": "1", "DATABASE_URL": url}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{PORT}",
         "--workers", str(WORKERS), "--no-control-socket",
         f"collective:create_app({{'RATE_LIMITS': {limits!r}}})"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    probe = Browser(PORT, timeout=5)
    deadline = time.monotonic() + 60
    while probe.get("/health").status != 200:
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("gunicorn did not start (is the port free?)")
        time.sleep(0.2)  # waiting for the server to boot
    probe.close()
    return process


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's worker processes."""
    return [int(pid) for pid in
            Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def memory_mb(pid: int) -> tuple[float, float]:
    """A process's peak and current resident memory (VmHWM, VmRSS), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = {key: int(re.search(rf"^{key}:\s+(\d+) kB", status, re.M).group(1)) / 1024
             for key in ("VmHWM", "VmRSS")}
    return found["VmHWM"], found["VmRSS"]


@dataclass
class Figures:
    """One phase of one page: every request's time, and the answers that were not 200."""

    seconds: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    wall: float = 0.0

    def add(self, status: int, seconds: float) -> None:
        self.seconds.append(seconds)
        if status != 200:
            self.errors[status] = self.errors.get(status, 0) + 1

    def percentile(self, p: int) -> float:
        """The p-th percentile, in ms."""
        if len(self.seconds) < 2:
            return self.seconds[0] * 1000 if self.seconds else float("nan")
        return statistics.quantiles(self.seconds, n=100, method="inclusive")[p - 1] * 1000

    @property
    def rps(self) -> float:
        return len(self.seconds) / self.wall if self.wall else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def hammer(browsers: list[Browser], path: str, seconds: float) -> Figures:
    """Each browser requests `path` in a loop, all at once, for `seconds`."""
    figures = Figures()
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def loop(browser: Browser) -> None:
        while time.perf_counter() < stop_at:
            reply = browser.get(path)
            with lock:
                figures.add(reply.status, reply.seconds)

    started = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    figures.wall = time.perf_counter() - started
    return figures


def signed_in(email: str, count: int) -> list[Browser]:
    """`count` visitors signed in as `email`, each through the login form."""
    browsers = [Browser(PORT) for _ in range(count)]
    for browser in browsers:
        browser.login(email, PASSWORD)
    return browsers


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print("bench/load.py needs BENCH_DATABASE_URL=postgresql+psycopg://... (a database it "
              "may empty); skipped")
        return
    if os.environ.get("BENCH_REUSE"):
        dataset = f"`flask demo --scale {SCALE}` built earlier (BENCH_REUSE)"
    else:
        print(f"building the dataset in {url.rsplit('/', 1)[-1]} ...", flush=True)
        built = time.perf_counter()
        dataset = build_dataset(url)
        print(f"dataset: {dataset} ({time.perf_counter() - built:.0f} s)")
    ids = page_ids(url)
    server = start_server(url)
    try:
        run(ids, server, dataset)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def run(ids: dict[str, object], server: subprocess.Popen, dataset: str) -> None:
    """Measure /health and every page, print the table and the workers' memory."""
    health_browsers = [Browser(PORT) for _ in range(CLIENTS)]
    health = (hammer(health_browsers[:1], "/health", SECONDS),
              hammer(health_browsers, "/health", SECONDS))
    rows = []
    for role, email in roles().items():
        browsers = signed_in(email, CLIENTS)
        for page in PAGES[role]:
            if ONLY and not re.search(ONLY, page):
                continue
            if any(ids.get(name) is None for name in re.findall(r"{(\w+)}", page)):
                print(f"  {role:<11} {page:<42} left out: the dataset has none", flush=True)
                continue
            path = f"/c/{SLUG}/" + page.format(**ids)
            warm = browsers[0].get(path)  # first view: templates compiled, caches filled
            sequential = hammer(browsers[:1], path, SECONDS)
            concurrent = hammer(browsers, path, SECONDS)
            rows.append((role, page, warm.status, sequential, concurrent))
            print(f"  {role:<11} {page:<42} {sequential.percentile(95):7.1f} ms "
                  f"{concurrent.percentile(95):7.1f} ms", flush=True)
        for browser in browsers:
            browser.close()
    memory = {pid: memory_mb(pid) for pid in worker_pids(server.pid)}
    report(rows, health, memory, dataset)


def report(rows, health, memory, dataset: str) -> None:
    """Print the table (Markdown, for docs/performance.md) and the verdicts."""
    h_seq, h_con = health
    print(f"\n{WORKERS} gunicorn workers on PostgreSQL; {dataset}; {SECONDS:g} s per phase; "
          f"sequential = 1 client, concurrent = {CLIENTS} clients\n")
    print("| role | page | seq n | seq p50 | seq p95 | x health | conc n | conc req/s "
          "| conc p50 | conc p95 | x health | errors |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    print(f"| - | /health | {len(h_seq.seconds)} | {h_seq.percentile(50):.1f} | "
          f"{h_seq.percentile(95):.1f} | 1.0 | {len(h_con.seconds)} | {h_con.rps:.0f} | "
          f"{h_con.percentile(50):.1f} | {h_con.percentile(95):.1f} | 1.0 | "
          f"{h_seq.error_count + h_con.error_count} |")
    slow_seq, slow_con, failing = [], [], []
    for role, page, warm, seq, con in rows:
        errors = seq.error_count + con.error_count + (warm != 200)
        print(f"| {role} | {page} | {len(seq.seconds)} | {seq.percentile(50):.1f} | "
              f"{seq.percentile(95):.1f} | {seq.percentile(95) / h_seq.percentile(95):.1f} | "
              f"{len(con.seconds)} | {con.rps:.1f} | {con.percentile(50):.1f} | "
              f"{con.percentile(95):.1f} | {con.percentile(95) / h_con.percentile(95):.1f} | "
              f"{errors}{'' if not errors else ' ' + str({**seq.errors, **con.errors})} |")
        if seq.percentile(95) >= SEQUENTIAL_P95_MS:
            slow_seq.append(f"{role}:{page}")
        if con.percentile(95) >= CONCURRENT_P95_MS:
            slow_con.append(f"{role}:{page}")
        if errors:
            failing.append(f"{role}:{page}")
    print(f"\n/health: {h_seq.rps:.0f} req/s sequential, {h_con.rps:.0f} req/s with "
          f"{CLIENTS} clients")
    for pid, (peak, now) in sorted(memory.items()):
        verdict = "under" if peak < RSS_MB else "OVER"
        print(f"worker {pid}: peak RSS {peak:.0f} MB, now {now:.0f} MB ({verdict} {RSS_MB} MB)")
    total = len(rows)
    print(f"sequential p95 >= {SEQUENTIAL_P95_MS} ms: {len(slow_seq)} of {total} pages "
          f"{', '.join(slow_seq)}")
    print(f"concurrent p95 >= {CONCURRENT_P95_MS} ms: {len(slow_con)} of {total} pages "
          f"{', '.join(slow_con)}")
    print(f"pages with errors: {len(failing)} of {total} {', '.join(failing)}")


if __name__ == "__main__":
    main()
