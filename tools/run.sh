#!/usr/bin/env bash
# run.sh — `make run`: brings up PostgreSQL and Vault (unless PAKN_DATABASE_URL
# / VAULT_ADDR point at existing ones), migrates, bootstraps Vault, seeds the
# demo data, starts paknd and prints its URLs. Ctrl-C stops everything it
# started; state is kept in .data/, so the next `make run` finds it again.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DATA="$ROOT/.data"
STACK="$ROOT/tools/stack.sh"
mkdir -p "$DATA" "$ROOT/bin"
chmod 755 "$DATA"

started_pg=0 started_vault=0 paknd_pid=
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$paknd_pid" ] && kill -0 "$paknd_pid" 2>/dev/null; then
    kill -TERM "$paknd_pid" 2>/dev/null || true
    wait "$paknd_pid" 2>/dev/null || true
  fi
  [ "$started_vault" = 1 ] && "$STACK" vault-down "$DATA/vault"
  [ "$started_pg" = 1 ] && "$STACK" pg-down "$DATA/pg"
  echo "run: stopped" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "run: building pakn and paknd" >&2
go build -o "$ROOT/bin/paknd" ./cmd/paknd
go build -o "$ROOT/bin/pakn" ./cmd/pakn
PAKN="$ROOT/bin/pakn"

if [ -z "${PAKN_DATABASE_URL:-}" ]; then
  "$STACK" pg-up "$DATA/pg"; started_pg=1
  set -a; . "$DATA/pg/env"; set +a
elif [ -z "${PAKN_DATABASE_OWNER_URL:-}" ]; then
  echo "run: PAKN_DATABASE_URL is set, so PAKN_DATABASE_OWNER_URL must be too (to migrate)" >&2; exit 1
fi

vault_audit_log=
if [ -z "${VAULT_ADDR:-}" ]; then
  "$STACK" vault-up "$DATA/vault" file; started_vault=1
  set -a; . "$DATA/vault/env"; set +a
  VAULT_TOKEN=$PAKN_VAULT_ROOT_TOKEN
  vault_audit_log="$DATA/vault/audit.log"
elif [ -z "${VAULT_TOKEN:-}" ]; then
  echo "run: VAULT_ADDR is set, so VAULT_TOKEN (an operator token, for bootstrap) must be too" >&2; exit 1
fi

"$PAKN" migrate
VAULT_TOKEN=$VAULT_TOKEN "$PAKN" bootstrap -certs-dir "$ROOT/certs" -creds-dir "$DATA/vault/creds" \
  ${vault_audit_log:+-vault-audit-log "$vault_audit_log"}
export PAKN_ADDR=${PAKN_ADDR:-127.0.0.1:8080}
export PAKN_METRICS_ADDR=${PAKN_METRICS_ADDR:-127.0.0.1:9464}
base="http://$PAKN_ADDR"
if [ ! -s "$DATA/audit.key" ]; then
  (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DATA/audit.key")
fi
# The audit key also keys the blind index of citizens' words (the demo petition's too).
export PAKN_AUDIT_KEY_FILE="$DATA/audit.key"
# The demo reply is signed through Vault with paknd's own AppRole login.
VAULT_TOKEN=$VAULT_TOKEN "$PAKN" seed -demo -demo-reply "$DATA/demo-reply.txt" -public-url "$base" -vault-creds-dir "$DATA/vault/creds" -certs "$ROOT/certs"

export PAKN_VAULT_ROLE_ID; PAKN_VAULT_ROLE_ID=$(cat "$DATA/vault/creds/paknd-role-id")
export PAKN_VAULT_SECRET_ID_FILE="$DATA/vault/creds/paknd-secret-id"
# The demo's operator, named in the website's personal-data notice.
export PAKN_OPERATOR_NAME=${PAKN_OPERATOR_NAME:-"Sở Tư pháp thành phố Hà Nội (bản chạy thử)"}
export PAKN_OPERATOR_CONTACT=${PAKN_OPERATOR_CONTACT:-"dulieucanhan@example.vn"}
# paknd logs in with AppRole; the operator token stays with this script.
env -u VAULT_TOKEN -u PAKN_VAULT_ROOT_TOKEN -u PAKN_PG_SUPERUSER_URL -u PAKN_DATABASE_OWNER_URL \
  "$ROOT/bin/paknd" &
paknd_pid=$!

for _ in $(seq 1 100); do
  if curl -fsS "$base/readyz" >/dev/null 2>&1; then break; fi
  kill -0 "$paknd_pid" 2>/dev/null || { echo "run: paknd exited" >&2; exit 1; }
  sleep 0.2
done
curl -fsS "$base/readyz" >/dev/null || { echo "run: paknd did not become ready" >&2; exit 1; }

demo() { sed -n "s/^$1=//p" "$DATA/demo-reply.txt"; }
reply_id=$(demo reply_id)
curl -fsS -o "$DATA/demo-reply.pdf" "$base/api/v1/register/replies/$reply_id/pdf" ||
  echo "run: the demo reply was signed before replies had a public version, so the public register does not serve it; make clean-data gives a fresh demo" >&2

cat >&2 <<MSG

  pakn is running.
    website        $base/   (send a petition, follow it, check a reply; English: $base/?lang=en)
    staff desk     $base/desk/   (demo-official, demo-reviewer, demo-signer, demo-admin, demo-auditor of STP-HN;
                   demo-admin's administration: $base/desk/admin/;
                   their one-time passwords are printed above the first time; a new one:
                   set -a; . .data/pg/env; set +a; bin/pakn user reset-password -username demo-official)
    API            $base/api/v1/   (described by $base/api/v1/openapi.json)
    health         $base/healthz
    readiness      $base/readyz
    metrics        http://$PAKN_METRICS_ADDR/metrics  (its own loopback listener, for monitoring)
    Vault          $VAULT_ADDR (development server; root token in .data/vault/init.json)
    trust anchors  certs/pakn-root-ca.pem, certs/pakn-issuing-ca.pem (time-stamping authority: certs/tsa/pakn-tsa.pem)
    audit check    set -a; . .data/pg/env; set +a; bin/pakn audit verify

  Demo signed reply $(demo number), petition $(demo tracking_code) (lookup secret $(demo lookup_secret)):
    follow it        $base/track   (type the code and the secret above)
    public register  $base/api/v1/register/replies/$reply_id/pdf  (saved as .data/demo-reply.pdf)
    petitioner       curl -o reply.pdf -H 'Content-Type: application/json' -X POST $base/api/v1/petitions/reply \\
                       -d '{"tracking_code":"$(demo tracking_code)","lookup_secret":"$(demo lookup_secret)"}'
    verify page      $base/verify/$reply_id   (where its QR code leads; upload the PDF there)
    verify (API)     curl -H 'Content-Type: application/pdf' --data-binary @.data/demo-reply.pdf $base/api/v1/verifications
    verify (CLI)     set -a; . .data/pg/env; set +a; VAULT_ADDR=$VAULT_ADDR bin/pakn verify .data/demo-reply.pdf
    pdfsig           tools/pdfsig.sh .data/demo-reply.pdf   (poppler, trusting only certs/pakn-root-ca.pem)
    SHA-256          $(demo sha256)

  Press Ctrl-C to stop; data is kept in .data/.
MSG
wait "$paknd_pid"
