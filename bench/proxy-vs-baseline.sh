#!/usr/bin/env bash
# The PD proxy against the floor: the same prefill/decode simulators served three ways in one run,
#   direct   - the bench client does prefill + decode itself (--pd-direct),
#   proxy    - src/PdApp.Proxy,
#   baseline - bench/baselines/PdApp.Bench.MinimalProxy, the least a PD proxy can do in .NET
#              (one prefill POST, then YARP's IHttpForwarder to decode; no routing, no telemetry),
# and measured for:
#   1. TTFT p50 at LEVELS streams (1 64 256): proxy and baseline each interleaved with direct;
#   2. CPU time per request: utime+stime of the proxy's and the baseline's process (/proc/PID/stat)
#      over CPU_REQUESTS requests at SAT_CONCURRENCY streams, ROUNDS rounds, targets alternating;
#      the simulators' CPU per request alongside (it should not depend on the target);
#   3. throughput at saturation: the same runs' requests/s (each target alone), and the managed
#      allocations per request of proxy and baseline over the same runs;
#   4. peak RSS with MEM_STREAMS (1000) concurrent streams: proxy and baseline restarted fresh on a
#      simulator pair with memory.sh's settings (ITL 50 ms, 200 tokens), so the figure compares
#      with memory.sh's.
#
# Targets (issue 11 item 7): proxy CPU per request <= 1.1x the baseline's; proxy throughput at
# saturation >= 0.97x the baseline's; proxy TTFT p50 at 1 stream <= 0.5 ms over direct; proxy
# peak RSS at 1000 streams <= 150 MB.
#
# Environment: LEVELS ("1 64 256"), INPUT_LEN (256), OUTPUT_LEN (32), MIN_PROMPTS (100),
# SAT_CONCURRENCY (256), CPU_REQUESTS (3000), ROUNDS (2), MEM_STREAMS (1000), MEM_OUTPUT_LEN (200),
# MEM_ITL_MS (50), SKIP_MEMORY (0), RUN_TIMEOUT (180 s per bench run), SKIP_BUILD, OUT,
# PROXY_CPUS/WORKLOAD_CPUS (pinning; the baseline gets PROXY_CPUS too). Ports: PROXY_PORT (8000),
# BASELINE_PORT (8001), PREFILL_PORT (8100), DECODE_PORT (8200).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

LEVELS="${LEVELS:-1 64 256}"
INPUT_LEN="${INPUT_LEN:-256}"
OUTPUT_LEN="${OUTPUT_LEN:-32}"
MIN_PROMPTS="${MIN_PROMPTS:-100}"
SAT_CONCURRENCY="${SAT_CONCURRENCY:-256}"
CPU_REQUESTS="${CPU_REQUESTS:-3000}"
ROUNDS="${ROUNDS:-2}"
MEM_STREAMS="${MEM_STREAMS:-1000}"
MEM_OUTPUT_LEN="${MEM_OUTPUT_LEN:-200}"
MEM_ITL_MS="${MEM_ITL_MS:-50}"
SKIP_MEMORY="${SKIP_MEMORY:-0}"
RUN_TIMEOUT="${RUN_TIMEOUT:-180}"
BASELINE_PORT="${BASELINE_PORT:-8001}"
BASELINE_PROJECT="$BENCH_DIR/baselines/PdApp.Bench.MinimalProxy"
BASELINE_DLL="$BASELINE_PROJECT/bin/$CONFIGURATION/net10.0/PdApp.Bench.MinimalProxy.dll"
CLK_TCK=$(getconf CLK_TCK)

init_run proxy-vs-baseline
build_all
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  log "building PdApp.Bench.MinimalProxy ($CONFIGURATION)"
  dotnet build "$BASELINE_PROJECT" -c "$CONFIGURATION" -nologo -v quiet >"$OUT/logs/build-baseline.log" 2>&1 \
    || die "build of the baseline failed (see $OUT/logs/build-baseline.log)"
fi
[[ -f "$BASELINE_DLL" ]] || die "missing $BASELINE_DLL"

PREFILL="http://$HOST:$PREFILL_PORT" DECODE="http://$HOST:$DECODE_PORT"
PROXY="http://$HOST:$PROXY_PORT" BASELINE="http://$HOST:$BASELINE_PORT"

# start_baseline: the minimal proxy in front of the same pair, pinned like the proxy.
start_baseline() {
  port_free "$BASELINE_PORT" || die "port $BASELINE_PORT is in use"
  pin_prefix "$PROXY_CPUS"
  "${PIN[@]}" dotnet "$BASELINE_DLL" --urls "$BASELINE" --Prefill="$PREFILL" --Decode="$DECODE" \
    --Connector=SharedStorageConnector >"$OUT/logs/baseline-$1.log" 2>&1 &
  BASELINE_PID=$!
  STARTED_PIDS+=("$BASELINE_PID")
  log "started baseline on $BASELINE (pid $BASELINE_PID)"
}

