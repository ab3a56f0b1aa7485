#!/usr/bin/env bash
# fuzz.sh — `make fuzz`: runs every Fuzz target for FUZZTIME each (default
# 5m; e.g. `make fuzz FUZZTIME=1h`), or only FuzzVerify with TARGET=FuzzVerify.
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
