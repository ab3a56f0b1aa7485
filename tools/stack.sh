#!/usr/bin/env bash
# stack.sh — brings up pakn's real local components: a private PostgreSQL
# cluster and a real Vault server (built from the Go module in tools/vault).
#
#   tools/stack.sh vault-bin                 build (once) and print the cached Vault binary
#   tools/stack.sh pg-up DIR                 start (creating if needed) a cluster in DIR; writes DIR/env
#   tools/stack.sh pg-down DIR               stop it
#   tools/stack.sh pg-destroy DIR            stop it and delete its files
#   tools/stack.sh vault-up DIR file|inmem   start Vault with state in DIR; writes DIR/env
#   tools/stack.sh vault-down DIR            stop it
#   tools/stack.sh pdf-tools                 install the independent PDF checkers tests use
#                                            (poppler-utils, qpdf, libnss3-tools, mupdf-tools)
#   tools/stack.sh browser                   install Chromium (Debian) and axe-core (npm, into .cache/)
#                                            for the browser tests; prints PAKN_CHROMIUM= and PAKN_AXE_JS=
#
# Every server listens on 127.0.0.1 only. DIR/env holds shell assignments
# (URLs, development credentials) and is mode 0600: development-only material.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="$ROOT/.cache"
log() { printf 'stack: %s\n' "$*" >&2; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# free_port prints a TCP port on 127.0.0.1 that nothing listens on, preferring $1.
free_port() {
  local p=${1:-20000}
  for _ in $(seq 1 200); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    p=$((p + 1))
  done
  die "no free port near ${1:-20000}"
}

rand_secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# ---------------------------------------------------------------- PostgreSQL
pg_bindir() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"; return
  fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  if [ "$(id -u)" = 0 ]; then
    log "PostgreSQL server binaries not found; installing Debian's postgresql package"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    echo "$d"; return
  fi
  die "PostgreSQL server binaries (initdb, pg_ctl) not found. Install PostgreSQL 15 (Debian: apt-get install postgresql) or set PAKN_DATABASE_URL."
}

# as_pg runs a command as the cluster's owner: PostgreSQL refuses to run as root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# pg_datadir prints where the cluster of DIR keeps its files: DIR/data, or,
# when running as root and the postgres user cannot reach DIR (a checkout
# under a private home, say), a folder under /var/lib/pakn linked from DIR/data.
pg_datadir() {
  local dir=$1
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$dir" 2>/dev/null; then
    echo "/var/lib/pakn/pg-$(printf '%s' "$dir" | sha256sum | cut -c1-16)"
  else
    echo "$dir/data"
  fi
}

pg_up() {
  local dir=$1; mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
  local bin; bin=$(pg_bindir)
  local envf="$dir/env" data
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
  fi
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  data=$(pg_datadir "$dir")
  if [ ! -f "$data/PG_VERSION" ]; then
    log "creating PostgreSQL cluster in $data"
    local super_pw owner_pw app_pw port
    super_pw=$(rand_secret); owner_pw=$(rand_secret); app_pw=$(rand_secret)
    port=$(free_port "${PAKN_PG_PORT:-25432}")
    rm -rf "$data"; mkdir -p "$data"
    [ "$data" = "$dir/data" ] || ln -sfn "$data" "$dir/data"
    local pwfile; pwfile=$(mktemp); printf '%s\n' "$super_pw" >"$pwfile"
    if [ "$(id -u)" = 0 ]; then chown -R postgres "$data"; chown postgres "$pwfile"; fi
    chmod 700 "$data"
    as_pg "$bin/initdb" -D "$data" -U postgres --pwfile="$pwfile" --auth=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; rm -f "$pwfile"; die "initdb failed"; }
    rm -f "$pwfile"
    cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 200
