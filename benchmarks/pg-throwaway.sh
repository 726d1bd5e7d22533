#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for benchmarks and prints its connection string.
#   eval "$(bash benchmarks/pg-throwaway.sh start)"   -> exports ASSISTANT_BENCH_POSTGRES
#   bash benchmarks/pg-throwaway.sh stop
set -euo pipefail
root=${ASSISTANT_BENCH_PG_DIR:-/tmp/assistant-bench-pg}
port=${ASSISTANT_BENCH_PG_PORT:-54329}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-start}" in
  start)
    rm -rf "$root"; mkdir -p "$root/data" "$root/sock"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$root"
    run "$bin/initdb" -D "$root/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
    run "$bin/pg_ctl" -D "$root/data" -l "$root/server.log" -o "-k $root/sock -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" -w start >/dev/null
    echo "export ASSISTANT_BENCH_POSTGRES='Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres'"
    ;;
  stop)
    run "$bin/pg_ctl" -D "$root/data" -m fast stop >/dev/null && rm -rf "$root"
    ;;
esac
