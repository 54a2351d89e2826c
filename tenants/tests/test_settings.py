import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DATABASE_URL")}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="x" * 20 + "production-secret-key-with-enough-entropy-0123456789",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_bad_setting_value_fails_at_start_naming_the_variable():
    result = _manage("check", DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def _database_options(**env: str) -> dict:
    script = (
        "import json; from django.conf import settings; "
        "options = settings.DATABASES['default']['OPTIONS']; "
        "print(json.dumps({k: options.get(k) for k in ('server_side_binding', 'prepare_threshold')}))"
    )
    result = _manage("shell", "-c", script, DJANGO_SETTINGS_MODULE="config.settings.base", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_postgresql_binds_server_side_and_prepares_hot_statements_by_default():
    options = _database_options(DATABASE_URL="postgres://postgres@127.0.0.1:5432/hub")
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5


def test_both_can_be_turned_off_for_a_pooler_that_cannot_keep_prepared_statements():
    options = _database_options(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/hub",
        HUB_DB_SERVER_SIDE_BINDING="false",
        HUB_DB_PREPARE_THRESHOLD="0",
    )
    assert options["server_side_binding"] is False
    assert options["prepare_threshold"] is None
