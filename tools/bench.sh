#!/usr/bin/env bash
# bench.sh — `make bench`: on a fresh, durable (fsync on) PostgreSQL cluster
# and a real Vault, runs pakn's submission benchmark and pgbench's
# insert-only load on the same server in the same run, alternating them
# PAKN_BENCH_ROUNDS times (3), and prints their medians side by side; then
# signs the same reply through Vault and with an in-process key (and as
# issued, PAdES B-LTA), and
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
  go test -run '^$' -bench 'BenchmarkSubmit$' -benchtime "${SECONDS_EACH}s" ./internal/petitions | tee "$tmp/desk.txt" >&2
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
metric '^BenchmarkSignReply/vault(-[0-9]+)?$' 'replies/s' >"$tmp/sign-vault.txt"
metric 'BenchmarkSignReply/in-process' 'replies/s' >"$tmp/sign-local.txt"
paste "$tmp/sign-vault.txt" "$tmp/sign-local.txt" | awk '{ printf "%.1f\n", 100 * $1 / $2 }' >"$tmp/sign-ratio.txt"
metric '^BenchmarkSignReply/vault(-[0-9]+)?$' 'replies/s' "$tmp/sign-shared.txt" >"$tmp/shared-vault.txt"
metric 'BenchmarkSignReply/in-process' 'replies/s' "$tmp/sign-shared.txt" >"$tmp/shared-local.txt"
paste "$tmp/shared-vault.txt" "$tmp/shared-local.txt" | awk '{ printf "%.1f\n", 100 * $1 / $2 }' >"$tmp/shared-ratio.txt"
metric '^BenchmarkSignReply/vault-lta(-[0-9]+)?$' 'replies/s' >"$tmp/sign-lta.txt"
paste "$tmp/sign-lta.txt" "$tmp/sign-vault.txt" | awk '{ printf "%.1f\n", 100 * $1 / $2 }' >"$tmp/lta-ratio.txt"
calls=$( (metric '^BenchmarkSignReply/vault(-[0-9]+)?$' 'vault-calls/op'; metric '^BenchmarkSignReply/vault(-[0-9]+)?$' 'vault-calls/op' "$tmp/sign-shared.txt") | sort -u | paste -sd' ')

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
pakn=$(median "$tmp/pakn.txt")
tps=$(median "$tmp/pgb.txt")
verify=$(awk '/^BenchmarkVerifyChain/ { for (i = 1; i <= NF; i++) if ($(i+1) == "events/s") print $i }' "$tmp/audit.txt")
ratio=$(awk -v a="$pakn" -v b="$tps" 'BEGIN { printf "%.0f", 100 * a / b }')
# Hostile inputs: the verifier's time per MB on a genuine reply and on each
# crafted 20 MB input (medians of the rounds; the worst crafted input is
# compared with the genuine reply), and the genuine rate over HTTP while
# attackers held to the production limits feed crafted inputs (per-round
# pairs with the undisturbed rate).
echo "bench: verification time per MB, genuine reply and crafted 20 MB inputs, $ROUNDS rounds" >&2
go test -run '^$' -bench 'BenchmarkVerifyPerMB$' -benchtime 2s -count "$ROUNDS" ./internal/verify | tee "$tmp/permb.txt" >&2
metric 'BenchmarkVerifyPerMB/genuine' 'ms/MB' "$tmp/permb.txt" >"$tmp/permb-genuine.txt"
# name<TAB>ms/MB<TAB>ms/op for each crafted run; the worst median ms/MB and the slowest median ms/op.
awk '$1 ~ /^BenchmarkVerifyPerMB\/crafted\// { n = $1; sub(/-[0-9]+$/, "", n); sub(/^BenchmarkVerifyPerMB\/crafted\//, "", n)
  for (i = 1; i <= NF; i++) { if ($(i+1) == "ms/MB") mb = $i; if ($(i+1) == "ms/op") op = $i }
  print n "\t" mb "\t" op }' "$tmp/permb.txt" >"$tmp/permb-crafted.tsv"
