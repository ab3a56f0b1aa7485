#!/usr/bin/env bash
# screenshots.sh — `make screenshots`: runs the website's and the desk's browser tests with
# the real stack (as `make test` does) saving every page they visit at 375 and
# 1280 px into .cache/screenshots/, then copies the few the README shows into
# docs/screenshots/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
out="$ROOT/.cache/screenshots"
rm -rf "$out"; mkdir -p "$out" "$ROOT/docs/screenshots"
PAKN_SCREENSHOTS_DIR=$out tools/test.sh -run '^(TestCitizenSendsFollowsAndVerifies|TestWebsiteInEnglishMistakesAndKeyboard|TestOfficialsFirstDayAtTheDesk|TestTheWholeDayOfAReply|TestAnAdministratorsDay|TestTwoAdministratorsForOnePower)$' ./cmd/paknd
cp "$out/submit-errors-375-top.png" "$ROOT/docs/screenshots/submit-errors.png"
for page in receipt track-answered verify-genuine; do
  cp "$out/$page-375.png" "$ROOT/docs/screenshots/$page.png"
done
for page in desk-queue desk-petition desk-admin-account desk-admin-requests; do
  cp "$out/$page-1280.png" "$ROOT/docs/screenshots/$page.png"
done
echo "screenshots: every page in $out; the README's in docs/screenshots/" >&2
