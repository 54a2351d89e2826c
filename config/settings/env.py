"""Strict environment parsing: a bad value stops the process with the variable's name."""

from django.core.exceptions import ImproperlyConfigured
from environs import Env, EnvError

env = Env()


def read(method: str, name: str, *args, **kwargs):
    """Call ``env.<method>(name, ...)`` and turn a parse failure into ImproperlyConfigured."""
    try:
        return getattr(env, method)(name, *args, **kwargs)
    except EnvError as exc:
        raise ImproperlyConfigured(f"Environment variable {name} is invalid: {exc}") from exc