cut -f1 "$tmp/permb-crafted.tsv" | sort -u >"$tmp/permb-names.txt"
: >"$tmp/permb-medians.tsv"
while IFS= read -r name; do
  awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$tmp/permb-crafted.tsv" >"$tmp/one-mb.txt"
  awk -F'\t' -v n="$name" '$1 == n { print $3 }' "$tmp/permb-crafted.tsv" >"$tmp/one-op.txt"
  printf '%s\t%s\t%s\n' "$name" "$(median "$tmp/one-mb.txt")" "$(median "$tmp/one-op.txt")" >>"$tmp/permb-medians.tsv"
done <"$tmp/permb-names.txt"
echo "bench: genuine verifications over HTTP undisturbed and under attack, $ROUNDS rounds" >&2
: >"$tmp/attack.txt"
for round in $(seq 1 "$ROUNDS"); do # one process a round: its undisturbed and attacked runs back to back
  go test -run '^$' -bench 'BenchmarkVerificationUnderAttack$' -benchtime "${SECONDS_EACH}s" ./internal/httpapi | tee -a "$tmp/attack.txt" >&2
done
metric 'BenchmarkVerificationUnderAttack/undisturbed' 'verifications/s' "$tmp/attack.txt" >"$tmp/a-calm.txt"
metric 'BenchmarkVerificationUnderAttack/attacked' 'verifications/s' "$tmp/attack.txt" >"$tmp/a-attacked.txt"
metric 'BenchmarkVerificationUnderAttack/attacked' 'hostile-verdicts' "$tmp/attack.txt" >"$tmp/a-verdicts.txt"
paste "$tmp/a-attacked.txt" "$tmp/a-calm.txt" | awk '{ printf "%.1f\n", 100 * $1 / $2 }' >"$tmp/a-ratio.txt"

# Verification: the raw floor (SHA-256 over the reply and one ECDSA verification, every core),
# the verifier in-process (register included, every core), over HTTP at 64 concurrent clients
# (each verification audited), and pdfsig once per file, on one reply as issued (B-LTA).
echo "bench: verification floor, in-process, over HTTP (64 clients) and pdfsig per file, $ROUNDS rounds" >&2
go test -run '^$' -bench 'BenchmarkVerification$' -benchtime "${SECONDS_EACH}s" -count "$ROUNDS" ./internal/httpapi | tee "$tmp/verify.txt" >&2
metric 'BenchmarkVerification/floor' 'verifications/s' "$tmp/verify.txt" >"$tmp/v-floor.txt"
metric 'BenchmarkVerification/in-process' 'verifications/s' "$tmp/verify.txt" >"$tmp/v-local.txt"
metric '^BenchmarkVerification/http-64(-[0-9]+)?$' 'verifications/s' "$tmp/verify.txt" >"$tmp/v-http.txt"
metric '^BenchmarkVerification/http-64(-[0-9]+)?$' 'p50-ms' "$tmp/verify.txt" >"$tmp/v-p50.txt"
metric '^BenchmarkVerification/http-64(-[0-9]+)?$' 'p99-ms' "$tmp/verify.txt" >"$tmp/v-p99.txt"
metric '^BenchmarkVerification/http-64-plain(-[0-9]+)?$' 'verifications/s' "$tmp/verify.txt" >"$tmp/v-plain.txt"
metric '^BenchmarkVerification/http-64-plain(-[0-9]+)?$' 'p50-ms' "$tmp/verify.txt" >"$tmp/v-plain-p50.txt"
metric '^BenchmarkVerification/http-64-plain(-[0-9]+)?$' 'p99-ms' "$tmp/verify.txt" >"$tmp/v-plain-p99.txt"
metric 'BenchmarkVerification/pdfsig' 'verifications/s' "$tmp/verify.txt" >"$tmp/v-pdfsig.txt"
# Each round's rates as shares of the same round's floor.
paste "$tmp/v-local.txt" "$tmp/v-floor.txt" | awk '{ printf "%.1f\n", 100 * $1 / $2 }' >"$tmp/v-local-ratio.txt"
paste "$tmp/v-http.txt" "$tmp/v-floor.txt" | awk '{ printf "%.1f\n", 100 * $1 / $2 }' >"$tmp/v-http-ratio.txt"
# The website's pages: server time under 50 concurrent clients and weight,
# the register holding 100,000 published replies. 10,000 requests a page, so
# a p99 is the 100th slowest answer, not the 20th.
echo "bench: website pages, 50 concurrent clients, $ROUNDS rounds" >&2
go test -run '^$' -bench 'BenchmarkPages$' -benchtime 10000x -count "$ROUNDS" ./internal/httpapi | tee "$tmp/pages.txt" >&2
pages=""
for page in home register register-search track desk-queue desk-queue-search; do
  metric "^BenchmarkPages/$page-[0-9]+$" 'server-p50-ms' "$tmp/pages.txt" >"$tmp/pg-sp50.txt"
  metric "^BenchmarkPages/$page-[0-9]+$" 'server-p99-ms' "$tmp/pages.txt" >"$tmp/pg-sp99.txt"
  metric "^BenchmarkPages/$page-[0-9]+$" 'p50-ms' "$tmp/pages.txt" >"$tmp/pg-p50.txt"
  metric "^BenchmarkPages/$page-[0-9]+$" 'p99-ms' "$tmp/pages.txt" >"$tmp/pg-p99.txt"
  metric "^BenchmarkPages/$page-[0-9]+$" 'KB' "$tmp/pages.txt" >"$tmp/pg-kb.txt"
  pages="$pages$(printf '\n  page %-16s        server time: median p50 %s ms, p99 %s ms (of %s); whole answer: p50 %s ms, p99 %s ms; %s KB' \
    "$page" "$(median "$tmp/pg-sp50.txt")" "$(median "$tmp/pg-sp99.txt")" "$(paste -sd' ' "$tmp/pg-sp99.txt")" \
    "$(median "$tmp/pg-p50.txt")" "$(median "$tmp/pg-p99.txt")" "$(median "$tmp/pg-kb.txt")")"
