#!/usr/bin/env bash
# Proxy memory settings A/B, with the baseline forwarder in the same run: one prefill/decode simulator
# pair (memory.sh's settings), then ROUNDS rounds of [baseline, variant 1, variant 2, ...], each a
# fresh process measured for its RSS cold (before any request), warm (after 200 short requests) and
# peak (sampled every 0.5 s while MEM_STREAMS streams of MEM_OUTPUT_LEN tokens run at once), plus the
# anonymous / file-backed / shared (JIT memfd) split at the peak sample, and the held RSS (the median
# while the streams are held, less noisy than the one highest sample).
#
# Usage: bench/memory-ab.sh 'label|ENV=v ENV=v|proxy.dll' ...
#   label     - the row's name;
#   ENV=v ... - environment for the proxy alone (runtime knobs, or configuration as Pd__Proxy__X=v);
#   proxy.dll - optional: another build of the proxy (e.g. a ReadyToRun publish); default PROXY_DLL.
# Example: bench/memory-ab.sh 'shipped||' 'wx-off|DOTNET_EnableWriteXorExecute=0|'
#
# Environment: ROUNDS (2), MEM_STREAMS (1000), MEM_OUTPUT_LEN (200), MEM_ITL_MS (50), BASELINE_ENV
# (environment for the baseline alone), RUN_TIMEOUT (180 s), SKIP_BUILD, OUT. Ports: PROXY_PORT
# (8000), BASELINE_PORT (8001), PREFILL_PORT (8100), DECODE_PORT (8200).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

