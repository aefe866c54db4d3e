# A throw-away PostgreSQL cluster for tests: sourced by scripts/test.sh and
# scripts/pg-schema-check.sh. It lives in a folder of its own, listens on loopback only, trusts
# local connections (nothing else can reach it) and runs as an unprivileged user: initdb
# refuses root, so as root it runs as $PG_CLUSTER_USER (default nobody).
#
#   pg_cluster_start DIR PORT   initdb + start; then PG_CLUSTER_URL is a superuser's URL
#   pg_cluster_stop DIR         stop at once (the data is thrown away with DIR)

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

pg_cluster_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        su "${PG_CLUSTER_USER:-nobody}" -s /bin/bash -c "$*"
    else
        bash -c "$*"
    fi
}

pg_cluster_start() {
    local dir=$1 port=$2
    [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL 15 is not installed (scripts/setup.sh installs it)" >&2; return 1; }
    mkdir -p "$dir"
    chmod 755 "$dir"
    if [ "$(id -u)" = 0 ]; then chown "${PG_CLUSTER_USER:-nobody}" "$dir"; fi
    pg_cluster_as_owner "'$PG_BIN/initdb' -D '$dir/data' -A trust -U postgres --locale=C.UTF-8 -E UTF8 >'$dir/initdb.log' 2>&1"
    # Tests turn durability off (a test cluster a crash would lose is thrown away anyway);
    # benchmarks keep it (PG_CLUSTER_DURABLE=1), as SQLite keeps synchronous=FULL.
    local speed="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${PG_CLUSTER_DURABLE:-0}" = 1 ] && speed=""
    pg_cluster_as_owner "'$PG_BIN/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-k '$dir' -h 127.0.0.1 -p $port $speed -c max_connections=400\" start >/dev/null"
    PG_CLUSTER_URL="postgres://postgres@127.0.0.1:$port/postgres"
    export PG_CLUSTER_URL
}

pg_cluster_stop() {
    local dir=$1
    if [ -f "$dir/data/postmaster.pid" ]; then
        pg_cluster_as_owner "'$PG_BIN/pg_ctl' -D '$dir/data' -m immediate stop" >/dev/null 2>&1 || true
    fi
}