fsync = ${PAKN_PG_FSYNC:-on}
include_if_exists = 'pakn_port.conf'
CONF
    # A free-looking port can still be taken between the check and the
    # start (an outgoing connection's ephemeral port): try the next ones.
    local tries=0
    while :; do
      echo "port = $port" >"$data/pakn_port.conf"
      [ "$(id -u)" = 0 ] && chown postgres "$data/pakn_port.conf"
      if as_pg "$bin/pg_ctl" -D "$data" -l "$data/postgres.log" -w -t 60 start >/dev/null; then break; fi
      tries=$((tries + 1))
      if [ $tries -ge 10 ] || ! grep -q "Address already in use" "$data/postgres.log"; then
        tail -n 20 "$data/postgres.log" >&2; die "PostgreSQL did not start"
      fi
      log "port $port was taken; trying another"
      port=$(free_port $((port + 1)))
    done
    umask 077
    cat >"$envf" <<ENV
PAKN_PG_PORT=$port
PAKN_PG_SUPERUSER_URL='postgres://postgres:$super_pw@127.0.0.1:$port/postgres?sslmode=disable'
PAKN_DATABASE_OWNER_URL='postgres://pakn_owner:$owner_pw@127.0.0.1:$port/pakn?sslmode=disable'
PAKN_DATABASE_URL='postgres://pakn_app:$app_pw@127.0.0.1:$port/pakn?sslmode=disable'
ENV
    umask 022
    # shellcheck disable=SC1090
    . "$envf"
    psql -v ON_ERROR_STOP=1 -q "$PAKN_PG_SUPERUSER_URL" <<SQL
CREATE ROLE pakn_owner LOGIN PASSWORD '$owner_pw';
CREATE ROLE pakn_app LOGIN PASSWORD '$app_pw';
CREATE DATABASE pakn OWNER pakn_owner;
REVOKE ALL ON DATABASE pakn FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE pakn TO pakn_app;
SQL
  else
    # shellcheck disable=SC1090
    . "$envf"
    if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      if (exec 3<>"/dev/tcp/127.0.0.1/$PAKN_PG_PORT") 2>/dev/null; then
        die "port $PAKN_PG_PORT (kept in $envf) is taken by another program; stop it or remove $dir"
      fi
      as_pg "$bin/pg_ctl" -D "$data" -l "$data/postgres.log" -w -t 60 start >/dev/null \
        || { tail -n 20 "$data/postgres.log" >&2; die "PostgreSQL did not start"; }
    fi
  fi
  log "PostgreSQL on 127.0.0.1:$PAKN_PG_PORT (data in $data)"
}

pg_down() {
  local dir=$1 bin data
  [ -f "$dir/data/PG_VERSION" ] || return 0
  bin=$(pg_bindir)
  # The real data folder, as pg_up started it: the postgres user may not be
  # able to enter DIR itself (a checkout under a private mktemp -d folder).
  data=$(readlink -f "$dir/data")
  as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
}

# pg_destroy stops the cluster of DIR and removes its files.
pg_destroy() {
  local dir=$1
  pg_down "$dir"
  if [ -L "$dir/data" ]; then rm -rf "$(readlink "$dir/data")"; fi
  rm -rf "$dir"
}

# --------------------------------------------------------------------- Vault
vault_bin() {
  local src="$ROOT/tools/vault" sum bin
  sum=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)
  bin="$CACHE/bin/paknvault-$sum"
  if [ ! -x "$bin" ]; then
    log "building the Vault server from github.com/hashicorp/vault (first time only; several minutes)"
    mkdir -p "$CACHE/bin"
    (cd "$src" && go build -trimpath -o "$bin.tmp" .) >&2
    mv "$bin.tmp" "$bin"
    find "$CACHE/bin" -name 'paknvault-*' ! -name "$(basename "$bin")" -delete
  fi
  echo "$bin"
}

