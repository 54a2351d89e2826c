"""run_dispatcher: the delivery dispatcher as a standalone process (until SIGTERM/SIGINT)."""

import signal
import threading

from django.core.management.base import BaseCommand

from deliveries.dispatcher import run_dispatcher


class Command(BaseCommand):
    help = (
        "Claim due deliveries and enqueue send_batch tasks, woken by NOTIFY and every second. "
        "Workers run the same loop in a thread unless started with --without-dispatcher."
    )

    def handle(self, *args, **options):
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write("delivery dispatcher running; Ctrl-C to stop")
        run_dispatcher(stop)
