#!/usr/bin/env bash
# Scale-out with the simulator's timing model (llm-d-inference-sim style: base TTFT + per-token
# prefill cost, ITL growing with the running batch up to --time-factor-under-load at
# --max-num-seqs):
#   1. 1P1D, 2P2D and 4P4D behind the proxy, same workload, concurrency sweep: throughput and
#      latency as instances are added;
#   2. at POLICY_TOPOLOGY (2 = 2P2D), each prefill balancing policy under a skewed shared-prefix
#      workload (8 prompt prefixes with Zipf 1.2 popularity), with the requests each prefill
#      instance served (from its own vllm:request_success_total) to show the balance.
# The simulator models no prefix cache, so PrefixAffinity's cache benefit does not show in TTFT
# here; what shows is how evenly each policy spreads a skewed workload (hot prefixes pinned to one
# instance raise its queue). Everything runs on one machine: with few cores the simulators and the
# proxy compete for CPU, so treat absolute numbers as this machine's, and compare shapes.
#
# Environment: TOPOLOGIES ("1 2 4"), LEVELS ("16 64"), POLICIES ("RoundRobin LeastOutstanding
# PowerOfTwoChoices PrefixAffinity LoadAware"), POLICY_TOPOLOGY (2), PROMPTS (256), INPUT_LEN (512),
# OUTPUT_LEN (64), MAX_NUM_SEQS (32), RUN_TIMEOUT (300 s), SKIP_BUILD, OUT.
# Ports: PROXY_PORT (8000), PREFILL_PORT.. (8100..), DECODE_PORT.. (8200..).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

TOPOLOGIES="${TOPOLOGIES:-1 2 4}"
LEVELS="${LEVELS:-16 64}"
POLICIES="${POLICIES:-RoundRobin LeastOutstanding PowerOfTwoChoices PrefixAffinity LoadAware}"
POLICY_TOPOLOGY="${POLICY_TOPOLOGY:-2}"
PROMPTS="${PROMPTS:-256}"
INPUT_LEN="${INPUT_LEN:-512}"
OUTPUT_LEN="${OUTPUT_LEN:-64}"
MAX_NUM_SEQS="${MAX_NUM_SEQS:-32}"
RUN_TIMEOUT="${RUN_TIMEOUT:-300}"

init_run scale-out
build_all

# start_topology <n> [proxy settings...]: n prefill and n decode simulators and the proxy.
start_topology() {
  local n="$1"; shift
  local prefills=() decodes=() i
  for (( i = 0; i < n; i++ )); do
    start_simulator "prefill-$i" $(( PREFILL_PORT + i )) kv_producer --max-num-seqs "$MAX_NUM_SEQS"
    start_simulator "decode-$i" $(( DECODE_PORT + i )) kv_consumer --max-num-seqs "$MAX_NUM_SEQS"
    prefills+=($(( PREFILL_PORT + i ))); decodes+=($(( DECODE_PORT + i )))
  done
  for (( i = 0; i < n; i++ )); do
    wait_ready "http://$HOST:$(( PREFILL_PORT + i ))/health"; wait_ready "http://$HOST:$(( DECODE_PORT + i ))/health"
  done
  start_proxy "$PROXY_PORT" "$(IFS=,; echo "${prefills[*]}")" "$(IFS=,; echo "${decodes[*]}")" "$@"
  wait_ready "http://$HOST:$PROXY_PORT/health"
}

served_by() { curl -fsS --max-time 5 "http://$HOST:$1/metrics" | awk '/^vllm:request_success_total/ { s += $NF } END { print s + 0 }'; }

# 1. Topologies.
for n in $TOPOLOGIES; do
  start_topology "$n"
  run_bench "$RUN_TIMEOUT" --base-url "http://$HOST:$PROXY_PORT" --model "$MODEL" --random-input-len "$INPUT_LEN" --random-output-len "$OUTPUT_LEN" \
    --random-range-ratio 0.5 --ignore-eos --max-concurrency $LEVELS --num-prompts "$PROMPTS" --num-warmups 8 --seed 1 \
    --output-json "$OUT/topology-${n}p${n}d.json" --plot "$OUT/topology-${n}p${n}d.svg" >"$OUT/topology-${n}p${n}d.txt"
  stop_started
done

# 2. Policies under a skewed shared-prefix workload.
n="$POLICY_TOPOLOGY"
for policy in $POLICIES; do
  start_topology "$n" "--Pd:Proxy:Balancing:Prefill=$policy"
  run_bench "$RUN_TIMEOUT" --base-url "http://$HOST:$PROXY_PORT" --model "$MODEL" --random-input-len 128 --random-output-len "$OUTPUT_LEN" \
    --random-prefix-len 384 --prefix-groups 8 --prefix-skew 1.2 --ignore-eos --max-concurrency 64 --num-prompts "$PROMPTS" --seed 2 \
    --output-json "$OUT/policy-$policy.json" >"$OUT/policy-$policy.txt"
  counts=()
  for (( i = 0; i < n; i++ )); do counts+=("$(served_by $(( PREFILL_PORT + i )))"); done
  echo "${counts[*]}" >"$OUT/policy-$policy.prefill-split"
  stop_started
done

{
  echo "### Topologies (input ~$INPUT_LEN, output $OUTPUT_LEN tokens, max-num-seqs $MAX_NUM_SEQS per instance)"
  echo
  echo "| topology | concurrency | req/s | output tok/s | TTFT p50 (ms) | TTFT p99 (ms) | TPOT p50 (ms) | failed |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for n in $TOPOLOGIES; do
    jq -r --arg t "${n}P${n}D" '.runs[] | "| \($t) | \(.max_concurrency) | \(.request_throughput*100|round/100) | \(.output_throughput|round) | \(.ttft_ms.p50*10|round/10) | \(.ttft_ms.p99*10|round/10) | \(.tpot_ms.p50*100|round/100) | \(.failed) |"' "$OUT/topology-${n}p${n}d.json"
  done
  echo
  echo "### Prefill policies at ${POLICY_TOPOLOGY}P${POLICY_TOPOLOGY}D, 8 shared prefixes of 384 tokens, Zipf 1.2, concurrency 64"
  echo
  echo "| policy | req/s | TTFT p50 (ms) | TTFT p99 (ms) | E2E p99 (ms) | requests per prefill instance | failed |"
  echo "|---|---:|---:|---:|---:|---|---:|"
  for policy in $POLICIES; do
    jq -r --arg p "$policy" --arg split "$(cat "$OUT/policy-$policy.prefill-split")" '.runs[0] | "| \($p) | \(.request_throughput*100|round/100) | \(.ttft_ms.p50*10|round/10) | \(.ttft_ms.p99*10|round/10) | \(.e2e_ms.p99*10|round/10) | \($split) | \(.failed) |"' "$OUT/policy-$policy.json"
  done
} | tee "$OUT/summary.md"
log "done: $OUT/summary.md"
