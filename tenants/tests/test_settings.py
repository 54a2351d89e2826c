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
