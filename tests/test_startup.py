"""Start-up stays light: the heavy libraries load where they are used, not when the app is
made (docs/performance.md, "Start-up")."""
from __future__ import annotations

import subprocess
import sys

#: Libraries no process needs until it computes, renders or migrates (xml: the bank
#: statement parsers, OFX and CAMT.053).
HEAVY = ("pandas", "numpy", "openpyxl", "fpdf", "alembic", "flask_migrate", "matplotlib",
         "xml")

PROGRAM = """
import sys
from collective import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
commands = app.cli.list_commands(None)
print(" ".join(sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[1:]))))
print(" ".join(commands))
"""


def run_python(program: str, *args: str, env: str = "testing") -> list[str]:
    """The lines a fresh interpreter prints running `program` (COLLECTIVE_ENV `env`)."""
    done = subprocess.run([sys.executable, "-c", program, *args], capture_output=True,
                          text=True, timeout=120, env={"COLLECTIVE_ENV": env,
                                                       "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_making_the_app_imports_no_heavy_library():
    heavy, commands = run_python(PROGRAM, *HEAVY)
    assert heavy == ""
    assert "db" in commands.split()


def test_the_check_sees_a_heavy_library_when_one_is_imported():
    heavy, _ = run_python("import pandas\n" + PROGRAM, *HEAVY)
    assert set(heavy.split()) == {"numpy", "pandas"}


def test_flask_db_commands_still_run(runner):
    # alembic prints to the stdout it saw when first imported, so only the exit code tells
    result = runner.invoke(args=["db", "--directory", "migrations", "heads"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["db", "--help"])
    assert "upgrade" in result.output and "--x-arg" in result.output
    assert runner.invoke(args=["db", "no-such-command"]).exit_code == 2


def test_the_migrate_state_binds_flask_migrate_when_read(app):
    import flask_migrate

    state = app.extensions["migrate"]
    assert state.directory.endswith("migrations")
    assert isinstance(app.extensions["migrate"].migrate, flask_migrate.Migrate)
    assert app.extensions["migrate"].configure_args["render_as_batch"] is True


FROZEN = """
import gc
from collective import create_app
create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
print(gc.get_freeze_count(), gc.isenabled(), gc.get_threshold()[0])
"""


def test_a_deployed_app_freezes_its_start_up_heap_and_tests_do_not():
    from collective import YOUNG_COLLECTION_THRESHOLD

    frozen, enabled, young = run_python(FROZEN, env="development")[0].split()
    assert int(frozen) > 50_000 and enabled == "True"  # the collector is back on
    assert int(young) == YOUNG_COLLECTION_THRESHOLD > 700
    frozen, enabled, young = run_python(FROZEN)[0].split()
    assert int(frozen) == 0 and enabled == "True" and int(young) == 700
