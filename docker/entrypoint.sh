#!/bin/sh
# The image's entrypoint: migrate once, then become the server.
#
# `exec` replaces this shell with scimgate, so the SIGTERM a container runtime
# (or systemd) sends on stop reaches uvicorn, which finishes the requests in
# flight and exits 0; a shell left in between would swallow the signal and be
# killed after the grace period instead. Arguments are appended to `serve`,
# so `--workers 2` or a later `--port` override the defaults below.
set -eu

scimgate db upgrade
exec scimgate serve --host 0.0.0.0 --port 8000 "$@"
