#!/bin/sh
# Runs one export (`selligent-export run "$@"`) and retries it only when a retry can help.
#
# digdag's `_retry` retries a task on any non-zero exit; it cannot tell a transient failure from a
# wrong setting. Use this wrapper instead of `_retry` when permanent errors should fail the task at once:
#
#   exit 5  transient (Selligent 429/5xx, time-outs, network, after the exporter's own per-request
#           retries; or the run was stopped by a signal). Nothing half-done is left behind that a rerun
#           would not converge: retried here, with an exponential wait.
#   exit 6  partial: writes happened, then a stage failed or rejections exceeded the tolerance. A rerun
#           converges (List loads are keyed upserts, Segment loads add members), but read the report
#           first: not retried.
#   exit 2, 3, 4  configuration, input data, credentials/permissions: a rerun fails the same way: not retried.
#   exit 1  a bug: not retried.
#
# Environment: EXPORT_RETRY_LIMIT (extra attempts, default 3), EXPORT_RETRY_INTERVAL (seconds before the
# first extra attempt, default 120; doubled each time: 120, 240, 480).
#
# SIGTERM/SIGINT are passed on to the running exporter, which stops after the request in flight and
# writes its report; no retry follows a signal.

limit=${EXPORT_RETRY_LIMIT:-3}
interval=${EXPORT_RETRY_INTERVAL:-120}
stopping=0
child=

forward() {
  stopping=1
  if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; fi
}
trap forward TERM INT

attempt=1
while :; do
  selligent-export run "$@" &
  child=$!
  wait "$child"
  code=$?
  # `wait` returns early when a signal arrives; wait again for the exporter's own exit code.
  while kill -0 "$child" 2>/dev/null; do
    wait "$child"
    code=$?
  done
  child=

  if [ "$code" -ne 5 ] || [ "$stopping" -eq 1 ] || [ "$attempt" -gt "$limit" ]; then
    break
  fi
  echo "selligent_export.sh: exit 5 (transient); attempt $((attempt + 1)) of $((limit + 1)) in ${interval}s" >&2
  sleep "$interval" &
  child=$!
  wait "$child"
  child=
  if [ "$stopping" -eq 1 ]; then
    break
  fi
  attempt=$((attempt + 1))
  interval=$((interval * 2))
done

case $code in
  0) ;;
  2) echo "selligent_export.sh: exit 2: configuration error; fix the settings or environment (not retried)" >&2 ;;
  3) echo "selligent_export.sh: exit 3: input data error; fix the query or its export (not retried)" >&2 ;;
  4) echo "selligent_export.sh: exit 4: authentication or permission failure (not retried)" >&2 ;;
  5) if [ "$stopping" -eq 1 ]; then
       echo "selligent_export.sh: exit 5: stopped by a signal; running again later is safe" >&2
     else
       echo "selligent_export.sh: exit 5: still failing after $attempt attempt(s); running again later is safe" >&2
     fi ;;
  6) echo "selligent_export.sh: exit 6: partial failure; read the report, then run again to converge (not retried)" >&2 ;;
  *) echo "selligent_export.sh: exit $code (not retried)" >&2 ;;
esac
exit "$code"
