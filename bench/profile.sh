#!/usr/bin/env bash
# Where the proxy's CPU goes, next to the baseline's: a perf profile (software cpu-clock event,
# call stacks, JIT symbols from the runtime's perf map) and managed allocations per request
# (dotnet-counters, if installed) of each middle process alone, over REQUESTS requests at
# CONCURRENCY streams on one simulator pair (proxy-overhead.sh's settings), after a warm-up.
#
# Methods are JIT-compiled once, fully optimised (DOTNET_TieredCompilation=0, DOTNET_ReadyToRun=0),
# so no tier-up JIT runs in the window and every frame has a symbol; W^X is off so perf can map
# JIT code. Output per target: <target>.perf.data, <target>.script.txt (`perf script`), the
# samples' owners (leaf-most frame outside CoreLib) in owners-<target>.txt, and summary.md.
#
# Requirements: perf (perf_event_paranoid <= 2 profiles own processes), python3; optional
# dotnet-counters on PATH or in DOTNET_TOOLS (dotnet tool install --tool-path DIR dotnet-counters).
# Environment: REQUESTS (3000), CONCURRENCY (64), WARMUP (500), TARGETS ("proxy baseline"),
# SKIP_BUILD, OUT. Ports: PROXY_PORT (8000), BASELINE_PORT (8001), PREFILL_PORT (8100), DECODE_PORT (8200).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

REQUESTS="${REQUESTS:-3000}"
CONCURRENCY="${CONCURRENCY:-64}"
WARMUP="${WARMUP:-500}"
TARGETS="${TARGETS:-proxy baseline}"
BASELINE_PORT="${BASELINE_PORT:-8001}"
BASELINE_PROJECT="$BENCH_DIR/baselines/PdApp.Bench.MinimalProxy"
BASELINE_DLL="$BASELINE_PROJECT/bin/$CONFIGURATION/net10.0/PdApp.Bench.MinimalProxy.dll"
COUNTERS="$(command -v dotnet-counters || echo "${DOTNET_TOOLS:-}/dotnet-counters")"
command -v perf >/dev/null || die "perf is required"

init_run profile
build_all
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  dotnet build "$BASELINE_PROJECT" -c "$CONFIGURATION" -nologo -v quiet >"$OUT/logs/build-baseline.log" 2>&1 \
    || die "build of the baseline failed (see $OUT/logs/build-baseline.log)"
fi

# The servers run from an empty folder: their content root is watched for appsettings changes, so
# a busy one (perf writing its data) would show up as FileSystemWatcher work in the profile.
OUT="$(cd "$OUT" && pwd)"
PROFILE_ROOT="$(mktemp -d /tmp/pdapp-profile-root.XXXXXX)"
cd "$PROFILE_ROOT"
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 DOTNET_TieredCompilation=0 DOTNET_ReadyToRun=0
start_proxy_and_baseline "$BASELINE_DLL"

WORKLOAD=(--model "$MODEL" --dataset random --input-len 256 --output-len 32 --ignore-eos --seed 1 --max-concurrency "$CONCURRENCY")
for target in $TARGETS; do
  pid=$PROXY_PID port=$PROXY_PORT
  [[ $target == baseline ]] && pid=$BASELINE_PID port=$BASELINE_PORT
  run_bench 300 --base-url "http://$HOST:$port" "${WORKLOAD[@]}" --num-prompts "$WARMUP" >"$OUT/warmup-$target.txt"
  perf record -e cpu-clock -F 997 -g -p "$pid" -o "$OUT/$target.perf.data" >"$OUT/logs/perf-$target.log" 2>&1 &
  perf_pid=$!
  counters_pid=""
  if [[ -x "$COUNTERS" ]]; then
    "$COUNTERS" collect -p "$pid" --counters System.Runtime --format csv --refresh-interval 1 \
      -o "$OUT/$target.counters.csv" >"$OUT/logs/counters-$target.log" 2>&1 &
    counters_pid=$!
  fi
  run_bench 600 --base-url "http://$HOST:$port" "${WORKLOAD[@]}" --num-prompts "$REQUESTS" \
    --output-json "$OUT/$target.json" >"$OUT/run-$target.txt"
  # Background jobs of a script ignore SIGINT: perf installs its own handler, dotnet-counters gets TERM.
  kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" || true
  [[ -z "$counters_pid" ]] || { kill -TERM "$counters_pid" 2>/dev/null || true; wait "$counters_pid" || true; }
  cpu_ms=$(perf report -i "$OUT/$target.perf.data" --stdio 2>/dev/null | awk '/^# Event count/ { print $NF / 1e6 }')
  perf script -i "$OUT/$target.perf.data" -F comm,tid,ip,sym,dso >"$OUT/$target.script.txt" 2>/dev/null
  requests=$(jq '.runs[0].completed + .runs[0].failed + 1' "$OUT/$target.json")
  python3 "$BENCH_DIR/lib/perf_owners.py" "$OUT/$target.script.txt" "$(awk -v c="$cpu_ms" -v n="$requests" 'BEGIN { print c / n }')" \
    >"$OUT/owners-$target.txt"
  if [[ -f "$OUT/$target.counters.csv" ]]; then
    awk -F, -v n="$requests" '/total_allocated/ { s += $NF } END { printf "managed allocations: %.1f KiB per request (window incl. a few idle seconds)\n", s / n / 1024 }' \
      "$OUT/$target.counters.csv" >>"$OUT/owners-$target.txt"
  fi
done

for target in $TARGETS; do echo "## $target"; echo; echo '```'; cat "$OUT/owners-$target.txt"; echo '```'; echo; done | tee "$OUT/summary.md"
cd "$OUT" && rmdir "$PROFILE_ROOT" 2>/dev/null || true
log "done: $OUT/summary.md"
