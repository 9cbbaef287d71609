"""A real load-balancer lab: HAProxy, nginx, Python backends, curl/Python/Chromium clients on 127.0.0.0/8.

It reproduces the seed incidents (missing persistence cookie, server and datacenter flips, a cached
``Set-Cookie`` replayed to other users, LB session timeouts) with real software, records what happened
with ``tcpdump`` and Playwright HAR recording, and writes the ground truth (``expected.json``) derived
from what the clients and backends actually saw. Entry point: ``python -m lab.run`` (see README.md).
"""
