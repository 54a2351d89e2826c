"""gunicorn settings for the web process: ``gunicorn -c config/gunicorn.py config.wsgi``.

Environment: ``WEB_BIND`` (default ``0.0.0.0:8000``), ``WEB_WORKERS`` (one per CPU) and
``WEB_THREADS`` (16). Command-line flags override any of these.
"""

import os

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
worker_class = "gthread"
# Threads overlap requests waiting on PostgreSQL, and the inbound group commit batches what
# waits together, so many threads per process make bigger batches. One process per core: a
# Python process runs at most one core at a time. On 2 cores, 2×16 measured at or near the
# top of both benchmark comparisons of 2026-12-07; 4×8 and 3×4 were slower (smaller batches).
workers = int(os.environ.get("WEB_WORKERS", str(os.cpu_count() or 2)))
threads = int(os.environ.get("WEB_THREADS", "16"))
# Every worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
# connections over them. With one shared socket the first worker to wake accepted most
# keep-alive connections: in the benchmark one of two workers served three quarters of the
# calls, at its one-core limit, while the machine had a core to spare.
reuse_port = True
keepalive = 5
backlog = 2048
