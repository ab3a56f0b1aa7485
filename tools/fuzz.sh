#!/usr/bin/env bash
# fuzz.sh — `make fuzz`: runs every Fuzz target for FUZZTIME each (default
# 5m; e.g. `make fuzz FUZZTIME=1h`, or a count of executions such as
# FUZZTIME=1000000x), or only FuzzVerify with TARGET=FuzzVerify. With Go 1.26 a
# duration can end in a bare "context deadline exceeded" with no failing input
# written (golang/go#75804, the fuzz coordinator's own race, fixed in Go 1.27):
# that is not a finding; a count never hits it.
# The targets are pure (no database or Vault). New failures are written to
# the package's testdata/fuzz folder by the go command: commit them.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
"$ROOT/tools/stack.sh" pdf-tools
FUZZTIME=${FUZZTIME:-5m}
# Large inputs (whole PDFs) make minimising each new input slow; keep it short.
MINIMIZE=${FUZZMINIMIZETIME:-5s}
grep -rl --include='*_test.go' '^func Fuzz' internal cmd | sort | while read -r f; do
  pkg=./$(dirname "$f")
  for t in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do
    if [ -n "${TARGET:-}" ] && [ "$t" != "$TARGET" ]; then continue; fi
    echo "fuzz: $t in $pkg for $FUZZTIME" >&2
    go test -run '^$' -fuzz "^$t\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$MINIMIZE" "$pkg"
  done
done
