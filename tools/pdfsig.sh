#!/usr/bin/env bash
# pdfsig.sh FILE.pdf — checks a signed reply with poppler's pdfsig, trusting
# only pakn's root CA (certs/pakn-root-ca.pem, or $PAKN_ROOT_CA) through a
# throw-away NSS database. Read the report: "Signature is Valid.",
# "Certificate is Trusted." and "Total document signed" are what a genuine,
# unaltered reply shows (pdfsig's exit status does not say so).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -eq 1 ] || { echo "usage: tools/pdfsig.sh FILE.pdf" >&2; exit 2; }
"$ROOT/tools/stack.sh" pdf-tools
ca=${PAKN_ROOT_CA:-$ROOT/certs/pakn-root-ca.pem}
[ -s "$ca" ] || { echo "pdfsig.sh: no root CA at $ca (run make run or pakn bootstrap first)" >&2; exit 2; }
db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
certutil -N -d "sql:$db" --empty-password
certutil -A -d "sql:$db" -n "pakn root" -t "C,C,C" -i "$ca"
pdfsig -nssdir "sql:$db" "$1"
