#!/usr/bin/env bash
# Prints "PASSED FAILED" from the closing blocks of the node:test runs in a step's output (file $1), or
# nothing when it has none. node:test closes a run with a block of "# tests N", "# suites N", "# pass N",
# "# fail N", "# cancelled N", ... "# duration_ms N" (the TAP reporter, Node 20's default when the output
# is not a terminal), or the same lines after "ℹ" (the spec reporter, the default from Node 23 on);
# colour codes are ignored. A step may run node:test more than once (the Ceph RGW step runs two
# suites): every closing block counts. Only a whole block counts, from its "tests" line to its
# "duration_ms" line, so a test's own output that happens to read "# pass 3" is not taken for a total.
# Cancelled tests (a time-out, a failed hook) did not pass: they count as failed.
set -euo pipefail
sed -E $'s/\x1b\\[[0-9;]*m//g' "${1:?usage: count.sh LOG}" | awk '
  /^(#|ℹ) / && NF == 3 && $3 ~ /^[0-9.]+$/ {
    if ($2 == "tests") { open = 1; delete block; next }
    if (!open) next
    if ($2 == "duration_ms") {
      pass += block["pass"]; fail += block["fail"] + block["cancelled"]; seen = 1; open = 0
    } else block[$2] = $3
    next
  }
  { open = 0 }
  END { if (seen) print pass + 0, fail + 0 }'
