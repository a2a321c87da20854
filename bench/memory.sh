#!/usr/bin/env bash
# Proxy memory under many concurrent long streams: 1000 streams held open through the proxy at
# once, each relaying OUTPUT_LEN tokens ITL_MS apart (about 10 s per stream by default).
# Reports the proxy's resident memory (VmRSS sampled every 0.5 s from /proc/<pid>/status, and
# VmHWM, the kernel's high-water mark) and managed allocations per request from the proxy's own
# runtime metrics (the OpenTelemetry runtime instrumentation on /metrics; no dotnet-counters).
#
# Target (issue 7): proxy RSS <= 200 MB with 1000 concurrent streams.
#
# Also reports the RSS cold (before any request) and, with SETTLE_SECONDS > 0, that long after the
# streams end (what the proxy gives back once idle, e.g. through Pd:Proxy:Memory's idle trim).
#
# Environment: CONCURRENCY (1000), OUTPUT_LEN (200), ITL_MS (50), INPUT_LEN (128),
# RUN_TIMEOUT (240 s), SETTLE_SECONDS (0), PROXY_ENV (see lib/common.sh), SKIP_BUILD, OUT. Ports: PROXY_PORT (8000), PREFILL_PORT (8100), DECODE_PORT (8200).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

CONCURRENCY="${CONCURRENCY:-1000}"
OUTPUT_LEN="${OUTPUT_LEN:-200}"
ITL_MS="${ITL_MS:-50}"
INPUT_LEN="${INPUT_LEN:-128}"
RUN_TIMEOUT="${RUN_TIMEOUT:-240}"
SETTLE_SECONDS="${SETTLE_SECONDS:-0}"

init_run memory
build_all

start_stream_pair "$ITL_MS" "$CONCURRENCY"
start_proxy "$PROXY_PORT" "$PREFILL_PORT" "$DECODE_PORT" \
  --Pd:Proxy:Admission:MaxConcurrentRequests=$(( CONCURRENCY * 2 )) --Pd:Proxy:Admission:MaxQueueLength=$(( CONCURRENCY * 2 ))
wait_ready "http://$HOST:$PROXY_PORT/health"

# phase <name>: the proxy's resident memory split (anonymous vs file-backed pages) and thread count, to phases.tsv.
phase() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$(status_kb "$PROXY_PID" VmRSS)" "$(status_kb "$PROXY_PID" RssAnon)" \
  "$(status_kb "$PROXY_PID" RssFile)" "$(status_kb "$PROXY_PID" Threads)" >>"$OUT/phases.tsv"; }
runtime_metrics() { curl -fsS --max-time 5 "http://$HOST:$PROXY_PORT/metrics" | grep -E '^(dotnet|process_runtime_dotnet)_' || true; }
allocated_bytes() {
  # .NET 9+ runtime meter name first, then the older OpenTelemetry instrumentation's.
  awk '/^dotnet_gc_heap_total_allocated_bytes(_total)?[ {]/ { print $NF; exit }
       /^process_runtime_dotnet_gc_allocations_size_bytes(_total)?[ {]/ { print $NF; exit }' "$1"
}

sleep 2
cold_rss=$(status_kb "$PROXY_PID" VmRSS)
printf 'phase\trss_kb\tanon_kb\tfile_kb\tthreads\n' >"$OUT/phases.tsv"
phase cold

# Warm the proxy (JIT, connection pools) so the measured allocations are the steady state.
run_bench 120 --base-url "http://$HOST:$PROXY_PORT" --model "$MODEL" --random-input-len "$INPUT_LEN" --random-output-len 8 --ignore-eos \
  --max-concurrency 64 --num-prompts 200 >"$OUT/warmup.txt"
sleep 2
idle_rss=$(status_kb "$PROXY_PID" VmRSS)
phase warm
runtime_metrics >"$OUT/metrics-before.txt"

# Sample the proxy's RSS while the streams run.
( while kill -0 "$PROXY_PID" 2>/dev/null; do
    printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%s.%N | cut -c1-14)" "$(status_kb "$PROXY_PID" VmRSS)" "$(status_kb "$PROXY_PID" RssAnon)" \
      "$(status_kb "$PROXY_PID" RssFile)" "$(status_kb "$PROXY_PID" Threads)"; sleep 0.5
  done ) >"$OUT/rss.tsv" &
SAMPLER=$!
STARTED_PIDS+=("$SAMPLER")

run_bench "$RUN_TIMEOUT" --base-url "http://$HOST:$PROXY_PORT" --model "$MODEL" --random-input-len "$INPUT_LEN" --random-output-len "$OUTPUT_LEN" \
  --ignore-eos --max-concurrency "$CONCURRENCY" --num-prompts "$CONCURRENCY" --timeout 5m \
  --output-json "$OUT/streams.json" >"$OUT/streams.txt"

runtime_metrics >"$OUT/metrics-after.txt"
kill "$SAMPLER" 2>/dev/null || true
phase end
sort -t$'\t' -k2,2n "$OUT/rss.tsv" | tail -1 | awk -F'\t' '{ printf "peak\t%s\t%s\t%s\t%s\n", $2, $3, $4, $5 }' >>"$OUT/phases.tsv"
hwm=$(status_kb "$PROXY_PID" VmHWM)
peak=$(cut -f2 "$OUT/rss.tsv" | sort -n | tail -1)
settled="-"
if (( SETTLE_SECONDS > 0 )); then
  log "waiting ${SETTLE_SECONDS}s for the settled RSS"
  sleep "$SETTLE_SECONDS"
  phase "settled-${SETTLE_SECONDS}s"
  settled=$(awk -v k="$(status_kb "$PROXY_PID" VmRSS)" 'BEGIN { printf "%.1f", k / 1024 }')
fi
completed=$(jq '.runs[0].completed' "$OUT/streams.json")
failed=$(jq '.runs[0].failed' "$OUT/streams.json")
before=$(allocated_bytes "$OUT/metrics-before.txt"); after=$(allocated_bytes "$OUT/metrics-after.txt")
per_request="n/a (allocation counter not found on /metrics)"
if [[ -n "$before" && -n "$after" && "$completed" -gt 0 ]]; then
  per_request=$(awk -v a="$after" -v b="$before" -v n="$completed" 'BEGIN { printf "%.1f KiB", (a - b) / n / 1024 }')
fi

{
  echo "| streams | completed | failed | tokens/stream | proxy RSS cold (MB) | proxy RSS idle after warm-up (MB) | proxy RSS peak sampled (MB) | proxy VmHWM (MB) | proxy RSS ${SETTLE_SECONDS} s after (MB) | managed allocations per request |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -v c="$CONCURRENCY" -v ok="$completed" -v f="$failed" -v t="$OUTPUT_LEN" -v k="$cold_rss" -v i="$idle_rss" -v p="$peak" -v h="$hwm" -v s="$settled" -v a="$per_request" \
    'BEGIN { printf "| %d | %d | %d | %d | %.1f | %.1f | %.1f | %.1f | %s | %s |\n", c, ok, f, t, k/1024, i/1024, p/1024, h/1024, s, a }'
} | tee "$OUT/summary.md"
log "done: $OUT/summary.md"
