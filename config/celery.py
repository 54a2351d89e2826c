"""The Celery app: settings under the CELERY_ namespace, tasks found in every app.

Processes (each reads the same settings from the environment):
    web        gunicorn -c config/gunicorn.py config.wsgi
    worker     celery -A config worker          (also runs the delivery dispatcher thread)
    scheduler  celery -A config beat            (deliveries.sweep every 5 s, log retention)
    optional   python manage.py run_dispatcher  (a standalone dispatcher; run workers with
                                                 --without-dispatcher then)

Messages are JSON and carry ids only; PostgreSQL holds every delivery's state, so losing the
broker's contents (restart, FLUSHALL) or a worker (kill -9) delays deliveries, never loses them.
"""

import os

from celery import Celery, bootsteps, signals
from click import Option

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("leadhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.user_options["worker"].add(
    Option(
        ("--without-dispatcher",),
        is_flag=True,
        default=False,
        help="Do not run the delivery dispatcher thread in this worker.",
    )
)


class DeliveryDispatcher(bootsteps.StartStopStep):
    """Runs the delivery dispatcher (LISTEN + claim + enqueue) in the worker's main process.

    Started after the pool, so pool children are forked before the thread exists.
    """

    requires = {"celery.worker.components:Pool"}

    def __init__(self, parent, without_dispatcher=False, **options):
        super().__init__(parent, **options)
        self.enabled = not without_dispatcher
        self.thread = None

    def start(self, parent):
        from deliveries.dispatcher import start_dispatcher_thread

        self.thread = start_dispatcher_thread()

    def stop(self, parent):
        if self.thread is not None:
            self.thread.stop()
            self.thread = None


app.steps["worker"].add(DeliveryDispatcher)


@signals.worker_process_init.connect
def _fresh_engine_in_child(**kwargs):
    """A forked pool child starts with no delivery engine (threads do not survive a fork)."""
    from deliveries.engine import reset_engine

    reset_engine()


@signals.worker_process_shutdown.connect
def _drain_engine_in_child(**kwargs):
    """A pool child that exits lets running calls finish and records them first."""
    from deliveries.engine import shutdown_engine

    shutdown_engine(timeout=10)


@signals.task_prerun.connect
def _replace_broken_connections(sender=None, **kwargs):
    """Before each task, drop a database connection that broke (a PostgreSQL restart) or aged
    past CONN_MAX_AGE; the next query opens a new one.

    Needed because CELERY_DB_REUSE_MAX makes Celery's Django fixup keep connections across
    tasks: without this, a child kept failing every task on its dead connection. Never for an
    eager task, which may run inside the caller's transaction.
    """
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
