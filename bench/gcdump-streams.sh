#!/usr/bin/env bash
# The proxy's managed objects per held stream: for each given proxy build, one fresh proxy on the same
# simulator pair, a warm-up, then GCDUMP_STREAMS streams of GCDUMP_OUTPUT_LEN tokens held at once, and a
# `dotnet-gcdump` of the proxy taken once they are open (the tool forces a full blocking GC,
# so only live objects are counted). Writes gcdump-<label>.gcdump, its `report` (types by size) and
# per-type diffs of every build against the first (bytes and counts per stream) to $OUT.
#
# Usage: bench/gcdump-streams.sh 'label|ENV=v ...|proxy.dll' ...   (as bench/memory-ab.sh; the first is the reference;
# a proxy.dll of 'baseline' runs bench/baselines/PdApp.Bench.MinimalProxy instead)
# Environment: GCDUMP_STREAMS (1000), GCDUMP_OUTPUT_LEN (600), GCDUMP_AFTER (3 s after 98 % of the streams are open), MEM_ITL_MS (50), SKIP_BUILD, OUT;
# ports PROXY_PORT, PREFILL_PORT, DECODE_PORT. Needs dotnet-gcdump (`dotnet tool install -g dotnet-gcdump`).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

GCDUMP_STREAMS="${GCDUMP_STREAMS:-1000}"
GCDUMP_OUTPUT_LEN="${GCDUMP_OUTPUT_LEN:-600}"
GCDUMP_AFTER="${GCDUMP_AFTER:-3}"
MEM_ITL_MS="${MEM_ITL_MS:-50}"
GCDUMP="${GCDUMP:-$(command -v dotnet-gcdump || echo "$HOME/.dotnet/tools/dotnet-gcdump")}"
(( $# > 0 )) || die "usage: $0 'label|ENV=v ...|[proxy.dll]' ..."
[[ -x "$GCDUMP" ]] || die "dotnet-gcdump not found (set GCDUMP)"

init_run gcdump-streams
build_all
PREFILL="http://$HOST:$PREFILL_PORT" DECODE="http://$HOST:$DECODE_PORT"
start_stream_pair "$MEM_ITL_MS" "$GCDUMP_STREAMS"

labels=()
for spec in "$@"; do
  IFS='|' read -r label env dll <<<"$spec"
  labels+=("$label")
  if [[ "$dll" == baseline ]]; then
    # The bare forwarder (bench/baselines), for what a stream costs without the proxy's own objects.
    port_free "$PROXY_PORT" || die "port $PROXY_PORT is in use"
    read -ra envs <<<"$env"
    env "${envs[@]}" dotnet "$BENCH_DIR/baselines/PdApp.Bench.MinimalProxy/bin/$CONFIGURATION/net10.0/PdApp.Bench.MinimalProxy.dll" \
      --urls "http://$HOST:$PROXY_PORT" --Prefill="$PREFILL" --Decode="$DECODE" --Logging:LogLevel:Default=Warning \
      >"$OUT/logs/baseline.log" 2>&1 &
    pid=$!
    STARTED_PIDS+=("$pid")
    wait_ready "http://$HOST:$PROXY_PORT/health"
  else
    PROXY_DLL="${dll:-$PROXY_DLL}" PROXY_ENV="$env" start_proxy "$PROXY_PORT" "$PREFILL_PORT" "$DECODE_PORT" \
      --Pd:Proxy:Admission:MaxConcurrentRequests=$(( GCDUMP_STREAMS * 2 )) --Pd:Proxy:Admission:MaxQueueLength=$(( GCDUMP_STREAMS * 2 )) \
      --Pd:Proxy:Health:Enabled=false
    pid=$PROXY_PID
    wait_ready "http://$HOST:$PROXY_PORT/health"
  fi
  run_bench 120 --base-url "http://$HOST:$PROXY_PORT" --model "$MODEL" --input-len 128 --output-len 8 --ignore-eos \
    --max-concurrency 64 --num-prompts 200 >"$OUT/warmup-$label.txt"
  run_bench 300 --base-url "http://$HOST:$PROXY_PORT" --model "$MODEL" --input-len 128 --output-len "$GCDUMP_OUTPUT_LEN" \
    --ignore-eos --max-concurrency "$GCDUMP_STREAMS" --num-prompts "$GCDUMP_STREAMS" --timeout 5m \
    --output-json "$OUT/streams-$label.json" >"$OUT/streams-$label.txt" &
  client=$!
  # Wait until (nearly) every stream is open, then GCDUMP_AFTER seconds more.
  for _ in $(seq 1 240); do
    (( $(ss -Htn state established "( sport = :$PROXY_PORT )" | wc -l) >= GCDUMP_STREAMS * 98 / 100 )) && break
    sleep 0.5
  done
  sleep "$GCDUMP_AFTER"
  printf '%s\tstreams open at the dump: %s\n' "$label" "$(ss -Htn state established "( sport = :$PROXY_PORT )" | wc -l)" >>"$OUT/rss.txt"
  printf '%s\tVmRSS before dump %s kB\n' "$label" "$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status")" >>"$OUT/rss.txt"
  "$GCDUMP" collect -p "$pid" -o "$OUT/gcdump-$label.gcdump" >"$OUT/logs/gcdump-$label.log" 2>&1 || die "gcdump of $label failed"
  "$GCDUMP" report "$OUT/gcdump-$label.gcdump" >"$OUT/report-$label.txt" 2>&1
  wait "$client" || true
  stop_pid "$pid"
done

# report lines: "<bytes per object> <count> <type>"; per-type totals (bytes x count) diffed against the first label, per stream.
totals() { awk '$1 ~ /^[0-9,]+$/ && $2 ~ /^[0-9,]+$/ { s = $1; c = $2; gsub(",", "", s); gsub(",", "", c); $1 = ""; $2 = ""; printf "%d\t%d\t%s\n", s * c, c, substr($0, 3) }' "$1"; }
ref="${labels[0]}"
for label in "${labels[@]}"; do
  totals "$OUT/report-$label.txt" | awk -F'\t' -v l="$label" '{ b += $1; o += $2 } END { printf "%s\theap %d B\t%d objects\n", l, b, o }' >>"$OUT/heaps.txt"
done
for label in "${labels[@]:1}"; do
  { totals "$OUT/report-$ref.txt"; echo "--"; totals "$OUT/report-$label.txt"; } | awk -F'\t' -v n="$GCDUMP_STREAMS" '
    $0 == "--" { second = 1; next }
    { if (second) { bb[$3] += $1; bc[$3] += $2 } else { rb[$3] += $1; rc[$3] += $2 }; seen[$3] = 1 }
    END {
      for (t in seen) { d = bb[t] - rb[t]; if (d >= 16 * n || d <= -16 * n) printf "%+10.1f B/stream\t%+8.2f obj/stream\t%s\n", d / n, (bc[t] - rc[t]) / n, t; total += d }
      printf "%+10.1f B/stream\t\ttotal (all types)\n", total / n
    }' | sort -g >"$OUT/diff-$ref-vs-$label.txt"
  log "diff $ref -> $label: $OUT/diff-$ref-vs-$label.txt"
done
log "done"