ROUNDS="${ROUNDS:-2}"
MEM_STREAMS="${MEM_STREAMS:-1000}"
MEM_OUTPUT_LEN="${MEM_OUTPUT_LEN:-200}"
MEM_ITL_MS="${MEM_ITL_MS:-50}"
RUN_TIMEOUT="${RUN_TIMEOUT:-180}"
BASELINE_PORT="${BASELINE_PORT:-8001}"
BASELINE_PROJECT="$BENCH_DIR/baselines/PdApp.Bench.MinimalProxy"
BASELINE_DLL="$BASELINE_PROJECT/bin/$CONFIGURATION/net10.0/PdApp.Bench.MinimalProxy.dll"
(( $# > 0 )) || die "usage: $0 'label|ENV=v ...|[proxy.dll]' ..."

init_run memory-ab
build_all
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  dotnet build "$BASELINE_PROJECT" -c "$CONFIGURATION" -nologo -v quiet >"$OUT/logs/build-baseline.log" 2>&1 \
    || die "build of the baseline failed (see $OUT/logs/build-baseline.log)"
fi
[[ -f "$BASELINE_DLL" ]] || die "missing $BASELINE_DLL"

PREFILL="http://$HOST:$PREFILL_PORT" DECODE="http://$HOST:$DECODE_PORT"
start_stream_pair "$MEM_ITL_MS" "$MEM_STREAMS"

# sample <pid>: VmRSS, RssAnon, RssFile, RssShmem (kB), tab-separated.
sample() { printf '%s\t%s\t%s\t%s\n' "$(status_kb "$1" VmRSS)" "$(status_kb "$1" RssAnon)" "$(status_kb "$1" RssFile)" "$(status_kb "$1" RssShmem)"; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# measure <label> <pid> <url>: cold, warm-up, warm, the streams with the sampler, one row of results.tsv.
measure() {
  local label="$1" pid="$2" url="$3" cold warm peak sampler load_start
  load_start=$(load1)
  sleep 2
  cold=$(status_kb "$pid" VmRSS)
  run_bench 120 --base-url "$url" --model "$MODEL" --input-len 128 --output-len 8 --ignore-eos \
    --max-concurrency 64 --num-prompts 200 >"$OUT/warmup-$label-r$round.txt"
  sleep 2
  warm=$(status_kb "$pid" VmRSS)
  # The managed and native images mapped once warm (which assemblies a feature left unconfigured still loads).
  awk '$6 ~ /\.(dll|so[.0-9]*)$/ { print $6 }' "/proc/$pid/maps" | sort -u >"$OUT/maps-$label-r$round.txt"
  ( while kill -0 "$pid" 2>/dev/null; do sample "$pid"; sleep 0.5; done ) >"$OUT/rss-$label-r$round.tsv" &
  sampler=$!
  run_bench "$RUN_TIMEOUT" --base-url "$url" --model "$MODEL" --input-len 128 --output-len "$MEM_OUTPUT_LEN" --ignore-eos \
    --max-concurrency "$MEM_STREAMS" --num-prompts "$MEM_STREAMS" --timeout 5m \
    --output-json "$OUT/streams-$label-r$round.json" >"$OUT/streams-$label-r$round.txt"
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  peak=$(sort -t$'\t' -k1,1n "$OUT/rss-$label-r$round.tsv" | tail -1)
  # Held: the median RSS over the middle half (in time) of the samples within 40 MB of the peak, i.e.
  # while the streams are held; less sensitive than the single highest sample to where the burst's GCs fall.
  held=$(awk -F'\t' -v p="${peak%%$'\t'*}" '$1 > p - 40960 { v[++n] = $1 } END { for (i = int(n / 4) + 1; i <= int(3 * n / 4) || i == 1; i++) print v[i] }' \
    "$OUT/rss-$label-r$round.tsv" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$label" "$(jq '.runs[0].completed' "$OUT/streams-$label-r$round.json")" \
    "$(jq '.runs[0].failed' "$OUT/streams-$label-r$round.json")" "$cold" "$warm" "$peak" "$(status_kb "$pid" VmHWM)" \
    "$held" "$load_start-$(load1)" >>"$OUT/results.tsv"
}

printf 'round\tlabel\tcompleted\tfailed\tcold_kb\twarm_kb\tpeak_kb\tpeak_anon_kb\tpeak_file_kb\tpeak_shmem_kb\thwm_kb\theld_kb\tload\n' >"$OUT/results.tsv"
for round in $(seq 1 "$ROUNDS"); do
  # The baseline first in every round, fresh, as proxy-vs-baseline.sh starts it.
  port_free "$BASELINE_PORT" || die "port $BASELINE_PORT is in use"
  read -ra benv <<<"${BASELINE_ENV:-}"
  env "${benv[@]}" dotnet "$BASELINE_DLL" --urls "http://$HOST:$BASELINE_PORT" --Prefill="$PREFILL" --Decode="$DECODE" \
    --Connector=SharedStorageConnector >"$OUT/logs/baseline-r$round.log" 2>&1 &
  BASELINE_PID=$!
  STARTED_PIDS+=("$BASELINE_PID")
  wait_ready "http://$HOST:$BASELINE_PORT/health"
  measure baseline "$BASELINE_PID" "http://$HOST:$BASELINE_PORT"
  stop_pid "$BASELINE_PID"

  for spec in "$@"; do
    IFS='|' read -r label env_words dll <<<"$spec"
    PROXY_ENV="$env_words" PROXY_DLL="${dll:-$PROXY_DLL}" start_proxy "$PROXY_PORT" "$PREFILL_PORT" "$DECODE_PORT" \
      --Pd:Proxy:Admission:MaxConcurrentRequests=$(( MEM_STREAMS * 2 )) --Pd:Proxy:Admission:MaxQueueLength=$(( MEM_STREAMS * 2 )) \
      --Pd:Proxy:Health:Enabled=false
    mv "$OUT/logs/proxy.log" "$OUT/logs/proxy-$label-r$round.log" 2>/dev/null || true
    wait_ready "http://$HOST:$PROXY_PORT/health"
    measure "$label" "$PROXY_PID" "http://$HOST:$PROXY_PORT"
    stop_pid "$PROXY_PID"
  done
done
stop_started

{
  echo "| round | setting | cold | warm | peak (anon / file / shmem) | held | VmHWM | baseline peak / held (same round) | load 1 min | completed / failed |"
  echo "|---:|---|---:|---:|---|---:|---:|---|---|---:|"
  awk -F'\t' 'NR > 1 { if ($2 == "baseline") { b[$1] = $7; bh[$1] = $12 } row[NR] = $0 }
    END { for (i = 2; i <= NR; i++) { split(row[i], f, "\t")
      printf "| %s | %s | %.1f | %.1f | **%.1f** (%.1f / %.1f / %.1f) | %.1f | %.1f | %.1f / %.1f | %s | %s / %s |\n", f[1], f[2], f[5] / 1024, f[6] / 1024,
        f[7] / 1024, f[8] / 1024, f[9] / 1024, f[10] / 1024, f[12] / 1024, f[11] / 1024, b[f[1]] / 1024, bh[f[1]] / 1024, f[13], f[3], f[4] } }' "$OUT/results.tsv"
} | tee "$OUT/summary.md"
log "done: $OUT/summary.md"
