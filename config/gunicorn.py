"""gunicorn settings for the web process: ``gunicorn -c config/gunicorn.py config.wsgi``.

Environment: ``WEB_BIND`` (default ``0.0.0.0:8000``), ``WEB_WORKERS`` (4) and
``WEB_THREADS`` (8). Command-line flags override any of these.
"""

import os

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
worker_class = "gthread"
# Threads overlap requests waiting on PostgreSQL (the inbound group commit gathers them);
# more processes than cores, because each Python process runs at most one core at a time.
workers = int(os.environ.get("WEB_WORKERS", "4"))
threads = int(os.environ.get("WEB_THREADS", "8"))
# Every worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
# connections over them. With one shared socket the first worker to wake accepted most
# keep-alive connections: in the benchmark one of two workers served three quarters of the
# calls, at its one-core limit, while the machine had a core to spare.
reuse_port = True
keepalive = 5
backlog = 2048
