#!/usr/bin/env bash
# KV-cache-aware routing vs round robin vs the prefix hash (issue 13's proof): 4 prefill + 4 decode
# simulators on loopback with a prefill-bound timing model (prefill per uncached token >> a decode
# step; concurrent prefills on one instance share its compute, --prefill-contention; a KV cache small
# enough to evict), the proxy in front, and for each routing policy a request-rate sweep over two
# workloads where prefix caching matters:
#   prefix  shared long prefixes across many users (vLLM's prefix_repetition dataset);
#   multi   multi-turn conversations sharing a few system prompts, each turn extending the last.
# Policies: RoundRobin (both roles), PrefixAffinity (today's default: bounded-load hash of the
# prompt's first 512 characters for prefill, least outstanding for decode), KvAware (both roles,
# on the engines' KV events), KvAware+PD (KvAware plus the cache-aware PD decision: a request whose
# prompt a decode instance already holds but for fewer than SKIP_PREFILL_BELOW_UNCACHED tokens goes to
# that decode alone, which prefills the rest itself; Pd:Proxy:Disaggregation:SkipPrefillBelowUncachedTokens).
# Every policy starts from the same state: the simulators (empty prefix
# caches, zeroed counters) and the proxy are restarted per workload and policy, every policy of a
# workload gets the same seed (the same prompts in the same order), and the policy order rotates by
# one per workload (ORDER=fixed keeps POLICIES' order), so no policy always runs first or last on a
# shared machine. An unmeasured warm-up of WARMUP_SECONDS at the lowest rate fills the caches as a
# running service's are, then the rates run in ascending order, each
# for DURATION seconds of Poisson arrivals, each starting past the prompts sent so far
# (--prompt-offset: same prefixes, no prompt ever repeated); a full run takes ~25 min (5 rates), QUICK=1 ~3 min.
# Saturation (where issue 13's targets are checked): the lowest rate at which round robin's request
# throughput (completed / run length, the drain included) stops following the offered rate, i.e. falls
# under 90% of it; above that rate round robin's queue grows for as long as arrivals last, so its TTFT
# grows with DURATION, and no policy's output can exceed round robin's by more than offered / completed
# there (the report prints both, and round robin's capacity: the most it completed per second at any rate).
# Beside it the report checks the same targets at the lowest rate where round robin completes at most 67% of the
# offered rate (1 / the 1.5x output target): still saturated, but with room for a 1.5x throughput ratio. The cache hit rate is the prefill
# instances' vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total over each measured run. Output: $OUT/summary.md (table) and $OUT/kv-routing.svg (TTFT p90 and output
# throughput against the rate), from bench/lib/kv_routing_report.py (python3, no packages). Capacity: each
# policy's output throughput at the highest swept rate, where every policy is offered more than it can
# serve (sweep one such rate, e.g. 8 req/s), and its ratio to round robin's (how llm-d states "2.3x throughput").
#
# Environment: QUICK=1 (smoke test: RoundRobin and KvAware, the prefix workload, one rate, 8 s),
# POLICIES ("RoundRobin PrefixAffinity KvAware KvAware+PD"), SKIP_PREFILL_BELOW_UNCACHED (384 tokens), ORDER (rotate | fixed), SEED (1), WORKLOADS ("prefix multi"), RATES ("2 3 4 5 6",
# requests/s), DURATION (30 s of arrivals per rate), WARMUP_SECONDS (10), RUN_TIMEOUT (4 x DURATION per run), SLO_TTFT_MS (2000),
# SLO_TPOT_MS (100), timing model: PREFILL_MS_PER_TOKEN (1.0), TTFT_MS (10), ITL_MS (10), KV_CACHE_BLOCKS (400),
# MAX_NUM_SEQS (64), SIMULATOR_ARGS (extra simulator flags); ports: PROXY_PORT, PREFILL_PORT, DECODE_PORT, KV_EVENTS_PORT (5560..5567),
# KV_REPLAY_PORT (5580..5587); SKIP_BUILD, OUT.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

if [[ "${QUICK:-0}" == 1 ]]; then
  POLICIES="${POLICIES:-RoundRobin KvAware}"
  WORKLOADS="${WORKLOADS:-prefix}"
  RATES="${RATES:-4}"
  DURATION="${DURATION:-8}"
  WARMUP_SECONDS="${WARMUP_SECONDS:-4}"
