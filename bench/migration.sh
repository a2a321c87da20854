#!/usr/bin/env bash
# Request migration under load (issue 14): 1 prefill + DECODES decode simulators behind the proxy
# on loopback; STREAMS streams run at once and decode-0 is killed (SIGKILL) mid-way through them.
# Every stream is read by a small stdlib-Python client that records each event's arrival, so the
# report can say, per stream: served to the end ([DONE], no error event) or cut (in-band error,
# broken connection, HTTP error); for the streams decode-0 served (X-PdApp-Decode-Instance), the
# stall at the migration point (the longest gap between two events) against the stream's own
# time to first token. The proxy's pdapp.proxy.migrations counter (outcome, reason) is read from
# its /metrics after the run.
#
# Targets (issue 14): 0 client-visible failures with 2+ decode instances; stall <= 2 x TTFT.
#
# Environment: STREAMS (200), DECODES (2), OUTPUT_LEN (150), ITL_MS (20), KILL_AFTER (0.5 s after every stream has its first token),
# MAX_ATTEMPTS (Pd:Proxy:Migration:MaxAttempts, 1), SKIP_BUILD, OUT, ports as in lib/common.sh.
# Called on its own or from bench/reliability.sh; prints the summary table and writes
# $OUT/migration-summary.md and $OUT/migration-streams.tsv.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

STREAMS="${STREAMS:-200}"
DECODES="${DECODES:-2}"
OUTPUT_LEN="${OUTPUT_LEN:-150}"
ITL_MS="${ITL_MS:-20}"
KILL_AFTER="${KILL_AFTER:-0.5}"
MAX_ATTEMPTS="${MAX_ATTEMPTS:-1}"
(( DECODES >= 2 )) || die "DECODES must be 2 or more: the killed decode's streams need somewhere to go"
command -v python3 >/dev/null || die "python3 is needed for the stream client"

init_run migration
build_all

SIM_FLAGS=(--time-to-first-token 20 --inter-token-latency "$ITL_MS" --time-factor-under-load 1
  --max-num-seqs $(( STREAMS * 2 )) --kv-cache-size 1000000)
start_simulator prefill-0 "$PREFILL_PORT" kv_producer "${SIM_FLAGS[@]}"
decode_ports=()
for (( d = 0; d < DECODES; d++ )); do
  start_simulator "decode-$d" $(( DECODE_PORT + d )) kv_consumer "${SIM_FLAGS[@]}"
  (( d == 0 )) && VICTIM_PID="${STARTED_PIDS[-1]}"
  decode_ports+=($(( DECODE_PORT + d )))
done
wait_ready "http://$HOST:$PREFILL_PORT/health"
for port in "${decode_ports[@]}"; do wait_ready "http://$HOST:$port/health"; done
start_proxy "$PROXY_PORT" "$PREFILL_PORT" "$(IFS=,; echo "${decode_ports[*]}")" \
  "--Pd:Proxy:Migration:MaxAttempts=$MAX_ATTEMPTS" \
  "--Pd:Proxy:Admission:MaxConcurrentRequests=$(( STREAMS * 2 ))"
wait_ready "http://$HOST:$PROXY_PORT/health"

# The client kills decode-0 (SIGKILL, as a crash: no drain, connections reset) once every stream
# has its first token, KILL_AFTER seconds later, so the killed decode's streams are mid-way.
log "running $STREAMS streams of $OUTPUT_LEN tokens; decode-0 (pid $VICTIM_PID) dies ${KILL_AFTER}s after all streams started"
timeout 300 python3 - "$HOST" "$PROXY_PORT" "$MODEL" "$STREAMS" "$OUTPUT_LEN" "$VICTIM_PID" "$KILL_AFTER" >"$OUT/migration-streams.tsv" <<'PY'
import http.client, json, os, signal, sys, threading, time
host, port, model, streams, output_len = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
victim, kill_after = int(sys.argv[6]), float(sys.argv[7])
started = threading.Semaphore(0)

