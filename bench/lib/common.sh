#!/usr/bin/env bash
# Shared helpers of the bench scripts: build once, start simulators and the proxy on loopback,
# wait for readiness, bound every run's time, and stop exactly the processes we started.
# Sourced by the scripts in bench/; not meant to be run directly.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
CONFIGURATION="${CONFIGURATION:-Release}"
PROXY_DLL="${PROXY_DLL:-$REPO_ROOT/src/PdApp.Proxy/bin/$CONFIGURATION/net10.0/PdApp.Proxy.dll}"
SIM_DLL="$REPO_ROOT/src/PdApp.Simulator/bin/$CONFIGURATION/net10.0/PdApp.Simulator.dll"
BENCH_DLL="$REPO_ROOT/src/PdApp.Bench/bin/$CONFIGURATION/net10.0/PdApp.Bench.dll"
MODEL="${MODEL:-/data/dp7b/}"          # the simulator only uses it as the served model name
HOST=127.0.0.1                          # loopback only, always
PROXY_PORT="${PROXY_PORT:-8000}"        # ports as in vLLM's disaggregation guide; override when taken
PREFILL_PORT="${PREFILL_PORT:-8100}"    # first prefill instance; the i-th listens on PREFILL_PORT + i
DECODE_PORT="${DECODE_PORT:-8200}"      # first decode instance; the i-th listens on DECODE_PORT + i
export NUGET_CERT_REVOCATION_MODE="${NUGET_CERT_REVOCATION_MODE:-offline}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1

# Optional CPU pinning (taskset -c lists such as "1" or "0-3"): PROXY_CPUS for the proxy,
# WORKLOAD_CPUS for the simulators and the bench client. On a small machine this keeps the proxy
# from competing with the client and the engines for the same core. Unset: no pinning.
PROXY_CPUS="${PROXY_CPUS:-}"
WORKLOAD_CPUS="${WORKLOAD_CPUS:-}"

STARTED_PIDS=()
LOAD_SAMPLER=""

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Creates $OUT (results and logs of this run) under bench/results/<name>-<timestamp>.
init_run() {
  local name="$1"
  OUT="${OUT:-$BENCH_DIR/results/$name-$(date -u +%Y%m%dT%H%M%SZ)}"
  mkdir -p "$OUT/logs"
  KV_DIR="$(mktemp -d /tmp/pdapp-bench-kv.XXXXXX)"
  trap cleanup EXIT
  trap 'log "interrupted"; exit 130' INT TERM
  log "results in $OUT"
  # The machine's load during the run, so results from a shared machine can be judged: uptime at
  # start and end, and /proc/loadavg every 5 s.
  { echo "start: $(uptime)"; echo "proxy cpus: ${PROXY_CPUS:-any}; workload cpus: ${WORKLOAD_CPUS:-any}"; } >"$OUT/uptime.txt"
  ( while :; do printf '%s\t%s\n' "$(date -u +%H:%M:%S)" "$(cut -d' ' -f1-3 /proc/loadavg)"; sleep 5; done ) >"$OUT/load.tsv" &
  LOAD_SAMPLER=$!
}

# pin_prefix <cpu list>: sets PIN to the command prefix that pins to those CPUs (taskset execs the
# command, so $! stays the server's own pid), or to nothing when no list is given.
pin_prefix() {
  PIN=()
  [[ -z "$1" ]] || PIN=(taskset -c "$1")
}

# Stops the processes this script started (by pid, never by name) and removes the KV folder.
cleanup() {
  stop_started
  if [[ -n "$LOAD_SAMPLER" ]]; then
    kill "$LOAD_SAMPLER" 2>/dev/null || true
    echo "end:   $(uptime)" >>"$OUT/uptime.txt"
  fi
  [[ -n "${KV_DIR:-}" && -d "$KV_DIR" ]] && rm -rf "$KV_DIR"
  return 0
}

# Stops every process started so far (between phases of a script).
stop_started() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  STARTED_PIDS=()
  return 0
}

# Stops one started process (e.g. the proxy, to restart it with another policy).
stop_pid() {
  local pid="$1" remaining=() p
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  for p in "${STARTED_PIDS[@]}"; do [[ "$p" == "$pid" ]] || remaining+=("$p"); done
  STARTED_PIDS=("${remaining[@]}")
}