# start_pair <phase> <simulator flags...>: both simulators, the proxy (with PROXY_EXTRA settings)
# and the baseline, all ready.
PROXY_EXTRA=()
start_pair() {
  local phase="$1"; shift
  start_simulator "prefill-$phase" "$PREFILL_PORT" kv_producer "$@"
  start_simulator "decode-$phase" "$DECODE_PORT" kv_consumer "$@"
  PREFILL_PID=${STARTED_PIDS[-2]} DECODE_PID=${STARTED_PIDS[-1]}
  wait_ready "$PREFILL/health"
  wait_ready "$DECODE/health"
  start_proxy "$PROXY_PORT" "$PREFILL_PORT" "$DECODE_PORT" \
    --Pd:Proxy:Admission:MaxConcurrentRequests=4096 --Pd:Proxy:Admission:MaxQueueLength=4096 "${PROXY_EXTRA[@]}"
  mv "$OUT/logs/proxy.log" "$OUT/logs/proxy-$phase.log" 2>/dev/null || true
  start_baseline "$phase"
  wait_ready "$PROXY/health"
  wait_ready "$BASELINE/health"
}

# cpu_ticks <pid>: utime + stime (fields 14 and 15 of /proc/PID/stat, after the command name).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# allocated_bytes <target>: the process's managed allocations so far (proxy: its Prometheus
# dotnet_gc_heap_total_allocated_bytes_total; baseline: its /allocated-bytes), 0 for direct.
allocated_bytes() {
  case "$1" in
    proxy) curl -fsS --max-time 10 "$PROXY/metrics" | awk '!found && $1 ~ /^dotnet_gc_heap_total_allocated_bytes_total/ { printf "%.0f\n", $2; found = 1 }' ;;
    baseline) curl -fsS --max-time 10 "$BASELINE/allocated-bytes" ;;
    *) echo 0 ;;
  esac
}
target_args() {
  case "$1" in
    direct) echo "--pd-direct $PREFILL $DECODE" ;;
    proxy) echo "--base-url $PROXY" ;;
    baseline) echo "--base-url $BASELINE" ;;
  esac
}

WORKLOAD=(--model "$MODEL" --dataset random --input-len "$INPUT_LEN" --output-len "$OUTPUT_LEN" --ignore-eos --seed 1)

# ---- Phase 1: latency, CPU and throughput on one simulator pair (proxy-overhead.sh's settings) ----
start_pair overhead --time-to-first-token 5 --inter-token-latency 5 --prefill-time-per-token 0 \
  --kv-cache-transfer-latency 1 --kv-cache-transfer-time-per-token 0 --time-factor-under-load 1 --max-num-seqs 1024

