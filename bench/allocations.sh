#!/usr/bin/env bash
# Where the proxy's managed allocations come from, next to the baseline's: each middle process is
# traced with dotnet-trace (the runtime's GC AllocationTick events, one per ~100 KB allocated, with
# type and call stack) while it serves REQUESTS requests at CONCURRENCY streams on one simulator pair
# (profile.sh's settings), after a warm-up; bench/tools/PdApp.Bench.AllocationSites sums the ticks per
# type and per allocating site and divides by the requests. A row of a few ticks is sampling noise:
# raise REQUESTS to resolve small sites.
#
# Requirements: dotnet-trace on PATH or in DOTNET_TOOLS (dotnet tool install --tool-path DIR dotnet-trace).
# Environment: REQUESTS (4000), CONCURRENCY (256), WARMUP (1000), TRACE_SECONDS (time the trace stays
# open; long enough for REQUESTS, default 20), TARGETS ("proxy baseline"), PROXY_ARGS (extra --Key=Value
# words for the proxy), SKIP_BUILD, OUT. Ports: PROXY_PORT (8000), BASELINE_PORT (8001), PREFILL_PORT
# (8100), DECODE_PORT (8200). Output: <target>.nettrace, sites-<target>.txt, summary.md.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

REQUESTS="${REQUESTS:-4000}"
CONCURRENCY="${CONCURRENCY:-256}"
WARMUP="${WARMUP:-1000}"
TRACE_SECONDS="${TRACE_SECONDS:-20}"
TARGETS="${TARGETS:-proxy baseline}"
BASELINE_PORT="${BASELINE_PORT:-8001}"
BASELINE_PROJECT="$BENCH_DIR/baselines/PdApp.Bench.MinimalProxy"
BASELINE_DLL="$BASELINE_PROJECT/bin/$CONFIGURATION/net10.0/PdApp.Bench.MinimalProxy.dll"
SITES_PROJECT="$BENCH_DIR/tools/PdApp.Bench.AllocationSites"
SITES_DLL="$SITES_PROJECT/bin/$CONFIGURATION/net10.0/PdApp.Bench.AllocationSites.dll"
TRACE="$(command -v dotnet-trace || echo "${DOTNET_TOOLS:-$HOME/.dotnet/tools}/dotnet-trace")"
[[ -x "$TRACE" ]] || die "dotnet-trace is required (dotnet tool install --tool-path DIR dotnet-trace; DOTNET_TOOLS=DIR)"

init_run allocations
build_all
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  for project in "$BASELINE_PROJECT" "$SITES_PROJECT"; do
    dotnet build "$project" -c "$CONFIGURATION" -nologo -v quiet >"$OUT/logs/build-$(basename "$project").log" 2>&1 \
      || die "build of $project failed (see $OUT/logs/build-$(basename "$project").log)"
  done
fi
[[ -f "$BASELINE_DLL" && -f "$SITES_DLL" ]] || die "missing the baseline or the allocation-sites build"

read -ra extra <<<"${PROXY_ARGS:-}"
start_proxy_and_baseline "$BASELINE_DLL" --Pd:Proxy:Admission:MaxQueueLength=4096 "${extra[@]}"

WORKLOAD=(--model "$MODEL" --dataset random --input-len 256 --output-len 32 --ignore-eos --seed 1 --max-concurrency "$CONCURRENCY")
for target in $TARGETS; do
  pid=$PROXY_PID port=$PROXY_PORT
  [[ $target == baseline ]] && pid=$BASELINE_PID port=$BASELINE_PORT
  run_bench 300 --base-url "http://$HOST:$port" "${WORKLOAD[@]}" --num-prompts "$WARMUP" >"$OUT/warmup-$target.txt"
  # A fixed duration: dotnet-trace started in the background of a script ignores SIGINT.
  "$TRACE" collect -p "$pid" --providers 'Microsoft-Windows-DotNETRuntime:0x1:5' --duration "$(printf '00:%02d:%02d:%02d' $((TRACE_SECONDS / 3600)) $((TRACE_SECONDS / 60 % 60)) $((TRACE_SECONDS % 60)))" \
    -o "$OUT/$target.nettrace" >"$OUT/logs/trace-$target.log" 2>&1 &
  trace_pid=$!
  sleep 2
  started=$SECONDS
  run_bench 300 --base-url "http://$HOST:$port" "${WORKLOAD[@]}" --num-prompts "$REQUESTS" --output-json "$OUT/$target.json" >"$OUT/run-$target.txt"
  # Requests served after the trace closed would be counted without their allocations.
  (( SECONDS - started + 2 < TRACE_SECONDS )) || die "the run outlasted the trace: raise TRACE_SECONDS above $(( SECONDS - started + 2 ))"
  wait "$trace_pid" || die "dotnet-trace failed (see $OUT/logs/trace-$target.log)"
  served=$(jq '.runs[0].completed + .runs[0].failed' "$OUT/$target.json")
  dotnet "$SITES_DLL" "$OUT/$target.nettrace" "$served" 30 >"$OUT/sites-$target.txt"
done

for target in $TARGETS; do echo "## $target"; echo; echo '```'; cat "$OUT/sites-$target.txt"; echo '```'; echo; done | tee "$OUT/summary.md"
log "done: $OUT/summary.md"
