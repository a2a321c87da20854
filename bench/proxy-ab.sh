#!/usr/bin/env bash
# Two proxy builds (or settings) and the baseline side by side on one simulator pair, for before/after
# comparisons on a shared machine: every measurement alternates A, B and the baseline, so all three
# share the same load.
#   1. TTFT at 1 stream: TTFT_RUNS runs per target of TTFT_PROMPTS requests, each interleaved request
#      by request with direct (--pd-direct), targets alternating run by run; the added p50 per run and
#      their median.
#   2. Saturation: ROUNDS rounds of CPU_REQUESTS requests at SAT_CONCURRENCY streams, targets
#      alternating, their order rotating from round to round; CPU ms/request from /proc/PID/stat
#      (utime+stime), requests/s, and the ratios to the baseline. Round 1 is reported but left out of
#      the means (tier-up JIT).
#
# Environment: PROXY_A_DLL (default: this tree's Release build), PROXY_B_DLL (default: PROXY_A_DLL),
# PROXY_A_ENV / PROXY_B_ENV ("NAME=value ..."), PROXY_A_ARGS / PROXY_B_ARGS (extra --Key=Value words),
# TTFT_RUNS (5), TTFT_PROMPTS (100), ROUNDS (4), CPU_REQUESTS (3000), SAT_CONCURRENCY (256),
# INPUT_LEN (256), OUTPUT_LEN (32), TTFT_OUTPUT_LEN (4: the TTFT runs need no long stream), SKIP_BUILD, OUT. Ports: PROXY_PORT (A; B is PROXY_PORT + 2),
# BASELINE_PORT, PREFILL_PORT, DECODE_PORT.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

TTFT_RUNS="${TTFT_RUNS:-5}"
TTFT_PROMPTS="${TTFT_PROMPTS:-100}"
ROUNDS="${ROUNDS:-4}"
CPU_REQUESTS="${CPU_REQUESTS:-3000}"
SAT_CONCURRENCY="${SAT_CONCURRENCY:-256}"
INPUT_LEN="${INPUT_LEN:-256}"
OUTPUT_LEN="${OUTPUT_LEN:-32}"
TTFT_OUTPUT_LEN="${TTFT_OUTPUT_LEN:-4}"
RUN_TIMEOUT="${RUN_TIMEOUT:-180}"
BASELINE_PORT="${BASELINE_PORT:-8001}"
PROXY_A_DLL="${PROXY_A_DLL:-$PROXY_DLL}"
PROXY_B_DLL="${PROXY_B_DLL:-$PROXY_A_DLL}"
BASELINE_DLL="$BENCH_DIR/baselines/PdApp.Bench.MinimalProxy/bin/$CONFIGURATION/net10.0/PdApp.Bench.MinimalProxy.dll"
CLK_TCK=$(getconf CLK_TCK)

init_run proxy-ab
build_all
[[ -f "$PROXY_A_DLL" && -f "$PROXY_B_DLL" && -f "$BASELINE_DLL" ]] || die "missing a proxy or baseline build"
{ echo "A: $PROXY_A_DLL ${PROXY_A_ENV:-} ${PROXY_A_ARGS:-}"; echo "B: $PROXY_B_DLL ${PROXY_B_ENV:-} ${PROXY_B_ARGS:-}"; } >"$OUT/targets.txt"

PREFILL="http://$HOST:$PREFILL_PORT" DECODE="http://$HOST:$DECODE_PORT"
start_simulator prefill-0 "$PREFILL_PORT" kv_producer --time-to-first-token 5 --inter-token-latency 5 --prefill-time-per-token 0 \
  --kv-cache-transfer-latency 1 --kv-cache-transfer-time-per-token 0 --time-factor-under-load 1 --max-num-seqs 1024
start_simulator decode-0 "$DECODE_PORT" kv_consumer --time-to-first-token 5 --inter-token-latency 5 --prefill-time-per-token 0 \
  --kv-cache-transfer-latency 1 --kv-cache-transfer-time-per-token 0 --time-factor-under-load 1 --max-num-seqs 1024
wait_ready "$PREFILL/health"
wait_ready "$DECODE/health"

declare -A PID URL
for t in A B; do
  dll_var="PROXY_${t}_DLL" env_var="PROXY_${t}_ENV" args_var="PROXY_${t}_ARGS"
  port=$PROXY_PORT; [[ $t == B ]] && port=$((PROXY_PORT + 2))
  read -ra extra <<<"${!args_var:-}"
  PROXY_DLL="${!dll_var}" PROXY_ENV="${!env_var:-}" start_proxy "$port" "$PREFILL_PORT" "$DECODE_PORT" \
    --Pd:Proxy:Admission:MaxConcurrentRequests=4096 --Pd:Proxy:Admission:MaxQueueLength=4096 "${extra[@]}"
  mv "$OUT/logs/proxy.log" "$OUT/logs/proxy-$t.log" 2>/dev/null || true
  PID[$t]=$PROXY_PID URL[$t]="http://$HOST:$port"
done
port_free "$BASELINE_PORT" || die "port $BASELINE_PORT is in use"
dotnet "$BASELINE_DLL" --urls "http://$HOST:$BASELINE_PORT" --Prefill="$PREFILL" --Decode="$DECODE" \
  --Connector=SharedStorageConnector >"$OUT/logs/baseline.log" 2>&1 &
PID[baseline]=$! URL[baseline]="http://$HOST:$BASELINE_PORT"
STARTED_PIDS+=("${PID[baseline]}")
for t in A B baseline; do wait_ready "${URL[$t]}/health"; done

cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
WORKLOAD=(--model "$MODEL" --dataset random --input-len "$INPUT_LEN" --output-len "$OUTPUT_LEN" --ignore-eos --seed 1)
TTFT_WORKLOAD=(--model "$MODEL" --dataset random --input-len "$INPUT_LEN" --output-len "$TTFT_OUTPUT_LEN" --ignore-eos --seed 1)

# Warm-up: every target's paths JIT-compiled and pooled before anything is measured.
for t in A B baseline; do
  run_bench "$RUN_TIMEOUT" --base-url "${URL[$t]}" "${WORKLOAD[@]}" --max-concurrency 64 --num-prompts 1000 >"$OUT/warmup-$t.txt"
done

printf 'run\ttarget\tdirect_p50_ms\ttarget_p50_ms\tadded_p50_ms\tload1\n' >"$OUT/ttft.tsv"
for run in $(seq 1 "$TTFT_RUNS"); do
  for t in A B baseline; do
    run_bench "$RUN_TIMEOUT" --pd-direct "$PREFILL" "$DECODE" --compare "${URL[$t]}" "${TTFT_WORKLOAD[@]}" --compare-mode interleaved \
      --max-concurrency 1 --num-prompts "$TTFT_PROMPTS" --warmup 16 --output-json "$OUT/ttft-$t-$run.json" >"$OUT/ttft-$t-$run.txt"
    jq -r --arg r "$run" --arg t "$t" --arg l "$(cut -d' ' -f1 /proc/loadavg)" \
      '.comparisons[0].metrics[] | select(.metric == "ttft_p50") | [$r, $t, .baseline, .candidate, .delta, $l] | @tsv' \
      "$OUT/ttft-$t-$run.json" >>"$OUT/ttft.tsv"
  done
done

printf 'round\ttarget\trequests\tfailed\treq_per_s\tticks\tload1\n' >"$OUT/saturation.tsv"
ORDER=(A B baseline)
for round in $(seq 1 "$ROUNDS"); do
  # The order rotates from round to round: at high load whoever runs second or third in every round is
  # measured under different conditions than the first (bench/RESULTS.md 4.17).
  shift_by=$(((round - 1) % 3))
  for t in "${ORDER[@]:shift_by}" "${ORDER[@]:0:shift_by}"; do
    m0=$(cpu_ticks "${PID[$t]}")
    run_bench "$RUN_TIMEOUT" --base-url "${URL[$t]}" "${WORKLOAD[@]}" --max-concurrency "$SAT_CONCURRENCY" \
      --num-prompts "$CPU_REQUESTS" --warmup 0 --output-json "$OUT/sat-$t-$round.json" >"$OUT/sat-$t-$round.txt"
    m1=$(cpu_ticks "${PID[$t]}")
    jq -r --arg r "$round" --arg t "$t" --arg m $((m1 - m0)) --arg l "$(cut -d' ' -f1 /proc/loadavg)" \
      '.runs[0] | [$r, $t, (.completed + .failed + 1), .failed, .request_throughput, $m, $l] | @tsv' \
      "$OUT/sat-$t-$round.json" >>"$OUT/saturation.tsv"
  done
done
stop_started

{
  cat "$OUT/targets.txt"
  echo
  echo "### TTFT p50 at 1 stream, added over direct (ms), per run"
  echo
  echo "| target | runs | median | load (1 min) |"
  echo "|---|---|---:|---|"
  for t in A B baseline; do
    runs=$(awk -F'\t' -v t="$t" '$2 == t { printf "%s%.2f", sep, $5; sep = ", " }' "$OUT/ttft.tsv")
    median=$(awk -F'\t' -v t="$t" '$2 == t { print $5 }' "$OUT/ttft.tsv" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')
    loads=$(awk -F'\t' -v t="$t" '$2 == t { printf "%s%s", sep, $6; sep = ", " }' "$OUT/ttft.tsv")
    printf '| %s | %s | %.2f | %s |\n' "$t" "$runs" "$median" "$loads"
  done
  echo
  echo "### Saturation ($SAT_CONCURRENCY streams, $CPU_REQUESTS requests per round; CPU ms/request per round; means over rounds 2-$ROUNDS)"
  echo
  echo "| target | CPU ms/request per round | req/s per round | CPU mean | req/s mean | CPU / baseline | req/s / baseline | failed |"
  echo "|---|---|---|---:|---:|---:|---:|---:|"
  awk -F'\t' -v tck="$CLK_TCK" 'NR > 1 {
      cpu = $6 * 1000 / tck / $3; c[$2] = c[$2] s[$2] sprintf("%.3f", cpu); r[$2] = r[$2] s[$2] sprintf("%.0f", $5); s[$2] = ", "
      f[$2] += $4
      if ($1 > 1) { ticks[$2] += $6; req[$2] += $3; rps[$2] += $5; n[$2]++ } }
    END {
      bc = ticks["baseline"] * 1000 / tck / req["baseline"]; br = rps["baseline"] / n["baseline"]
      split("A B baseline", ts, " ")
      for (i = 1; i <= 3; i++) { t = ts[i]; mc = ticks[t] * 1000 / tck / req[t]; mr = rps[t] / n[t]
        printf "| %s | %s | %s | %.3f | %.0f | %.2fx | %.3fx | %d |\n", t, c[t], r[t], mc, mr, mc / bc, mr / br, f[t] } }' "$OUT/saturation.tsv"
  echo
  echo "Load (1 min) during the run: $(awk -F'\t' '{ print $2 }' "$OUT/load.tsv" | cut -d' ' -f1 | sort -g | sed -n '1p;$p' | paste -sd- -)"
} | tee "$OUT/summary.md"
log "done: $OUT/summary.md"