done
sv=$(median "$tmp/sign-vault.txt")
sl=$(median "$tmp/sign-local.txt")
sratio=$(median "$tmp/sign-ratio.txt")
slta=$(median "$tmp/sign-lta.txt"); ltaratio=$(median "$tmp/lta-ratio.txt")
vfloor=$(median "$tmp/v-floor.txt"); vlratio=$(median "$tmp/v-local-ratio.txt"); vhratio=$(median "$tmp/v-http-ratio.txt")
vplain=$(median "$tmp/v-plain.txt"); plainp50=$(median "$tmp/v-plain-p50.txt"); plainp99=$(median "$tmp/v-plain-p99.txt")
shratio=$(median "$tmp/shared-ratio.txt")
vl=$(median "$tmp/v-local.txt"); vh=$(median "$tmp/v-http.txt"); vp=$(median "$tmp/v-pdfsig.txt")
p50=$(median "$tmp/v-p50.txt"); p99=$(median "$tmp/v-p99.txt")
vratio=$(awk -v a="$vh" -v b="$vp" 'BEGIN { printf "%.1f", a / b }')
gmb=$(median "$tmp/permb-genuine.txt")
worst=$(sort -t"$(printf '\t')" -k2,2 -g "$tmp/permb-medians.tsv" | tail -1)
worst_name=$(printf '%s' "$worst" | cut -f1); worst_mb=$(printf '%s' "$worst" | cut -f2)
slowest=$(sort -t"$(printf '\t')" -k3,3 -g "$tmp/permb-medians.tsv" | tail -1)
slowest_name=$(printf '%s' "$slowest" | cut -f1); slowest_ms=$(printf '%s' "$slowest" | cut -f3)
mbratio=$(awk -v a="$worst_mb" -v b="$gmb" 'BEGIN { printf "%.2f", a / b }')
acalm=$(median "$tmp/a-calm.txt"); aatt=$(median "$tmp/a-attacked.txt"); aratio=$(median "$tmp/a-ratio.txt")
cat <<OUT

  durable petition submissions   median $pakn petitions/s of $(paste -sd' ' "$tmp/pakn.txt")
                                 ($CLIENTS clients; petition and its audit event committed together, personal data sealed)
  pgbench insert-only            median $tps tps of $(paste -sd' ' "$tmp/pgb.txt")
                                 ($CLIENTS clients, same server, alternating with the above)
  ratio of medians               $ratio% of pgbench (target: at least 60%)
  audit chain verification       $verify events/s
  signed replies through Vault   median $sv replies/s of $(paste -sd' ' "$tmp/sign-vault.txt")
  same PDF, in-process key       median $sl replies/s of $(paste -sd' ' "$tmp/sign-local.txt")
                                 (ECDSA P-256 both; 64 concurrent signers; Vault on a CPU of its own)
  Vault / in-process, per round  median $sratio% of $(paste -sd' ' "$tmp/sign-ratio.txt") (target: at least 50%)
  the same, Vault sharing CPUs   median $shratio% of $(paste -sd' ' "$tmp/shared-ratio.txt") (Vault's request handling competes with the signers)
  Vault calls per signature      $calls (target: exactly 1)
  signed as issued (B-LTA)       median $slta replies/s of $(paste -sd' ' "$tmp/sign-lta.txt")
                                 (signature and document time-stamps from pakn's authority in Vault, CAs' lists embedded)
  B-LTA / plain, per round       median $ltaratio% of $(paste -sd' ' "$tmp/lta-ratio.txt") (target: at least 60%)
  verification raw floor         median $vfloor verifications/s of $(paste -sd' ' "$tmp/v-floor.txt")
                                 (SHA-256 over the reply as issued and one ECDSA P-256 verification, every core)
  verification in-process        median $vl verifications/s of $(paste -sd' ' "$tmp/v-local.txt")
  in-process / floor, per round  median $vlratio% of $(paste -sd' ' "$tmp/v-local-ratio.txt") (target: at least 50%)
  verification over HTTP         median $vh verifications/s of $(paste -sd' ' "$tmp/v-http.txt")
                                 (the reply as issued, B-LTA; 64 concurrent clients, each verification audited; p50 $p50 ms, p99 $p99 ms of $(paste -sd' ' "$tmp/v-p99.txt"); target p99 under 50 ms)
  HTTP / floor, per round        median $vhratio% of $(paste -sd' ' "$tmp/v-http-ratio.txt") (target: at least 25%)
  the same, signature revision   median $vplain verifications/s of $(paste -sd' ' "$tmp/v-plain.txt")
                                 (without validation data and document time-stamp; p50 $plainp50 ms, p99 $plainp99 ms)
  pdfsig, once per file          median $vp verifications/s of $(paste -sd' ' "$tmp/v-pdfsig.txt")
  HTTP / pdfsig                  ${vratio}x (target: at least 10x)
  verification per MB, genuine   median $gmb ms/MB of $(paste -sd' ' "$tmp/permb-genuine.txt")
  worst crafted 20 MB input      $worst_mb ms/MB ($worst_name): ${mbratio}x the genuine reply's (target: at most 2x)
  slowest crafted 20 MB input    $slowest_ms ms ($slowest_name; target: under 2000 ms)
  genuine over HTTP, undisturbed median $acalm verifications/s of $(paste -sd' ' "$tmp/a-calm.txt")
  the same, under attack         median $aatt verifications/s of $(paste -sd' ' "$tmp/a-attacked.txt")
                                 (four attackers at production limits feeding crafted 20 MB inputs; verdicts given to them: $(paste -sd' ' "$tmp/a-verdicts.txt"))
  attacked / undisturbed, per round median $aratio% of $(paste -sd' ' "$tmp/a-ratio.txt") (target: at least 80%)
  website pages, 50 concurrent clients (target: server p99 under 50 ms, under 60 KB each); the desk's queue, 20 concurrent staff (target: server p99 under 100 ms)$pages
OUT