def killer():
    deadline = time.monotonic() + 120
    for _ in range(streams):
        if not started.acquire(timeout=max(0.0, deadline - time.monotonic())):
            break
    time.sleep(kill_after)
    os.kill(victim, signal.SIGKILL)
    print("# killed decode-0 at %.3f s" % (time.monotonic() - t0), file=sys.stderr)

t0 = time.monotonic()
rows, lock = [], threading.Lock()

def one(i):
    body = json.dumps({"model": model, "prompt": f"Stream {i}: tell a long story about rivers", "max_tokens": output_len,
                       "seed": i, "stream": True, "stream_options": {"include_usage": True}})
    start, times, served, outcome, usage = time.monotonic(), [], "-", "ok", None
    try:
        conn = http.client.HTTPConnection(host, port, timeout=120)
        conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        served = resp.getheader("X-PdApp-Decode-Instance", "-")
        if resp.status != 200:
            outcome = f"http_{resp.status}"
        else:
            done = False
            for raw in resp:
                line = raw.decode().strip()
                if not line.startswith("data: "):
                    continue
                data = line[6:]
                if data == "[DONE]":
                    done = True
                    continue
                chunk = json.loads(data)
                if "error" in chunk:
                    outcome = "in_band_error"
                elif chunk.get("usage"):
                    usage = chunk["usage"]["completion_tokens"]
                elif chunk.get("choices"):
                    times.append(time.monotonic() - start)
                    if len(times) == 1:
                        started.release()
            if outcome == "ok" and not done:
                outcome = "no_done"
            if outcome == "ok" and (usage != output_len or len(times) != output_len):
                outcome = f"short_{len(times)}"
    except Exception as e:  # broken connection, timeout
        outcome = "broken:" + type(e).__name__
    ttft = times[0] if times else float("nan")
    gaps = [b - a for a, b in zip(times, times[1:])]
    with lock:
        rows.append((i, served, outcome, ttft, max(gaps) if gaps else float("nan"), len(times)))

threads = [threading.Thread(target=one, args=(i,)) for i in range(streams)]
threading.Thread(target=killer, daemon=True).start()
for t in threads: t.start()
for t in threads: t.join()
print("stream\tserved_by\toutcome\tttft_s\tmax_gap_s\tchunks")
for r in sorted(rows):
    print("%d\t%s\t%s\t%.4f\t%.4f\t%d" % r)
PY

curl -fsS --max-time 60 "http://$HOST:$PROXY_PORT/metrics" >"$OUT/proxy-metrics.txt" || log "could not read the proxy's /metrics"
grep -E '^pdapp_proxy_migrations' "$OUT/proxy-metrics.txt" >"$OUT/migration-metrics.txt" || true

# Per stream: the killed decode's streams are those X-PdApp-Decode-Instance names decode-0 (the
# header is sent before the failure); their stall is the longest gap between events, compared to
# the TTFT of all streams (median) and to their own.
awk -F'\t' 'NR > 1 {
    total++; if ($3 == "ok") ok++; else cut++
    ttfts[++n] = $4
    if ($2 == "decode-0") { victims++; if ($3 == "ok") { migrated++; stall[++m] = $5; ratio[m] = $5 / $4 } }
  }
  function median(a, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }; return k ? a[int((k + 1) / 2)] : 0 }
  function maxof(a, k,   i, x) { x = 0; for (i = 1; i <= k; i++) if (a[i] > x) x = a[i]; return x }
  END {
    printf "| streams | served to the end | cut (client-visible failures) | on killed decode | migrated | TTFT p50 (ms) | stall p50 (ms) | stall max (ms) | stall / own TTFT, max |\n"
    printf "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    printf "| %d | %d | %d | %d | %d | %.1f | %.1f | %.1f | %.2f |\n", total, ok, cut, victims, migrated,
      median(ttfts, n) * 1000, median(stall, m) * 1000, maxof(stall, m) * 1000, maxof(ratio, m)
  }' "$OUT/migration-streams.tsv" | tee "$OUT/migration-summary.md"
{ echo; echo "pdapp.proxy.migrations:"; sed 's/^/    /' "$OUT/migration-metrics.txt"; } | tee -a "$OUT/migration-summary.md"
log "done: $OUT/migration-summary.md"