# Builds the proxy, the simulator and the bench (one build at a time; the machine is shared).
build_all() {
  if [[ "${SKIP_BUILD:-0}" == 1 ]]; then
    log "SKIP_BUILD=1: using existing $CONFIGURATION builds"
  else
    local project
    for project in PdApp.Simulator PdApp.Proxy PdApp.Bench; do
      log "building $project ($CONFIGURATION)"
      dotnet build "$REPO_ROOT/src/$project" -c "$CONFIGURATION" -nologo -v quiet >"$OUT/logs/build-$project.log" 2>&1 \
        || die "build of $project failed (see $OUT/logs/build-$project.log)"
    done
  fi
  [[ -f "$PROXY_DLL" && -f "$SIM_DLL" && -f "$BENCH_DLL" ]] || die "missing build outputs under src/*/bin/$CONFIGURATION"
}

port_free() { ! (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# start_simulator <name> <port> <kv_role> [extra vllm flags...]: a SharedStorageConnector instance.
start_simulator() {
  local name="$1" port="$2" role="$3"; shift 3
  port_free "$port" || die "port $port is in use"
  local config
  config=$(printf '{"kv_connector":"SharedStorageConnector","kv_role":"%s","kv_connector_extra_config":{"shared_storage_path":"%s"}}' "$role" "$KV_DIR")
  pin_prefix "$WORKLOAD_CPUS"
  # SIMULATOR_ENV: extra NAME=value words for the simulators' environment (e.g. log levels of a category).
  # shellcheck disable=SC2086
  "${PIN[@]}" env ${SIMULATOR_ENV:-} dotnet "$SIM_DLL" serve "$MODEL" --host "$HOST" --port "$port" --instance-name "$name" \
    --kv-transfer-config "$config" "$@" >"$OUT/logs/$name.log" 2>&1 &
  STARTED_PIDS+=("$!")
  log "started $name on $HOST:$port (pid $!)"
}

# start_proxy <port> <prefill ports (comma-separated)> <decode ports (comma-separated)> [extra --Key=Value...]
# PROXY_ENV: extra environment for the proxy process alone, "NAME=value NAME=value" (runtime knobs such as
# MALLOC_ARENA_MAX=2 or DOTNET_GCConserveMemory=5, without changing the simulators or the bench client).
start_proxy() {
  local port="$1" prefills="$2" decodes="$3"; shift 3
  port_free "$port" || die "port $port is in use"
  local args=(--urls "http://$HOST:$port" --Pd:Connector=SharedStorageConnector --Logging:LogLevel:Default=Warning
    --Pd:Proxy:ShutdownDrainDelaySeconds=0)  # benches stop the proxy directly: no orchestrator to drain
  local i=0 p
  IFS=, read -ra P <<<"$prefills"
  for p in "${P[@]}"; do
    args+=("--Pd:Instances:$i:Name=prefill-$i" "--Pd:Instances:$i:Role=Prefill" "--Pd:Instances:$i:Address=http://$HOST:$p"); i=$((i + 1))
  done
  local d=0
  IFS=, read -ra D <<<"$decodes"
  for p in "${D[@]}"; do
    args+=("--Pd:Instances:$i:Name=decode-$d" "--Pd:Instances:$i:Role=Decode" "--Pd:Instances:$i:Address=http://$HOST:$p"); i=$((i + 1)); d=$((d + 1))
  done
  local envs=()
  [[ -z "${PROXY_ENV:-}" ]] || read -ra envs <<<"$PROXY_ENV"
  pin_prefix "$PROXY_CPUS"
  "${PIN[@]}" env "${envs[@]}" dotnet "$PROXY_DLL" "${args[@]}" "$@" >"$OUT/logs/proxy.log" 2>&1 &
  PROXY_PID=$!
  STARTED_PIDS+=("$PROXY_PID")
  log "started proxy on $HOST:$port (pid $PROXY_PID)"
}

# start_proxy_and_baseline <baseline.dll> [proxy --Key=Value ...]: one prefill/decode simulator pair at
# 5 ms per token and no other modelled latency (profile.sh's and allocations.sh's settings), the proxy in
# front of it (PROXY_PID, PROXY_PORT) and the baseline forwarder beside it (BASELINE_PID, BASELINE_PORT),
# all answering /health when it returns.
start_proxy_and_baseline() {
  local baseline_dll="$1"; shift
  local sim_flags=(--time-to-first-token 5 --inter-token-latency 5 --prefill-time-per-token 0
    --kv-cache-transfer-latency 1 --kv-cache-transfer-time-per-token 0 --time-factor-under-load 1 --max-num-seqs 1024)
  start_simulator prefill-0 "$PREFILL_PORT" kv_producer "${sim_flags[@]}"
  start_simulator decode-0 "$DECODE_PORT" kv_consumer "${sim_flags[@]}"
  wait_ready "http://$HOST:$PREFILL_PORT/health"
  wait_ready "http://$HOST:$DECODE_PORT/health"
  start_proxy "$PROXY_PORT" "$PREFILL_PORT" "$DECODE_PORT" --Pd:Proxy:Admission:MaxConcurrentRequests=4096 "$@"
  port_free "$BASELINE_PORT" || die "port $BASELINE_PORT is in use"
  dotnet "$baseline_dll" --urls "http://$HOST:$BASELINE_PORT" --Prefill="http://$HOST:$PREFILL_PORT" \
    --Decode="http://$HOST:$DECODE_PORT" >"$OUT/logs/baseline.log" 2>&1 &
  BASELINE_PID=$!
  STARTED_PIDS+=("$BASELINE_PID")
  wait_ready "http://$HOST:$PROXY_PORT/health"
  wait_ready "http://$HOST:$BASELINE_PORT/health"
}

# wait_ready <url> [seconds]: polls GET <url> until 200.
wait_ready() {
  local url="$1" limit="${2:-60}" start=$SECONDS
  until curl -fs -o /dev/null --max-time 2 "$url"; do
    (( SECONDS - start < limit )) || die "$url not ready after ${limit}s"
    sleep 0.3
  done
}

# start_stream_pair <inter-token ms> <streams>: prefill-0 and decode-0 simulators on PREFILL_PORT/DECODE_PORT
# that hold <streams> streams at once (no prompt cost, no slow-down under load, a KV cache that never
# evicts), so a memory run measures the proxy and not the engines; ready on return.
start_stream_pair() {
  local itl_ms="$1" streams="$2"
  local flags=(--time-to-first-token 5 --inter-token-latency "$itl_ms" --prefill-time-per-token 0
    --time-factor-under-load 1 --max-num-seqs $(( streams * 2 )) --kv-cache-size 1000000)
  start_simulator prefill-0 "$PREFILL_PORT" kv_producer "${flags[@]}"
  start_simulator decode-0 "$DECODE_PORT" kv_consumer "${flags[@]}"
  wait_ready "http://$HOST:$PREFILL_PORT/health"
  wait_ready "http://$HOST:$DECODE_PORT/health"
}

# status_kb <pid> <field>: a field of /proc/<pid>/status in kB (VmRSS, RssAnon, RssFile, Threads...).
status_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }

# run_bench <seconds> <bench args...>: the bench CLI under a hard time limit (SIGINT first, so
# it still writes its partial results, then SIGKILL 10 s later).
run_bench() {
  local limit="$1"; shift
  log "bench: $*"
  local rc=0
  pin_prefix "$WORKLOAD_CPUS"
  timeout --signal=INT --kill-after=10 "$limit" "${PIN[@]}" dotnet "$BENCH_DLL" --no-progress "$@" || rc=$?
  # 3 = some requests failed, 124 = time limit hit (the bench still wrote its partial results,
  # marked "aborted"): both are reported, neither stops the script.
  case $rc in
    0) ;;
    3) log "some requests failed (see the results)" ;;
    124) log "time limit of ${limit}s reached: partial results" ;;
    *) die "bench exited with $rc" ;;
  esac
}

# Machine facts for RESULTS.md.
describe_machine() {
  echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) logical cores"
  echo "- Memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "- OS: $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "- .NET: $(dotnet --version)"
  echo "- Commit: $(git -C "$REPO_ROOT" rev-parse --short HEAD)$(git -C "$REPO_ROOT" diff --quiet || echo ' (dirty)')"
  echo "- Date: $(date -u +%Y-%m-%dT%H:%MZ)"
}
