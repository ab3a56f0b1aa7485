#!/usr/bin/env bash
# bench.sh — `make bench`: on a fresh, durable (fsync on) PostgreSQL cluster
# and a real Vault, runs pakn's submission benchmark and pgbench's
# insert-only load on the same server in the same run, alternating them
# PAKN_BENCH_ROUNDS times (3), and prints their medians side by side; then
# signs the same reply through Vault and with an in-process key, and
# verifies one reply in-process, over HTTP and with pdfsig, as many rounds,
# and prints the medians.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
STACK="$ROOT/tools/stack.sh"
CLIENTS=${PAKN_BENCH_CLIENTS:-64}
export PAKN_BENCH_CLIENTS=$CLIENTS
SECONDS_EACH=${PAKN_BENCH_SECONDS:-10}

export PAKN_VAULT_BIN; PAKN_VAULT_BIN=$("$STACK" vault-bin)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pakn-bench.XXXXXX")
chmod 755 "$tmp"
trap '"$STACK" pg-destroy "$tmp/pg"; rm -rf "$tmp"' EXIT
PAKN_PG_FSYNC=on PAKN_PG_PORT=26532 "$STACK" pg-up "$tmp/pg"
. "$tmp/pg/env"
export PAKN_TEST_SUPERUSER_URL=$PAKN_PG_SUPERUSER_URL PAKN_TEST_OWNER_URL=$PAKN_DATABASE_OWNER_URL PAKN_TEST_APP_URL=$PAKN_DATABASE_URL

ROUNDS=${PAKN_BENCH_ROUNDS:-3}
bench_db="${PAKN_PG_SUPERUSER_URL%/postgres*}/pgbench?sslmode=disable"
psql -q "$PAKN_PG_SUPERUSER_URL" -c "CREATE DATABASE pgbench"
psql -q "$bench_db" -c "CREATE TABLE bench_insert (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, aid int NOT NULL, delta int NOT NULL, mtime timestamptz NOT NULL)"
cat >"$tmp/insert.sql" <<'SQL'
\set aid random(1, 100000)
\set delta random(-5000, 5000)
INSERT INTO bench_insert (aid, delta, mtime) VALUES (:aid, :delta, CURRENT_TIMESTAMP);
SQL

# The two loads alternate, ROUNDS times each, on the same server; the
# medians are compared, since one run on a small shared machine is noisy.
: >"$tmp/pakn.txt"
: >"$tmp/pgb.txt"
for round in $(seq 1 "$ROUNDS"); do
  echo "bench: round $round/$ROUNDS: durable submissions, $CLIENTS clients, ${SECONDS_EACH}s" >&2
  go test -run '^$' -bench 'BenchmarkSubmit$' -benchtime "${SECONDS_EACH}s" ./internal/desk | tee "$tmp/desk.txt" >&2
  awk '/^BenchmarkSubmit/ { for (i = 1; i <= NF; i++) if ($(i+1) == "petitions/s") print $i }' "$tmp/desk.txt" >>"$tmp/pakn.txt"
  echo "bench: round $round/$ROUNDS: pgbench insert-only, $CLIENTS clients, ${SECONDS_EACH}s" >&2
  pgbench -n -c "$CLIENTS" -j 2 -T "$SECONDS_EACH" -f "$tmp/insert.sql" "$bench_db" >"$tmp/pgbench.txt" 2>&1
  sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$tmp/pgbench.txt" >>"$tmp/pgb.txt"
done
go test -run '^$' -bench 'BenchmarkVerifyChain$' -benchtime 3x ./internal/postgres | tee "$tmp/audit.txt" >&2

# Signed replies: the same rendered reply signed through Vault (paknd's
# AppRole login, one Transit call per signature) and with an in-process key
# of the same type, back to back in each round (the machine's speed drifts
# between rounds, so each round's pair is compared), 64 concurrent signers.
# Twice: with Vault on a CPU of its own and the signers on the others, as in
# production where Vault runs on its own machine (the in-process key gets the
# same CPUs as the signers through Vault: the target is judged on this); and
# with Vault sharing every CPU with the signers, for comparison.
ncpu=$(nproc)
last=$((ncpu - 1))
: >"$tmp/sign.txt"
: >"$tmp/sign-shared.txt"
for round in $(seq 1 "$ROUNDS"); do
  if [ "$ncpu" -ge 2 ]; then
    echo "bench: round $round/$ROUNDS: signed replies, Vault on CPU $last, signers on CPUs 0-$((last - 1))" >&2
    PAKN_VAULT_CPUS=$last taskset -c "0-$((last - 1))" go test -run '^$' -bench 'BenchmarkSignReply$' -benchtime "${SECONDS_EACH}s" ./internal/signing | tee -a "$tmp/sign.txt" >&2
  fi
  echo "bench: round $round/$ROUNDS: signed replies, Vault and signers sharing all CPUs" >&2
  go test -run '^$' -bench 'BenchmarkSignReply$' -benchtime "${SECONDS_EACH}s" ./internal/signing | tee -a "$tmp/sign-shared.txt" >&2