# Both middle processes must really disaggregate: D reports finding P's KV (X-PdSim-Kv-Transfer).
# (The prompt must span a few KV blocks of 16 tokens, or there is nothing to transfer.)
CHECK_PROMPT=$(printf 'word%d ' $(seq 1 64))
for url in "$PROXY" "$BASELINE"; do
  found=$(curl -fsS --max-time 30 -o /dev/null -D - -H 'Content-Type: application/json' \
    -d "{\"model\":\"$MODEL\",\"prompt\":\"$CHECK_PROMPT $url\",\"max_tokens\":4,\"stream\":true}" \
    "$url/v1/completions" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-pdsim-kv-transfer" { print $2 }')
  [[ "$found" == hit ]] || die "$url: decode reported kv transfer '${found:-nothing}', expected 'hit'"
done

for level in $LEVELS; do
  prompts=$(( level * 4 > MIN_PROMPTS ? level * 4 : MIN_PROMPTS ))
  warmup=$(( level < 16 ? 16 : level ))
  for middle in proxy baseline; do
    # Each middle process interleaved with direct, request by request, so both share the noise.
    url=$PROXY; [[ $middle == baseline ]] && url=$BASELINE
    run_bench "$RUN_TIMEOUT" --pd-direct "$PREFILL" "$DECODE" --compare "$url" "${WORKLOAD[@]}" --compare-mode interleaved \
      --max-concurrency "$level" --num-prompts "$prompts" --warmup "$warmup" \
      --output-json "$OUT/ttft-$middle-c$level.json" >"$OUT/ttft-$middle-c$level.txt"
  done
done

# Background CPU of the idle middle processes (health probes, load scraping, timers), for reading
# the per-request figures: they include whatever the process does while the requests run.
p0=$(cpu_ticks "$PROXY_PID") b0=$(cpu_ticks "$BASELINE_PID"); sleep 5
p1=$(cpu_ticks "$PROXY_PID") b1=$(cpu_ticks "$BASELINE_PID")
idle_proxy=$(awk -v d=$((p1 - p0)) -v t="$CLK_TCK" 'BEGIN { printf "%.1f", d * 1000 / t / 5 }')
idle_baseline=$(awk -v d=$((b1 - b0)) -v t="$CLK_TCK" 'BEGIN { printf "%.1f", d * 1000 / t / 5 }')

# Saturation: each target alone, CPU_REQUESTS requests at SAT_CONCURRENCY streams, no warm-up
# inside the run (phase 1's latency runs warmed every path), ROUNDS rounds of direct, proxy, baseline.
printf 'round\ttarget\trequests\tfailed\treq_per_s\tout_tok_per_s\tmiddle_ticks\tsimulator_ticks\tmiddle_alloc_bytes\n' >"$OUT/saturation.tsv"
for round in $(seq 1 "$ROUNDS"); do
  for target in direct proxy baseline; do
    m0=0 m1=0
    [[ $target == proxy ]] && m0=$(cpu_ticks "$PROXY_PID")
    [[ $target == baseline ]] && m0=$(cpu_ticks "$BASELINE_PID")
    s0=$(( $(cpu_ticks "$PREFILL_PID") + $(cpu_ticks "$DECODE_PID") ))
    a0=$(allocated_bytes "$target")
    # shellcheck disable=SC2046 # target_args is word-split on purpose
    run_bench "$RUN_TIMEOUT" $(target_args "$target") "${WORKLOAD[@]}" --max-concurrency "$SAT_CONCURRENCY" \
      --num-prompts "$CPU_REQUESTS" --warmup 0 --output-json "$OUT/saturation-$target-r$round.json" >"$OUT/saturation-$target-r$round.txt"
    [[ $target == proxy ]] && m1=$(cpu_ticks "$PROXY_PID")
    [[ $target == baseline ]] && m1=$(cpu_ticks "$BASELINE_PID")
    s1=$(( $(cpu_ticks "$PREFILL_PID") + $(cpu_ticks "$DECODE_PID") ))
    a1=$(allocated_bytes "$target")
    # Requests that reached the servers: the run's own plus the bench's one unmeasured test request.
    jq -r --arg r "$round" --arg t "$target" --arg m $((m1 - m0)) --arg s $((s1 - s0)) --arg a $((a1 - a0)) \
      '.runs[0] | [$r, $t, (.completed + .failed + 1), .failed, .request_throughput, .output_throughput, $m, $s, $a] | @tsv' \
      "$OUT/saturation-$target-r$round.json" >>"$OUT/saturation.tsv"
  done
done
stop_started

# ---- Phase 2: peak RSS with MEM_STREAMS concurrent streams (memory.sh's settings), fresh processes ----
if [[ "$SKIP_MEMORY" != 1 ]]; then
  sleep 1
  # Active health probes off here: when 1000 streams open at once on a small shared machine the
  # simulators' /health can miss the 2 s probe timeout, and the proxy would take both instances
  # out (503s) - a real behaviour, but this phase asks how much memory 1000 held streams cost.
  PROXY_EXTRA=(--Pd:Proxy:Health:Enabled=false)
  start_pair memory --time-to-first-token 5 --inter-token-latency "$MEM_ITL_MS" --prefill-time-per-token 0 \
    --time-factor-under-load 1 --max-num-seqs $(( MEM_STREAMS * 2 )) --kv-cache-size 1000000
  printf 'target\tcompleted\tfailed\tidle_kb\tpeak_sampled_kb\thwm_kb\n' >"$OUT/memory.tsv"
  for middle in proxy baseline; do
    pid=$PROXY_PID url=$PROXY
    [[ $middle == baseline ]] && pid=$BASELINE_PID url=$BASELINE
    # Warm-up as memory.sh's: JIT and connection pools, so the peak is the streams'.
    run_bench 120 --base-url "$url" --model "$MODEL" --input-len 128 --output-len 8 --ignore-eos \
      --max-concurrency 64 --num-prompts 200 >"$OUT/memory-warmup-$middle.txt"
    sleep 2
    idle=$(status_kb "$pid" VmRSS)
    ( while kill -0 "$pid" 2>/dev/null; do status_kb "$pid" VmRSS; sleep 0.5; done ) >"$OUT/rss-$middle.txt" &
    sampler=$!
    run_bench "$RUN_TIMEOUT" --base-url "$url" --model "$MODEL" --input-len 128 --output-len "$MEM_OUTPUT_LEN" --ignore-eos \
      --max-concurrency "$MEM_STREAMS" --num-prompts "$MEM_STREAMS" --timeout 5m \
      --output-json "$OUT/memory-$middle.json" >"$OUT/memory-$middle.txt"
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    peak=$(sort -n "$OUT/rss-$middle.txt" | tail -1)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$middle" "$(jq '.runs[0].completed' "$OUT/memory-$middle.json")" \
      "$(jq '.runs[0].failed' "$OUT/memory-$middle.json")" "$idle" "$peak" "$(status_kb "$pid" VmHWM)" >>"$OUT/memory.tsv"
  done
  stop_started
fi

# ---- Summary ----
ttft() { jq -r --arg m "$2" '.comparisons[0].metrics[] | select(.metric == "ttft_p50") | .[$m] * 1000 | round / 1000' "$1"; }
{
  echo "### TTFT p50 (ms), each middle process interleaved with direct"
  echo
  echo "| streams | direct (proxy run) | proxy | proxy added | direct (baseline run) | baseline | baseline added | failed |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  for level in $LEVELS; do
    p="$OUT/ttft-proxy-c$level.json" b="$OUT/ttft-baseline-c$level.json"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$level" \
      "$(ttft "$p" baseline)" "$(ttft "$p" candidate)" "$(ttft "$p" delta)" \
      "$(ttft "$b" baseline)" "$(ttft "$b" candidate)" "$(ttft "$b" delta)" \
      "$(jq -s '[.[].runs[].failed] | add' "$p" "$b")"
  done
  echo
  echo "### Saturation ($SAT_CONCURRENCY streams, $CPU_REQUESTS requests per run, $ROUNDS rounds; CPU from /proc/PID/stat, CLK_TCK $CLK_TCK)"
  echo
  echo "| target | req/s per round | req/s mean | middle CPU ms/request per round | middle CPU ms/request | simulators CPU ms/request | failed |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for target in direct proxy baseline; do
    awk -F'\t' -v t="$target" -v tck="$CLK_TCK" 'NR > 1 && $2 == t {
        n++; rps += $5; list = list sep sprintf("%.0f", $5); req += $3; mid += $7; sim += $8; failed += $4
        cpu = cpu sep sprintf("%.3f", $7 * 1000 / tck / $3); sep = ", " }
      END { printf "| %s | %s | %.0f | %s | %s | %.3f | %d |\n", t, list, rps / n,
              (t == "direct" ? "-" : cpu), (t == "direct" ? "-" : sprintf("%.3f", mid * 1000 / tck / req)),
              sim * 1000 / tck / req, failed }' "$OUT/saturation.tsv"
  done
  echo
  echo "Idle CPU of the middle processes: proxy $idle_proxy ms/s, baseline $idle_baseline ms/s."
  if [[ -f "$OUT/memory.tsv" ]]; then
    echo
    echo "### Memory ($MEM_STREAMS concurrent streams of $MEM_OUTPUT_LEN tokens, ${MEM_ITL_MS} ms apart; fresh processes)"
    echo
    echo "| middle | completed | failed | RSS idle (MB) | RSS peak sampled (MB) | VmHWM (MB) |"
    echo "|---|---:|---:|---:|---:|---:|"
    awk -F'\t' 'NR > 1 { printf "| %s | %d | %d | %.1f | %.1f | %.1f |\n", $1, $2, $3, $4 / 1024, $5 / 1024, $6 / 1024 }' "$OUT/memory.tsv"
  fi
  echo
  echo "### Against the targets (proxy vs baseline / direct)"
  echo
  awk -F'\t' -v tck="$CLK_TCK" 'NR > 1 { req[$2] += $3; mid[$2] += $7; rps[$2] += $5; alloc[$2] += $9; n[$2]++ }
    END {
      cp = mid["proxy"] / req["proxy"]; cb = mid["baseline"] / req["baseline"]
      tp = rps["proxy"] / n["proxy"]; tb = rps["baseline"] / n["baseline"]
      printf "- CPU per request proxy/baseline: %.2fx (target <= 1.1x)\n", cp / cb
      printf "- throughput at saturation proxy/baseline: %.3fx (target >= 0.97x)\n", tp / tb
      printf "- managed allocations per request (saturation runs; the scrape itself included): proxy %.1f KiB, baseline %.1f KiB\n",
        alloc["proxy"] / req["proxy"] / 1024, alloc["baseline"] / req["baseline"] / 1024 }' "$OUT/saturation.tsv"
  first=${LEVELS%% *}
  echo "- added TTFT p50 at $first stream(s), proxy over direct: $(ttft "$OUT/ttft-proxy-c$first.json" delta) ms (target <= 0.5 ms); baseline: $(ttft "$OUT/ttft-baseline-c$first.json" delta) ms"
  [[ -f "$OUT/memory.tsv" ]] && awk -F'\t' '$1 == "proxy" { printf "- proxy peak RSS at %s streams: %.1f MB (target <= 150 MB)\n", "'"$MEM_STREAMS"'", $5 / 1024 }' "$OUT/memory.tsv"
} | tee "$OUT/summary.md"
log "done: $OUT/summary.md"