fi
POLICIES="${POLICIES:-RoundRobin PrefixAffinity KvAware KvAware+PD}"
WORKLOADS="${WORKLOADS:-prefix multi}"
RATES="${RATES:-2 3 4 5 6}"
DURATION="${DURATION:-30}"
WARMUP_SECONDS="${WARMUP_SECONDS:-10}"
RUN_TIMEOUT="${RUN_TIMEOUT:-$(( DURATION * 4 ))}"
ORDER="${ORDER:-rotate}"
SEED="${SEED:-1}"
SLO_TTFT_MS="${SLO_TTFT_MS:-2000}"
SLO_TPOT_MS="${SLO_TPOT_MS:-100}"
PREFILL_MS_PER_TOKEN="${PREFILL_MS_PER_TOKEN:-1.0}"
TTFT_MS="${TTFT_MS:-10}"
ITL_MS="${ITL_MS:-10}"
KV_CACHE_BLOCKS="${KV_CACHE_BLOCKS:-400}"
MAX_NUM_SEQS="${MAX_NUM_SEQS:-64}"
# The cache-aware PD threshold of KvAware+PD: a multi-turn turn's new content is the previous answer (64)
# and the new message (192) plus the tags and the previous prompt's partial last block (< 16), ~280
# tokens, so 384 sends every next turn whose history the decode holds to that decode alone, while a
# prompt the decode does not hold (a new system prompt: 512 + 192) still goes through prefill. Each
# token a decode computes stalls its running streams (the simulator's prefill interference), at 1
# ms/token here 0.38 s at most per decode-alone request, inside the 100 ms TPOT SLO over 32-64 tokens
# unless several land on one decode at once (goodput shows it).
SKIP_PREFILL_BELOW_UNCACHED="${SKIP_PREFILL_BELOW_UNCACHED:-384}"
KV_EVENTS_PORT="${KV_EVENTS_PORT:-5560}"
KV_REPLAY_PORT="${KV_REPLAY_PORT:-5580}"
INSTANCES=4

# The workloads (bench flags):
#   prefix: 8 prefixes of 1536 tokens (96 blocks each; an instance's cache of 400 blocks holds
#           about 3 with their suffixes), 128-token suffixes, 32 output tokens.
#   multi:  12 conversations in flight over 4 system prompts of 512 tokens, 8 turns of 192-token
#           messages and 64-token answers (up to ~2.5k tokens; a conversation's own history is up to
#           ~127 blocks, so an instance that sees every conversation cannot keep them all, one that
#           sees a quarter of them can).
workload_args() {
  case "$1" in
    prefix) echo "--dataset-name prefix_repetition --prefix-repetition-prefix-len 1536 --prefix-repetition-suffix-len 128 --prefix-repetition-num-prefixes 8 --prefix-repetition-output-len 32" ;;
    multi) echo "--dataset-name multi_turn --multi-turn-turns 8 --multi-turn-system-prompt-len 512 --multi-turn-num-system-prompts 4 --multi-turn-user-len 192 --multi-turn-output-len 64 --multi-turn-active-conversations 12" ;;
    *) die "unknown workload $1" ;;
  esac
}

# The proxy settings of each policy.
policy_args() {
  case "$1" in
    RoundRobin) echo "--Pd:Proxy:Balancing:Prefill=RoundRobin --Pd:Proxy:Balancing:Decode=RoundRobin" ;;
    PrefixAffinity) echo "--Pd:Proxy:Balancing:Prefill=PrefixAffinity --Pd:Proxy:Balancing:Decode=LeastOutstanding" ;;
    KvAware+PD) echo "$(policy_args KvAware) --Pd:Proxy:Disaggregation:SkipPrefillBelowUncachedTokens=$SKIP_PREFILL_BELOW_UNCACHED" ;;
    KvAware)
      local args="--Pd:Proxy:Balancing:Prefill=KvAware --Pd:Proxy:Balancing:Decode=KvAware" i
      for (( i = 0; i < INSTANCES; i++ )); do
        args+=" --Pd:Proxy:KvCache:Endpoints:prefill-$i:Endpoint=tcp://$HOST:$(( KV_EVENTS_PORT + i ))"
        args+=" --Pd:Proxy:KvCache:Endpoints:prefill-$i:ReplayEndpoint=tcp://$HOST:$(( KV_REPLAY_PORT + i ))"
        args+=" --Pd:Proxy:KvCache:Endpoints:decode-$i:Endpoint=tcp://$HOST:$(( KV_EVENTS_PORT + INSTANCES + i ))"
        args+=" --Pd:Proxy:KvCache:Endpoints:decode-$i:ReplayEndpoint=tcp://$HOST:$(( KV_REPLAY_PORT + INSTANCES + i ))"
      done
      echo "$args" ;;
    *) die "unknown policy $1" ;;
  esac
}

