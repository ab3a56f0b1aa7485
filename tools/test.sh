#!/usr/bin/env bash
# test.sh — `make test`: starts a throw-away PostgreSQL cluster (unless
# PAKN_TEST_SUPERUSER_URL is given), builds the Vault server the tests start
# for themselves, installs the PDF checkers, Chromium and axe-core when
# missing, then runs go vet and the race-enabled test suite. With arguments,
# it runs `go test` with them instead (the same set-up).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
STACK="$ROOT/tools/stack.sh"

export PAKN_VAULT_BIN; PAKN_VAULT_BIN=$("$STACK" vault-bin)
"$STACK" pdf-tools
# Chromium and axe-core for the website's browser tests.
set -a; eval "$("$STACK" browser)"; set +a

tmp=
if [ -z "${PAKN_TEST_SUPERUSER_URL:-}" ]; then
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/pakn-test.XXXXXX")
  chmod 755 "$tmp"
  trap '"$STACK" pg-destroy "$tmp/pg"; rm -rf "$tmp"' EXIT
  PAKN_PG_FSYNC=off PAKN_PG_PORT=26432 "$STACK" pg-up "$tmp/pg"
  . "$tmp/pg/env"
  export PAKN_TEST_SUPERUSER_URL=$PAKN_PG_SUPERUSER_URL
  export PAKN_TEST_OWNER_URL=$PAKN_DATABASE_OWNER_URL
  export PAKN_TEST_APP_URL=$PAKN_DATABASE_URL
fi

# With arguments, run only `go test` with them (as `make screenshots` does).
if [ $# -gt 0 ]; then
  go test -count=1 "$@"
  exit
fi

echo "test: go vet" >&2
go vet ./...
(cd tools/vault && go vet ./...)
echo "test: go test -race" >&2
go test -race -count=1 -timeout 30m ${PAKN_TEST_FLAGS:-} ./...
# The verifier takes hostile input: fuzz it briefly on every run (make fuzz for
# longer). The budget is a count of executions, not a duration: Go 1.26's fuzz
# coordinator can fail a run that ends by its -fuzztime deadline with a bare
# "context deadline exceeded" and no failing input (golang/go#75804, fixed in
# Go 1.27), which a count never reaches. New inputs are minimised briefly (a
# count too) so that the executions, not minimising whole PDFs, take the time.
echo "test: fuzzing FuzzVerify (-fuzztime ${PAKN_FUZZTIME:-50000x})" >&2
go test -run '^$' -fuzz '^FuzzVerify$' -fuzztime "${PAKN_FUZZTIME:-50000x}" -fuzzminimizetime 20x ./internal/verify
# The same for a reply as issued (PAdES B-LTA: what may follow the signature
# is read object by object), and for the time-stamping authority's parser.
echo "test: fuzzing FuzzVerifyLTA (-fuzztime ${PAKN_FUZZTIME_LTA:-10000x}) and FuzzRespond (-fuzztime 2000x)" >&2
go test -run '^$' -fuzz '^FuzzVerifyLTA$' -fuzztime "${PAKN_FUZZTIME_LTA:-10000x}" -fuzzminimizetime 20x ./internal/verify
go test -run '^$' -fuzz '^FuzzRespond$' -fuzztime 2000x -fuzzminimizetime 20x ./internal/tsa
