#!/usr/bin/env bash
# Stops the throwaway PostgreSQL started by scripts/test-setup.sh and removes its temp
# dir. Idempotent: silent when there is nothing to stop.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
env_file=.test-artifacts/pg.env
[ -f "$env_file" ] || exit 0
PG_DIR=; PG_BIN=
# shellcheck disable=SC1090
. "$env_file"
if [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ]; then
  if [ -f "$PG_DIR/data/postmaster.pid" ]; then
    if [ "$(id -u)" = 0 ]; then as_pg() { runuser -u postgres -- "$@"; }; else as_pg() { "$@"; }; fi
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 -s stop >/dev/null 2>&1; then
      # Last resort: the postmaster's pid is the first line of postmaster.pid.
      pid=$(head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null || true)
      [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
      sleep 1
    fi
    printf 'postgres: stopped\n'
  fi
  case "$PG_DIR" in */cimi-pg.*) rm -rf "$PG_DIR" ;; esac
fi
rm -f "$env_file" .test-artifacts/pg-url
exit 0
