"""The Celery application (``celery -A mallnet.celery_app``, or ``mallnet worker``/``beat``).

Embedded default: a SQLite-backed kombu transport and result store in the data directory —
real worker processes, no server. Production: Redis by URL (``MALLNET_BROKER_URL``).
Tasks are idempotent and acknowledged late, so a task whose worker dies runs again on
another worker rather than being lost.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Celery, signals

from mallnet.config import Settings, get_settings
from mallnet.serving import serve_or_exit

TASK_MODULES = ["hub.tasks", "shop_node.tasks"]


def _per_shop(shops: list[str], *jobs: tuple[str, str, int, int]) -> dict[str, dict[str, Any]]:
    """Beat entries of each node job for every shop: ``(name, task, every_s, expires_x)``
    runs ``task(shop)`` every ``every_s`` seconds, dropped if not started within
    ``expires_x`` periods (a late run is superseded by the next)."""
    return {
        f"{name}-{shop}": {
            "task": task,
            "schedule": timedelta(seconds=every_s),
            "args": [shop],
            "options": {"expires": every_s * expires_x},
        }
        for name, task, every_s, expires_x in jobs
        for shop in shops
    }


def create_celery(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    if settings.embedded_broker:
        settings.ensure_data_dir()
    app = Celery("mallnet", include=TASK_MODULES)
    conf: dict[str, Any] = {
        "broker_url": settings.celery_broker_url,
        "result_backend": settings.celery_result_backend,
        "task_default_queue": settings.celery_queue,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_expires": timedelta(days=1),
        "enable_utc": True,
        "timezone": "Asia/Tehran",
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        "beat_schedule": {
            "worker-heartbeat": {
                "task": "hub.heartbeat",
                "schedule": timedelta(seconds=settings.heartbeat_interval_s),
                "options": {"expires": settings.heartbeat_interval_s * 3},
            },
            "expire-network-value": {
                "task": "hub.expire_value",
                "schedule": timedelta(seconds=settings.value_sweep_interval_s),
                "options": {"expires": settings.value_sweep_interval_s},
            },
            "reconcile-network-captures": {
                "task": "hub.reconcile_captures",
                "schedule": timedelta(seconds=settings.value_sweep_interval_s),
                "options": {"expires": settings.value_sweep_interval_s},
            },
            "close-settlement-periods": {
                "task": "hub.close_settlement",
                "schedule": timedelta(seconds=settings.settlement_sweep_interval_s),
                "options": {"expires": settings.settlement_sweep_interval_s},
            },
            **_per_shop(
                settings.shop_list,
                # name, task, every (seconds), how long a run may wait before it is dropped
                ("expire-lots", "node.expire_lots", settings.expiry_interval_s, 1),
                ("send-messages", "node.send_messages", settings.message_interval_s, 2),
                (
                    "message-reports",
                    "node.message_reports",
                    settings.delivery_report_interval_s,
                    1,
                ),
                ("birthday-gifts", "node.birthdays", settings.birthday_interval_s, 1),
                ("resume-broadcasts", "node.resume_broadcasts", 300, 1),
                ("relay-outbox", "node.relay_outbox", settings.relay_interval_s, 2),
            ),
        },
    }
    if settings.redis_key_prefix:
        prefix = {"global_keyprefix": settings.redis_key_prefix}
        conf["broker_transport_options"] = prefix
        conf["result_backend_transport_options"] = prefix
    app.conf.update(conf)
    return app


app = create_celery()


@signals.worker_init.connect
def _check_worker_settings(**_kwargs: Any) -> None:
    """``celery -A mallnet.celery_app worker`` is checked as ``mallnet worker`` is: the
    environment said explicitly, no unsafe secret in production (``mallnet.serving``)."""
    serve_or_exit("worker")


@signals.beat_init.connect
def _check_beat_settings(**_kwargs: Any) -> None:
    serve_or_exit("worker")