# kv_events <index>: vLLM's --kv-events-config for instance <index> (0-3 prefill, 4-7 decode).
# vLLM binds the PUB and ROUTER sockets when the endpoint holds '*' (all interfaces).
kv_events() {
  printf '{"enable_kv_cache_events":true,"publisher":"zmq","endpoint":"tcp://*:%d","replay_endpoint":"tcp://*:%d"}' \
    $(( KV_EVENTS_PORT + $1 )) $(( KV_REPLAY_PORT + $1 ))
}

start_simulators() {
  local i timing=(--prefill-contention --prefill-time-per-token "$PREFILL_MS_PER_TOKEN" --time-to-first-token "$TTFT_MS"
    --inter-token-latency "$ITL_MS" --kv-cache-size "$KV_CACHE_BLOCKS" --max-num-seqs "$MAX_NUM_SEQS" --block-size 16)
  # SIMULATOR_ARGS: extra simulator flags for every instance (e.g. --no-prefill-interference for an A/B).
  # shellcheck disable=SC2206 # separate words
  timing+=(${SIMULATOR_ARGS:-})
  for (( i = 0; i < INSTANCES; i++ )); do
    start_simulator "prefill-$i" $(( PREFILL_PORT + i )) kv_producer "${timing[@]}" --kv-events-config "$(kv_events "$i")"
    start_simulator "decode-$i" $(( DECODE_PORT + i )) kv_consumer "${timing[@]}" --kv-events-config "$(kv_events $(( INSTANCES + i )))"
  done
  for (( i = 0; i < INSTANCES; i++ )); do
    wait_ready "http://$HOST:$(( PREFILL_PORT + i ))/health" 120; wait_ready "http://$HOST:$(( DECODE_PORT + i ))/health" 120
  done
}

# start_router <policy>: the proxy in front of the simulators with that policy.
start_router() {
  local i prefills=() decodes=()
  for (( i = 0; i < INSTANCES; i++ )); do prefills+=($(( PREFILL_PORT + i ))); decodes+=($(( DECODE_PORT + i ))); done
  # shellcheck disable=SC2046 # the policy's settings are separate words
  start_proxy "$PROXY_PORT" "$(IFS=,; echo "${prefills[*]}")" "$(IFS=,; echo "${decodes[*]}")" $(policy_args "$1")
  wait_ready "http://$HOST:$PROXY_PORT/health" 120
}

# prefix_cache_counters [base port]: "<hits> <queries>" summed over the prefill instances (or those from the base port:
# DECODE_PORT for the decode instances, whose lookups are those of decode-alone requests under KvAware+PD).
prefix_cache_counters() {
  local i hits=0 queries=0 h q base="${1:-$PREFILL_PORT}"
  for (( i = 0; i < INSTANCES; i++ )); do
    read -r h q < <(curl -fsS --max-time 5 "http://$HOST:$(( base + i ))/metrics" \
      | awk '/^vllm:prefix_cache_hits_total/ { h += $NF } /^vllm:prefix_cache_queries_total/ { q += $NF } END { printf "%d %d\n", h, q }')
    hits=$(( hits + h )); queries=$(( queries + q ))
  done
  echo "$hits $queries"
}

# decode_alone: requests the proxy sent to a decode instance alone so far (cache-aware PD decisions).
decode_alone() {
  curl -fsS --max-time 5 "http://$HOST:$PROXY_PORT/metrics" 2>/dev/null \
    | awk '/^pdapp_proxy_kvcache_pd_decisions_total/ && /decode_holds_prompt/ { s += $NF } END { printf "%d\n", s }'
}

