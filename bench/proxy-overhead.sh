#!/usr/bin/env bash
# Proxy overhead: the same workload sent directly to a prefill/decode pair by the bench client
# (--pd-direct, the baseline) and through the PD proxy (--compare), interleaved request by
# request, at concurrency 1, 64 and 256. Simulators run with fixed small latencies (TTFT and ITL
# 5 ms, no per-token prefill cost, no slowdown under load) so what differs is the proxy's hop.
#
# Targets (issue 7): added TTFT p50 <= 1 ms and p99 <= 5 ms at 256 streams; relayed ITL p99
# within 1 ms of direct; throughput ratio close to 1.
#
# Environment: LEVELS ("1 64 256"), INPUT_LEN (256), OUTPUT_LEN (32), TTFT_MS (5), ITL_MS (5),
# MIN_PROMPTS (100; each level sends max(MIN_PROMPTS, 4 x concurrency) prompts per target),
# LEVEL_TIMEOUT (180 s), SKIP_BUILD, OUT. Ports: PROXY_PORT (8000), PREFILL_PORT (8100), DECODE_PORT (8200).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

LEVELS="${LEVELS:-1 64 256}"
INPUT_LEN="${INPUT_LEN:-256}"
OUTPUT_LEN="${OUTPUT_LEN:-32}"
TTFT_MS="${TTFT_MS:-5}"
ITL_MS="${ITL_MS:-5}"
MIN_PROMPTS="${MIN_PROMPTS:-100}"
LEVEL_TIMEOUT="${LEVEL_TIMEOUT:-180}"

init_run proxy-overhead
build_all

SIM_FLAGS=(--time-to-first-token "$TTFT_MS" --inter-token-latency "$ITL_MS" --prefill-time-per-token 0
  --kv-cache-transfer-latency 1 --kv-cache-transfer-time-per-token 0 --time-factor-under-load 1 --max-num-seqs 1024)
start_simulator prefill-0 "$PREFILL_PORT" kv_producer "${SIM_FLAGS[@]}"
start_simulator decode-0 "$DECODE_PORT" kv_consumer "${SIM_FLAGS[@]}"
wait_ready "http://$HOST:$PREFILL_PORT/health"
wait_ready "http://$HOST:$DECODE_PORT/health"
start_proxy "$PROXY_PORT" "$PREFILL_PORT" "$DECODE_PORT" --Pd:Proxy:Admission:MaxConcurrentRequests=4096
wait_ready "http://$HOST:$PROXY_PORT/health"

COMMON=(--pd-direct "http://$HOST:$PREFILL_PORT" "http://$HOST:$DECODE_PORT" --compare "http://$HOST:$PROXY_PORT"
  --label direct --compare-label proxy --model "$MODEL" --dataset-name random --random-input-len "$INPUT_LEN"
  --random-output-len "$OUTPUT_LEN" --ignore-eos --seed 1)
for level in $LEVELS; do
  prompts=$(( level * 4 > MIN_PROMPTS ? level * 4 : MIN_PROMPTS ))
  warmup=$(( level < 16 ? 16 : level ))
  # Latency: both paths under one alternating arrival stream, so they share the machine's noise.
  run_bench "$LEVEL_TIMEOUT" "${COMMON[@]}" --compare-mode interleaved \
    --max-concurrency "$level" --num-prompts "$prompts" --num-warmups "$warmup" \
    --output-json "$OUT/latency-c$level.json" --plot "$OUT/latency-c$level.svg" \
    --save-result --result-dir "$OUT/vllm" --result-filename "latency-c$level.json" >"$OUT/latency-c$level.txt"
  # Throughput: each path alone with the full concurrency.
  run_bench "$LEVEL_TIMEOUT" "${COMMON[@]}" --compare-mode sequential \
    --max-concurrency "$level" --num-prompts "$prompts" --num-warmups "$warmup" \
    --output-json "$OUT/throughput-c$level.json" >"$OUT/throughput-c$level.txt"
done

# One line per level: added latency (proxy - direct) and the throughput ratio (proxy / direct).
metric() { jq -r --arg m "$2" --arg f "$3" '.comparisons[0].metrics[] | select(.metric == $m) | .[$f] * 1000 | round / 1000' "$1"; }
{
  printf '| concurrency | TTFT p50 direct (ms) | added TTFT p50 (ms) | added TTFT p99 (ms) | ITL p99 direct (ms) | added ITL p99 (ms) | output throughput proxy/direct | failed requests |\n'
  printf '|---:|---:|---:|---:|---:|---:|---:|---:|\n'
  for level in $LEVELS; do
    latency="$OUT/latency-c$level.json" throughput="$OUT/throughput-c$level.json"
    failed=$(jq -s '[.[].runs[].failed] | add' "$latency" "$throughput")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$level" \
      "$(metric "$latency" ttft_p50 baseline)" "$(metric "$latency" ttft_p50 delta)" "$(metric "$latency" ttft_p99 delta)" \
      "$(metric "$latency" itl_p99 baseline)" "$(metric "$latency" itl_p99 delta)" \
      "$(metric "$throughput" output_throughput ratio)" "$failed"
  done
} | tee "$OUT/summary.md"
log "done: $OUT/summary.md"