done
[ "$ncpu" -ge 2 ] || cp "$tmp/sign-shared.txt" "$tmp/sign.txt"
metric() { awk -v name="$1" -v unit="$2" '$1 ~ name { for (i = 1; i <= NF; i++) if ($(i+1) == unit) print $i }' "${3:-$tmp/sign.txt}"; }
metric 'BenchmarkSignReply/vault' 'replies/s' >"$tmp/sign-vault.txt"
metric 'BenchmarkSignReply/in-process' 'replies/s' >"$tmp/sign-local.txt"
paste "$tmp/sign-vault.txt" "$tmp/sign-local.txt" | awk '{ printf "%.1f\n", 100 * $1 / $2 }' >"$tmp/sign-ratio.txt"
metric 'BenchmarkSignReply/vault' 'replies/s' "$tmp/sign-shared.txt" >"$tmp/shared-vault.txt"
metric 'BenchmarkSignReply/in-process' 'replies/s' "$tmp/sign-shared.txt" >"$tmp/shared-local.txt"
paste "$tmp/shared-vault.txt" "$tmp/shared-local.txt" | awk '{ printf "%.1f\n", 100 * $1 / $2 }' >"$tmp/shared-ratio.txt"
calls=$( (metric 'BenchmarkSignReply/vault' 'vault-calls/op'; metric 'BenchmarkSignReply/vault' 'vault-calls/op' "$tmp/sign-shared.txt") | sort -u | paste -sd' ')

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
pakn=$(median "$tmp/pakn.txt")
tps=$(median "$tmp/pgb.txt")
verify=$(awk '/^BenchmarkVerifyChain/ { for (i = 1; i <= NF; i++) if ($(i+1) == "events/s") print $i }' "$tmp/audit.txt")
ratio=$(awk -v a="$pakn" -v b="$tps" 'BEGIN { printf "%.0f", 100 * a / b }')
# Verification: in-process, over HTTP at 8 concurrent requests, and pdfsig once per file, on one reply.
echo "bench: verification in-process, over HTTP (8 concurrent) and pdfsig per file, $ROUNDS rounds" >&2
go test -run '^$' -bench 'BenchmarkVerification$' -benchtime "${SECONDS_EACH}s" -count "$ROUNDS" ./internal/httpapi | tee "$tmp/verify.txt" >&2
metric 'BenchmarkVerification/in-process' 'verifications/s' "$tmp/verify.txt" >"$tmp/v-local.txt"
metric 'BenchmarkVerification/http-8' 'verifications/s' "$tmp/verify.txt" >"$tmp/v-http.txt"
metric 'BenchmarkVerification/http-8' 'p50-ms' "$tmp/verify.txt" >"$tmp/v-p50.txt"
metric 'BenchmarkVerification/http-8' 'p99-ms' "$tmp/verify.txt" >"$tmp/v-p99.txt"
metric 'BenchmarkVerification/pdfsig' 'verifications/s' "$tmp/verify.txt" >"$tmp/v-pdfsig.txt"
sv=$(median "$tmp/sign-vault.txt")
sl=$(median "$tmp/sign-local.txt")
sratio=$(median "$tmp/sign-ratio.txt")
shratio=$(median "$tmp/shared-ratio.txt")
vl=$(median "$tmp/v-local.txt"); vh=$(median "$tmp/v-http.txt"); vp=$(median "$tmp/v-pdfsig.txt")
p50=$(median "$tmp/v-p50.txt"); p99=$(median "$tmp/v-p99.txt")
vratio=$(awk -v a="$vh" -v b="$vp" 'BEGIN { printf "%.1f", a / b }')
cat <<OUT

  durable petition submissions   median $pakn petitions/s of $(paste -sd' ' "$tmp/pakn.txt")
                                 ($CLIENTS clients; petition and its audit event committed together, personal data sealed)
  pgbench insert-only            median $tps tps of $(paste -sd' ' "$tmp/pgb.txt")
                                 ($CLIENTS clients, same server, alternating with the above)
  ratio of medians               $ratio% of pgbench (target: at least 40%)
  audit chain verification       $verify events/s
  signed replies through Vault   median $sv replies/s of $(paste -sd' ' "$tmp/sign-vault.txt")
  same PDF, in-process key       median $sl replies/s of $(paste -sd' ' "$tmp/sign-local.txt")
                                 (ECDSA P-256 both; 64 concurrent signers; Vault on a CPU of its own)
  Vault / in-process, per round  median $sratio% of $(paste -sd' ' "$tmp/sign-ratio.txt") (target: at least 50%)
  the same, Vault sharing CPUs   median $shratio% of $(paste -sd' ' "$tmp/shared-ratio.txt") (Vault's request handling competes with the signers)
  Vault calls per signature      $calls (target: exactly 1)
  verification in-process        median $vl verifications/s of $(paste -sd' ' "$tmp/v-local.txt")
  verification over HTTP         median $vh verifications/s of $(paste -sd' ' "$tmp/v-http.txt")
                                 (8 concurrent requests, each audited; p50 $p50 ms, p99 $p99 ms)
  pdfsig, once per file          median $vp verifications/s of $(paste -sd' ' "$tmp/v-pdfsig.txt")
  HTTP / pdfsig                  ${vratio}x (target: at least 10x)
OUT
