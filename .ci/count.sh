#!/usr/bin/env bash
# Prints "PASSED FAILED" from the closing lines of a node:test run's output (file $1), or nothing when it
# has none. node:test closes with "# pass N" / "# fail N" (the TAP reporter, Node 20's default when the
# output is not a terminal) or "ℹ pass N" / "ℹ fail N" (the spec reporter, the default from Node 23 on);
# colour codes are ignored. Cancelled tests (a time-out, a failed hook) did not pass: they count as failed.
# The last closing lines are taken, which are the whole run's totals.
set -euo pipefail
sed -E $'s/\x1b\\[[0-9;]*m//g' "${1:?usage: count.sh LOG}" | awk '
  function total(name) { return name in last ? last[name] : 0 }
  /^(#|ℹ) / && $2 ~ /^(pass|fail|cancelled)$/ && $3 ~ /^[0-9]+$/ && NF == 3 { last[$2] = $3; seen = 1 }
  END { if (seen) print total("pass"), total("fail") + total("cancelled") }'
