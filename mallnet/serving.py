"""The settings a long-running process takes from the environment, checked before it
serves: the hub and a node under an ASGI server's app factory (``uvicorn
hub.app:create_app --factory``, ``shop_node.app:app_from_env``) and Celery's worker and
beat (``celery -A mallnet.celery_app worker``), as ``mallnet hub``/``node``/``worker``
check them.

Unset, ``MALLNET_ENVIRONMENT`` would quietly mean development (development tokens and
GraphiQL on), so it must be said; in production no secret may be missing, default or short.
Apps built in-process from a ``Settings`` object (tests, the demo) are not checked here:
whoever built the settings chose them.
"""

from __future__ import annotations

from mallnet.config import InsecureSettings, Role, Settings, get_settings


def settings_to_serve(role: Role) -> Settings:
    """The environment's settings for ``role``, or ``InsecureSettings`` saying what to fix."""
    settings = get_settings()
    if "environment" not in settings.model_fields_set:
        raise InsecureSettings(
            f"refusing to start the {role}: MALLNET_ENVIRONMENT is not set. Set it to "
            "'production' (with MALLNET_NETWORK_KEY and the other secrets) or, on a "
            "development machine, to 'development'. 'mallnet demo' sets it for you."
        )
    settings.require_safe_secrets(role)
    return settings


def serve_or_exit(role: Role) -> Settings:
    """``settings_to_serve``, ending the process with the reason (exit status 1) when the
    settings are refused: a server's factory or a Celery signal has no one to tell but the
    operator reading its output."""
    try:
        return settings_to_serve(role)
    except InsecureSettings as exc:
        raise SystemExit(str(exc)) from None