vault_up() {
  local dir=$1 storage=$2 bin port
  mkdir -p "$dir"; dir=$(cd "$dir" && pwd); chmod 700 "$dir"
  bin=$(vault_bin)
  if [ -f "$dir/vault.pid" ] && kill -0 "$(cat "$dir/vault.pid")" 2>/dev/null; then
    log "Vault already running (pid $(cat "$dir/vault.pid"))"
  else
    # Port 0: the kernel picks a free port, so nothing can take it meanwhile.
    port=${PAKN_VAULT_PORT:-0}
    rm -f "$dir/addr"
    nohup "$bin" -addr "127.0.0.1:$port" -storage "$storage" -data "$dir/storage" \
      -init-file "$dir/init.json" -addr-file "$dir/addr" >"$dir/vault.log" 2>&1 &
    echo $! >"$dir/vault.pid"
    for _ in $(seq 1 300); do
      [ -s "$dir/addr" ] && break
      kill -0 "$(cat "$dir/vault.pid")" 2>/dev/null || { cat "$dir/vault.log" >&2; die "Vault exited"; }
      sleep 0.1
    done
    [ -s "$dir/addr" ] || { cat "$dir/vault.log" >&2; die "Vault did not start within 30s"; }
  fi
  local token; token=$(sed -n 's/.*"root_token": *"\([^"]*\)".*/\1/p' "$dir/init.json")
  umask 077
  cat >"$dir/env" <<ENV
VAULT_ADDR='$(cat "$dir/addr")'
PAKN_VAULT_ROOT_TOKEN='$token'
ENV
  umask 022
  log "Vault on $(cat "$dir/addr") (storage $storage; unseal key and root token in $dir/init.json — development only)"
}

vault_down() {
  local dir=$1
  if [ -f "$dir/vault.pid" ]; then
    local pid; pid=$(cat "$dir/vault.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/vault.pid"
  fi
}

# ------------------------------------------------------- independent checkers
# pdf_tools installs the Debian tools the signing tests check every PDF with:
# pdfsig/pdftotext/pdftoppm, qpdf, certutil (an NSS trust store) and mutool.
pdf_tools() {
  local missing=()
  command -v pdfsig >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
  command -v qpdf >/dev/null 2>&1 || missing+=(qpdf)
  command -v certutil >/dev/null 2>&1 || missing+=(libnss3-tools)
  command -v mutool >/dev/null 2>&1 || missing+=(mupdf-tools)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing PDF checkers: ${missing[*]} (apt-get install ${missing[*]} as root)"
  log "installing ${missing[*]}"
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

# browser installs what the website's browser tests drive and check with:
# Debian's Chromium, and axe-core from npm (a pinned version, cached in
# .cache/axe so it is fetched once per machine). It prints the two paths as
# shell assignments.
AXE_VERSION=4.11.0
browser() {
  if ! command -v chromium >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "chromium is missing (apt-get install chromium as root)"
    log "installing chromium"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core >&2
  fi
  local axe="$CACHE/axe/node_modules/axe-core/axe.min.js"
  if [ ! -s "$axe" ] || ! grep -q "\"version\": \"$AXE_VERSION\"" "$CACHE/axe/node_modules/axe-core/package.json" 2>/dev/null; then
    command -v npm >/dev/null 2>&1 || die "npm is missing (it installs axe-core for the browser tests)"
    log "installing axe-core $AXE_VERSION"
    mkdir -p "$CACHE/axe"
    npm install --prefix "$CACHE/axe" --no-audit --no-fund --no-save --loglevel=error "axe-core@$AXE_VERSION" >&2
  fi
  echo "PAKN_CHROMIUM=$(command -v chromium)"
  echo "PAKN_AXE_JS=$axe"
}

cmd=${1:-}; shift || true
case "$cmd" in
  vault-bin) vault_bin ;;
  pg-up) pg_up "$@" ;;
  pg-down) pg_down "$@" ;;
  pg-destroy) pg_destroy "$@" ;;
  vault-up) vault_up "$@" ;;
  vault-down) vault_down "$@" ;;
  pdf-tools) pdf_tools ;;
  browser) browser ;;
  *) die "usage: stack.sh vault-bin | pg-up DIR | pg-down DIR | pg-destroy DIR | vault-up DIR file|inmem | vault-down DIR | pdf-tools | browser" ;;
esac