# served_split: requests each prefill instance served (vllm:request_success_total), space-separated.
served_split() {
  local i counts=()
  for (( i = 0; i < INSTANCES; i++ )); do
    counts+=("$(curl -fsS --max-time 5 "http://$HOST:$(( PREFILL_PORT + i ))/metrics" | awk '/^vllm:request_success_total/ { s += $NF } END { print s + 0 }')")
  done
  echo "${counts[*]}"
}

init_run kv-routing
build_all
{ echo "policies: $POLICIES (order: $ORDER)"; echo "seed: $SEED (+ workload index)"; echo "workloads: $WORKLOADS"; echo "rates: $RATES"; echo "arrivals per rate: ${DURATION}s"
  echo "cache-aware PD threshold (KvAware+PD): ${SKIP_PREFILL_BELOW_UNCACHED} uncached tokens"
  echo "timing: prefill ${PREFILL_MS_PER_TOKEN} ms/token (contended; decode steps carry the prefill chunk owed, --max-num-batched-tokens 2048), ttft ${TTFT_MS} ms, itl ${ITL_MS} ms, kv cache ${KV_CACHE_BLOCKS} blocks of 16, max-num-seqs ${MAX_NUM_SEQS}"; } >"$OUT/config.txt"

# bench_run <name> <workload> <rate> <seconds> <seed> <offset> [extra bench flags]
bench_run() {
  local name="$1" workload="$2" rate="$3" seconds="$4" seed="$5" offset="$6"; shift 6
  # shellcheck disable=SC2046 # the workload's flags are separate words
  run_bench "$RUN_TIMEOUT" --base-url "http://$HOST:$PROXY_PORT" --model "$MODEL" $(workload_args "$workload") \
    --ignore-eos --request-rate "$rate" --duration "${seconds}s" --num-warmups 0 --seed "$seed" --prompt-offset "$offset" \
    --goodput "ttft:$SLO_TTFT_MS" "tpot:$SLO_TPOT_MS" --percentile-metrics ttft,tpot,e2el --metric-percentiles 50,90,99 \
    --save-result --result-dir "$OUT" --result-filename "$name.json" "$@" >"$OUT/$name.txt"
}

# policy_order <workload index>: POLICIES, rotated left by the index unless ORDER=fixed.
policy_order() {
  local -a list; read -ra list <<<"$POLICIES"
  local n=${#list[@]} shift=0 i
  [[ "$ORDER" == fixed ]] || shift=$(( $1 % n ))
  for (( i = 0; i < n; i++ )); do printf '%s ' "${list[$(( (i + shift) % n ))]}"; done
}

w=0
for workload in $WORKLOADS; do
  # The same seed for every policy of a workload: the same prefixes, conversations and arrival times.
  seed=$(( SEED + w ))
  for policy in $(policy_order "$w"); do
    # A fresh start for every policy: empty caches, zeroed counters, nothing left over from the policy before.
    start_simulators
    start_router "$policy"
    log "$workload / $policy (seed $seed)"
    echo "$workload $policy seed=$seed start=$(date -u +%H:%M:%S) load=$(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/order.txt"
    before_split="$(served_split)"
    # An unmeasured warm-up at the lowest rate fills the caches as a running service's are; each measured
    # run then starts past the prompts sent so far (--prompt-offset), so no prompt is ever repeated.
    offset=0
    bench_run "$workload-$policy-warmup" "$workload" "${RATES%% *}" "$WARMUP_SECONDS" "$seed" "$offset"
    offset=$(( offset + $(jq '.completed + .failed' "$OUT/$workload-$policy-warmup.json") ))
    for rate in $RATES; do
      name="$workload-$policy-$rate"
      read -r h0 q0 < <(prefix_cache_counters)
      d0="$(decode_alone)"
      read -r dh0 dq0 < <(prefix_cache_counters "$DECODE_PORT")
      bench_run "$name" "$workload" "$rate" "$DURATION" "$seed" "$offset" --metadata "policy=$policy" "workload=$workload"
      read -r h1 q1 < <(prefix_cache_counters)
      echo "$(( h1 - h0 )) $(( q1 - q0 ))" >"$OUT/$name.cache"
      echo "$(( $(decode_alone) - d0 ))" >"$OUT/$name.pd"
      read -r dh1 dq1 < <(prefix_cache_counters "$DECODE_PORT")
      echo "$(( dh1 - dh0 )) $(( dq1 - dq0 ))" >"$OUT/$name.dcache"
      offset=$(( offset + $(jq '.completed + .failed' "$OUT/$name.json") ))
    done
    echo "$before_split -> $(served_split)" >"$OUT/$workload-$policy.prefill-split"
    # The proxy's KV index counters: events applied by type (BlockRemoved = evictions seen) and KvAware's
    # decisions by role and outcome (cache_hit, cache_miss, holder_kept, fallback reasons).
    curl -fsS --max-time 5 "http://$HOST:$PROXY_PORT/metrics" 2>/dev/null | grep -E '^pdapp_proxy_kvcache_(events|decisions|pd_decisions)' \
      >"$OUT/$workload-$policy.proxy-metrics" || true
    stop_started
    cp "$OUT/logs/proxy.log" "$OUT/logs/proxy-$workload-$policy.log" 2>/dev/null || true
  done
  w=$(( w + 1 ))
done
stop_started

python3 "$BENCH_DIR/lib/kv_routing_report.py" "$OUT" --policies $POLICIES --workloads $WORKLOADS --rates $RATES --duration "$DURATION" | tee "$OUT/summary.md"
log "done: $OUT/summary.md, $OUT/kv-routing.svg"
