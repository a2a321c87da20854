#!/usr/bin/env python3
"""Reliability probes of the PD proxy (issues 12 and 14), driven by bench/reliability.sh.

Standard library only. Talks HTTP/1.1 to the proxy and the simulators on loopback, freezes and
kills instances by the pids the shell script started (never by name), and prints one markdown
table. Every wait is bounded.
"""
import argparse
import asyncio
import http.client
import json
import os
import re
import signal
import socket
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import event_loop_client
from kill_watch import FinTracker, close_wait_count  # one reader of /proc/net/tcp{,6} and one FIN tracker for both

HOST = "127.0.0.1"
MODEL = os.environ.get("MODEL", "/data/dp7b/")


def log(message):
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {message}", file=sys.stderr, flush=True)


def body(prompt="Hello from the reliability bench", max_tokens=16, stream=False, seed=None):
    payload = {"model": MODEL, "prompt": prompt, "max_tokens": max_tokens, "stream": stream, "ignore_eos": True}
    if seed is not None:
        payload["seed"] = seed
    if stream:
        payload["stream_options"] = {"include_usage": True}
    return json.dumps(payload).encode()


def post(port, payload, timeout=60):
    """A whole request: (status, headers, body bytes, seconds)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("POST", "/v1/completions", payload, {"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), data, time.monotonic() - started
    except (OSError, http.client.HTTPException) as ex:
        return 0, {}, str(ex).encode(), time.monotonic() - started
    finally:
        conn.close()


def stream(port, payload, timeout=60, on_event=None, arrivals=None):
    """A streamed request: (status, headers, [data payloads], seconds, error); `arrivals` gets each event's monotonic time."""
    started = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    events = []
    try:
        conn.request("POST", "/v1/completions", payload, {"Content-Type": "application/json"})
        response = conn.getresponse()
        headers = dict(response.getheaders())
        if response.status != 200:
            response.read()
            return response.status, headers, events, time.monotonic() - started, None
        while True:
            line = response.readline()
            if not line:
                break
            if line.startswith(b"data: "):
                events.append(line[6:].strip().decode("utf-8", "replace"))
                if arrivals is not None:
                    arrivals.append(time.monotonic())
                if on_event and on_event(len(events), conn):
                    break
            if events and events[-1] == "[DONE]":
                break
        return 200, headers, events, time.monotonic() - started, None
    except (OSError, http.client.HTTPException) as ex:
        return 0, {}, events, time.monotonic() - started, str(ex)
    finally:
        conn.close()


def metric(port, name):
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
        conn.close()
    except (OSError, http.client.HTTPException):
        return None
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def in_flight(ports):
    values = [metric(p, "vllm:num_requests_running") or 0 for p in ports]
    values += [metric(p, "vllm:num_requests_waiting") or 0 for p in ports]
    return sum(values)


def proc_stats(pid):
    with open(f"/proc/{pid}/status") as f:
        rss_kb = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss_kb / 1024, fds


def wait_until(predicate, limit):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def cancel_latency(port, instance_ports, payload, cancel_when, count):
    """Disconnects `count` clients at `cancel_when` and times until the instances hold no request."""
    latencies = []
    for _ in range(count):
        if not wait_until(lambda: in_flight(instance_ports) == 0, 10):
            log("instances still busy before a cancel probe")
        cut = {}

        def on_event(n, conn):
            if cancel_when == "first_event" and n >= 2:
                cut["at"] = time.monotonic()
                conn.sock.shutdown(socket.SHUT_RDWR)
                return True
            return False

        if cancel_when == "first_event":
            stream(port, payload, timeout=30, on_event=on_event)
        else:
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
            conn.request("POST", "/v1/completions", payload, {"Content-Type": "application/json"})
            wait_until(lambda: in_flight(instance_ports) > 0, 5)
            cut["at"] = time.monotonic()
            conn.sock.shutdown(socket.SHUT_RDWR)
            conn.close()
        if "at" not in cut:
            continue
        if wait_until(lambda: in_flight(instance_ports) == 0, 10):
            latencies.append((time.monotonic() - cut["at"]) * 1000)
    return latencies


def many_streams(port, total, concurrency):
    """`total` streams; lost = no 200 + [DONE] or an error event; mixed = ids shared or not one per stream."""
    results = []

    def one(_):
        return stream(port, body(max_tokens=20, stream=True), timeout=120)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, range(total)))
    lost = mixed = 0
    owners = {}
    for i, (status, _, events, _, error) in enumerate(results):
        if status != 200 or error or not events or events[-1] != "[DONE]" or any('"error"' in e for e in events):
            lost += 1
            continue
        try:
            ids = {json.loads(e).get("id") for e in events[:-1]}
        except ValueError:
            mixed += 1
            continue
        if len(ids) != 1:
            mixed += 1
            continue
        stream_id = ids.pop()
        if stream_id in owners:
            mixed += 1
        owners[stream_id] = i
    return lost, mixed


def slow_uploads(port, uploads, rate, normal):
    """Normal request latency alone, then while `uploads` clients trickle bodies at `rate` B/s."""
    def normal_round():
        results = [post(port, body(max_tokens=4), timeout=60) for _ in range(normal)]
        ok = [r[3] * 1000 for r in results if r[0] == 200]
        return len(ok), (statistics.median(ok) if ok else float("nan")), (max(ok) if ok else float("nan"))

    idle = normal_round()
    stop = threading.Event()
    sockets = []

    def trickle():
        s = socket.create_connection((HOST, port), timeout=5)
        sockets.append(s)
        payload = body(prompt="x" * 10000)
        head = (f"POST /v1/completions HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n").encode()
        try:
            s.sendall(head)
            for i in range(0, len(payload), max(1, rate // 10)):
                if stop.is_set():
                    break
                s.sendall(payload[i:i + max(1, rate // 10)])
                time.sleep(0.1)
        except OSError:
            pass

    threads = [threading.Thread(target=trickle, daemon=True) for _ in range(uploads)]
    for t in threads:
        t.start()
    time.sleep(2)
    loaded = normal_round()
    stop.set()
    for s in sockets:
        try:
            s.close()
        except OSError:
            pass
    return idle, loaded


def longest_wait_after(port, action, requests, payload, pre=None):
    """Runs `action` (freeze or kill) then `requests` concurrent requests; the longest one's seconds."""
    pre_results = []
    pre_threads = []
    if pre:
        # Streams already running when the instance fails: time from the failure to their end.
        def run_pre():
            status, headers, events, _, error = stream(port, pre, timeout=120)
            pre_results.append((time.monotonic(), headers.get("X-PdApp-Decode-Instance"), events, error))
        pre_threads = [threading.Thread(target=run_pre, daemon=True) for _ in range(requests)]
        for t in pre_threads:
            t.start()
        time.sleep(1.5)
    failed_at = time.monotonic()
    action()
    with ThreadPoolExecutor(max_workers=requests) as pool:
        results = list(pool.map(lambda _: post(port, payload, timeout=120), range(requests)))
    for t in pre_threads:
        t.join(130)
    waits = [r[3] for r in results]
    errors = sum(1 for r in results if r[0] != 200)
    for status, _, data, _ in results:
        if status != 200:
            log(f"  failed: {status} {data[:200]!r}")
    cut = [end - failed_at for end, instance, _, _ in pre_results if instance == "decode-0"]
    return max(waits), errors, (max(cut) if cut else float("nan")), len(cut)


def proxy_metric_lines(port, prefix):
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
        conn.close()
    except (OSError, http.client.HTTPException):
        return []
    return [line for line in text.splitlines() if line.startswith(prefix)]


def watch_exit(port, into):
    """Polls the killed instance's listening port until it refuses connections: its sockets are closed
    (the kernel closes them once every thread of the process has exited), so from then on its peers see
    their connections end. Records the monotonic time; then follows the proxy's connections to it in
    /proc/net/tcp: when the first and the most had the FIN (CLOSE_WAIT) and when the proxy had closed them all."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=0.05).close()
        except ConnectionRefusedError:
            into["gone"] = time.monotonic()
            break
        except OSError:
            pass
        time.sleep(0.001)
    fins = FinTracker(into)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        if fins.update(close_wait_count(port), time.monotonic()):
            return
        time.sleep(0.002)


def migration_under_kill(port, streams, output_len, victim_pid, victim_port, kill_after, new_requests):
    """Request migration (issue 14): `streams` seeded streams of `output_len` tokens run at once; once each
    has its first token, decode-0 is killed (SIGKILL) `kill_after` s later and `new_requests` requests are
    sent. Per stream: the decode that served it first (X-PdApp-Decode-Instance, sent before the failure),
    served to the end (200, [DONE], no error event, `output_len` content chunks and completion_tokens) or
    cut, its TTFT and its longest gap between two content events (the stall at the migration point for
    a migrated stream); the added stall is that gap minus the stream's median gap."""
    started = threading.Semaphore(0)
    killed = {}
    results = [None] * streams

    def one(i):
        arrivals = []
        first = []

        def on_event(n, _):
            if n == 1:
                first.append(True)
                started.release()
            return False

        begin = time.monotonic()
        status, headers, events, _, error = stream(
            port, migration_body(i, output_len), timeout=120, on_event=on_event, arrivals=arrivals)
        end = time.monotonic()
        if not first:
            started.release()
        results[i] = stream_row(status, headers, events, arrivals, error, begin, end, output_len)

    def killer():
        deadline = time.monotonic() + 120
        for _ in range(streams):
            if not started.acquire(timeout=max(0.0, deadline - time.monotonic())):
                break
        time.sleep(kill_after)
        killed["at"] = time.monotonic()
        killed["wall"] = time.time()
        os.kill(victim_pid, signal.SIGKILL)
        threading.Thread(target=watch_exit, args=(victim_port, killed), daemon=True).start()
        with ThreadPoolExecutor(max_workers=new_requests) as pool:
            killed["new"] = list(pool.map(lambda _: post(port, body(max_tokens=4), timeout=120), range(new_requests)))

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(streams)]
    kill_thread = threading.Thread(target=killer, daemon=True)
    kill_thread.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    kill_thread.join(150)
    return summarise_kill(results, killed, streams)


# Words added to every migration-probe and reference prompt (--prompt-words): the probe's own prompt is ~10
# tokens, so a continuation's prompt is mostly the relayed text; longer prompts show the stall where the
# prompt's compute, not the relayed text's, makes a request's TTFT.
PROMPT_WORDS = 0


def probe_prompt(kind, i, extra_words=0):
    """The prompt of the migration probe's stream (`kind` "Stream") or a reference stream ("Reference") `i`."""
    return f"{kind} {i}: tell a long story about rivers" + " word" * (PROMPT_WORDS + extra_words)


def migration_body(i, output_len):
    """The migration probe's stream `i` (seeded, so a migrated stream's text can be compared)."""
    return body(prompt=probe_prompt("Stream", i), max_tokens=output_len, stream=True, seed=i)


def stream_row(status, headers, events, arrivals, error, begin, end, output_len):
    """One migration-probe stream, from either client: the decode that served it first, served to the end or
    cut (and how), TTFT, its content events' arrival times, and its longest gap minus its median gap."""
    content, usage, errored = [], None, False
    for data, at in zip(events, arrivals):
        if data == "[DONE]":
            continue
        try:
            chunk = json.loads(data)
        except ValueError:
            errored = True
            continue
        if "error" in chunk:
            errored = True
        elif chunk.get("usage"):
            usage = chunk["usage"].get("completion_tokens")
        if chunk.get("choices"):
            content.append(at)
    if status != 200:
        outcome = f"http_{status}" if status else "broken"
    elif error:
        outcome = "broken"
    elif errored:
        outcome = "in_band_error"
    elif not events or events[-1] != "[DONE]":
        outcome = "no_done"
    elif len(content) != output_len or usage != output_len:
        outcome = f"short_{len(content)}"
    else:
        outcome = "ok"
    gaps = [b - a for a, b in zip(content, content[1:])]
    return {
        "served": headers.get("X-PdApp-Decode-Instance", "-"), "outcome": outcome, "end": end, "begin": begin,
        "request_id": headers.get("X-Request-Id"),
        "ttft": content[0] - begin if content else float("nan"),
        "max_gap": max(gaps) if gaps else float("nan"),
        "added": (max(gaps) - statistics.median(gaps)) if gaps else float("nan"),
        "content": content,
    }


def summarise_kill(results, killed, streams):
    """The migration probe's figures from its per-stream rows and what the kill recorded (either client)."""
    rows = [r for r in results if r is not None]
    victims = [r for r in rows if r["served"] == "decode-0"]
    migrated = [r for r in victims if r["outcome"] == "ok"]
    cut = [r for r in rows if r["outcome"] != "ok"]
    for r in cut[:10]:
        log(f"  cut stream: served by {r['served']}, {r['outcome']}")
    ttfts = [r["ttft"] for r in rows if r["ttft"] == r["ttft"]]
    begins = [r["begin"] for r in rows]
    new = killed.get("new", [])
    for status, _, data, _ in new:
        if status != 200:
            log(f"  failed new request: {status} {data[:200]!r}")
    return {
        "streams": streams, "ok": len(rows) - len(cut), "cut": len(cut) + (streams - len(rows)),
        "victims": len(victims), "migrated": len(migrated),
        "cut_wait": max((r["end"] - killed["at"] for r in victims if r["outcome"] != "ok"), default=float("nan")) if "at" in killed else float("nan"),
        "ttft_p50": statistics.median(ttfts) if ttfts else float("nan"),
        "start_spread": (max(begins) - min(begins)) if begins else float("nan"),
        "stalls": [r["added"] for r in migrated if r["added"] == r["added"]],
        # The raw figure beside it: the longest gap itself (the added stall is it minus the stream's median gap).
        "raw_gaps": [r["max_gap"] for r in migrated if r["max_gap"] == r["max_gap"]],
        "median_gaps": [r["max_gap"] - r["added"] for r in migrated if r["added"] == r["added"]],
        "own_ratio": max((r["added"] / r["ttft"] for r in migrated if r["ttft"] > 0), default=float("nan")),
        "new_wait": max((r[3] for r in new), default=float("nan")), "new_errors": sum(1 for r in new if r[0] != 200),
        "killed": "at" in killed,
        "kill_wall": killed.get("wall"),
        # The client's view for the phase table: first token after the kill, per migrated stream, ms after the kill.
        "content_ms": {r["request_id"]: [(t - killed["at"]) * 1000 for t in r["content"]] for r in migrated if "at" in killed},
        "resume_ms": {r["request_id"]: (min(t for t in r["content"] if t > killed["at"]) - killed["at"]) * 1000 for r in migrated
                      if "at" in killed and any(t > killed["at"] for t in r["content"])},
        "victim_gone_ms": (killed["gone"] - killed["at"]) * 1000 if "gone" in killed else float("nan"),
        "fin_ms": {key: (killed[key] - killed["at"]) * 1000 for key in ("fin_first", "fin_peak", "fin_closed") if key in killed},
        "fin_peak_count": killed.get("fin_peak_count", 0),
        # The CLOSE_WAIT count's changes (event-loop client): when the proxy had closed as many as the killed decode's streams.
        "fin_streams_closed_ms": next(((t - killed["at"]) * 1000 for t, c in killed.get("series", [])
                                       if killed.get("fin_peak_count") and c <= killed["fin_peak_count"] - len(victims)
                                       and t >= killed.get("fin_peak", float("inf"))), float("nan")),
        # From the kill to the first token after it, and from the last token before it: where the stall lies.
        "resume": [min(t for t in r["content"] if t > killed["at"]) - killed["at"] for r in migrated
                   if "at" in killed and any(t > killed["at"] for t in r["content"])],
        "before": [killed["at"] - max(t for t in r["content"] if t <= killed["at"]) for r in migrated
                   if "at" in killed and any(t <= killed["at"] for t in r["content"])],
        # Where each migrated stream's longest gap starts, relative to the kill.
        "gap_at": [max(zip(r["content"], r["content"][1:]), key=lambda g: g[1] - g[0])[0] - killed["at"] for r in migrated
                   if "at" in killed and len(r["content"]) > 1],
    }




def fresh_burst_under_load(port, streams, output_len, burst, kill_after, filler_words):
    """The TTFT reference for the stall (issue 14): the same `streams` seeded streams as the migration probe
    run on both decodes; `kill_after` s after every one has its first token (the moment decode-0 is killed
    there), `burst` fresh streams are released at once (threads started beforehand, held on an event), with
    prompts as long as a continuation's (the stream's prompt plus `filler_words` words, about the tokens
    relayed before the kill). Nothing is killed. Returns the background streams' TTFTs and the burst's."""
    started = threading.Semaphore(0)
    go = threading.Event()
    background, fresh = [], []

    def ttft_of(payload, sink):
        arrivals = []
        begin = time.monotonic()

        def on_event(n, _):
            if n == 1 and sink is background:
                started.release()
            return False

        status, _, events, _, error = stream(port, payload, timeout=120, on_event=on_event, arrivals=arrivals)
        firsts = [at for data, at in zip(events, arrivals) if data != "[DONE]" and '"choices":[{' in data.replace(" ", "")]
        if sink is background and not events:
            started.release()
        sink.append((firsts[0] - begin) if status == 200 and not error and firsts else float("nan"))

    def one_background(i):
        ttft_of(body(prompt=probe_prompt("Reference", i), max_tokens=output_len, stream=True, seed=i), background)

    def one_fresh(i):
        go.wait(150)
        prompt = probe_prompt("Reference", streams + i, filler_words)
        ttft_of(body(prompt=prompt, max_tokens=output_len, stream=True, seed=streams + i), fresh)

    fresh_threads = [threading.Thread(target=one_fresh, args=(i,), daemon=True) for i in range(burst)]
    for t in fresh_threads:
        t.start()
    threads = [threading.Thread(target=one_background, args=(i,), daemon=True) for i in range(streams)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    for _ in range(streams):
        if not started.acquire(timeout=max(0.0, deadline - time.monotonic())):
            break
    time.sleep(kill_after)
    go.set()
    for t in threads + fresh_threads:
        t.join(180)
    ok = lambda values: [v for v in values if v == v]
    return ok(background), ok(fresh), burst - len(ok(fresh))


# The single-thread event-loop client's versions of the two probes above (--client loop, the default).

async def _start_staggered(count, ramp, make):
    """Starts `count` tasks `make(i)`, `ramp` s apart (the streams' own arrivals are spread, not a burst)."""
    tasks = []
    begin = time.monotonic()
    for i in range(count):
        tasks.append(asyncio.ensure_future(make(i)))
        if ramp > 0:
            # Against the schedule, not after the last start: a late wake-up does not stretch the ramp.
            await asyncio.sleep(max(0.0, begin + (i + 1) * ramp - time.monotonic()))
    return tasks


async def _all_first_tokens(counter, streams, limit=120):
    deadline = time.monotonic() + limit
    while counter[0] < streams and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


async def _counted_stream(port, payload, firsts):
    """One event-loop stream that adds 1 to firsts[0] once: at its first event, or when it ends without one
    (so _all_first_tokens never waits for a stream that failed)."""
    seen = [False]

    def on_event(n):
        if n == 1:
            seen[0] = True
            firsts[0] += 1

    r = await event_loop_client.stream(port, payload, on_event=on_event, timeout=120)
    if not seen[0]:
        firsts[0] += 1
    return r


async def migration_under_kill_loop(port, streams, output_len, victim_pid, victim_port, kill_after, new_requests, ramp):
    """migration_under_kill with the event-loop client: the same streams, rows and figures; the kill is sent,
    timestamped and followed (port refusal, CLOSE_WAIT) by kill_watch.py, a process of its own."""
    firsts = [0]
    killed = {}
    watcher = await asyncio.create_subprocess_exec(
        sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "kill_watch.py"), str(victim_pid), str(victim_port),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)

    async def one(i):
        r = await _counted_stream(port, migration_body(i, output_len), firsts)
        return stream_row(r["status"], r["headers"], r["events"], r["arrivals"], r["error"], r["began"], r["ended"], output_len)

    tasks = await _start_staggered(streams, ramp, one)
    await _all_first_tokens(firsts, streams)
    await asyncio.sleep(kill_after)
    watcher.stdin.write(b"kill\n")
    await watcher.stdin.drain()
    killed.update(json.loads(await asyncio.wait_for(watcher.stdout.readline(), 10)))
    new = [asyncio.ensure_future(event_loop_client.post(port, body(max_tokens=4), timeout=120)) for _ in range(new_requests)]
    results = await asyncio.gather(*tasks)
    killed["new"] = await asyncio.gather(*new)
    try:
        killed.update(json.loads(await asyncio.wait_for(watcher.stdout.readline(), 15) or b"{}"))
    except asyncio.TimeoutError:
        watcher.kill()
    await watcher.wait()
    return summarise_kill(results, killed, streams)


async def fresh_burst_under_load_loop(port, streams, output_len, burst, kill_after, filler_words, ramp):
    """fresh_burst_under_load with the event-loop client: the background streams start `ramp` s apart as in the
    migration probe; the burst's requests are all sent in one loop iteration."""
    firsts = [0]

    def ttft(r):
        content = [at for data, at in zip(r["events"], r["arrivals"]) if data != "[DONE]" and '"choices":[{' in data.replace(" ", "")]
        return (content[0] - r["began"]) if r["status"] == 200 and not r["error"] and content else float("nan")

    async def one_background(i):
        payload = body(prompt=probe_prompt("Reference", i), max_tokens=output_len, stream=True, seed=i)
        return ttft(await _counted_stream(port, payload, firsts))

    async def one_fresh(i):
        prompt = probe_prompt("Reference", streams + i, filler_words)
        return ttft(await event_loop_client.stream(port, body(prompt=prompt, max_tokens=output_len, stream=True, seed=streams + i), timeout=120))

    tasks = await _start_staggered(streams, ramp, one_background)
    await _all_first_tokens(firsts, streams)
    await asyncio.sleep(kill_after)
    fresh = [asyncio.ensure_future(one_fresh(i)) for i in range(burst)]
    background = await asyncio.gather(*tasks)
    fresh = await asyncio.gather(*fresh)
    ok = lambda values: [v for v in values if v == v]  # noqa: E731
    return ok(background), ok(fresh), burst - len(ok(fresh))


TIMING_NUMBER = r"(-?[0-9.]+|NaN)"


def parse_timing_lines(path, marker, fields):
    """The Debug timing lines of one log (console formatter: the message is on the line after the category):
    {request id: [dict of the named numbers, in the order the line gives them]}."""
    found = {}
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return found
    for line in text.splitlines():
        if marker not in line:
            continue
        request = re.search(r"Request (\S+) ", line)
        numbers = re.findall(r"(?:at|token|handled|built|sent|answered|leased|headers|admitted|loaded|done|written) " + TIMING_NUMBER, line)
        counts = re.findall(r"([0-9]+) (?:threads|queued|running|thread-pool)", line)
        if not request or len(numbers) < len(fields):
            continue
        values = {name: float(v) for name, v in zip(fields, numbers)}
        values["counts"] = [int(c) for c in counts]
        upstream = re.search(r"upstream (\S+),", line)
        if upstream:
            values["upstream"] = upstream.group(1)
        gc = re.search(r"GC at failure ([0-9.]+) ms paused in all, ([0-9]+) collections", line)
        if gc:
            values["gc_pause"], values["gc_count"] = float(gc.group(1)), int(gc.group(2))
        jit = re.search(r"JIT at failure ([0-9.]+) ms compiling in all, ([0-9]+) methods", line)
        if jit:
            values["jit_ms"], values["jit_methods"] = float(jit.group(1)), int(jit.group(2))
        before = re.search(r"([0-9]+) tokens before", line)
        if before:
            values["tokens_before"] = int(before.group(1))
        found.setdefault(request.group(1), []).append(values)
    return found


PROXY_FIELDS = ["failed", "last", "handled", "built", "prefill_sent", "prefill_answered", "decode_leased", "decode_sent", "decode_headers", "first_token"]
ENGINE_FIELDS = ["arrived", "admitted", "kv_loaded", "prompt_done", "first_token"]


def migration_phases(logs, kill_wall, content_ms, victim_gone_ms, fin_ms, fin_peak_count, decode_names, prefill_names, fin_streams_closed_ms=float("nan")):
    """Where the stall of the migrated streams goes, per stream then summarised (ms): the proxy's migration
    timing line of each move joined, by the continuation's upstream request id, with the engine timing lines
    of its prefill and of the surviving decode, and, by the client's request id, with the client's first
    token after the kill. Steps are consecutive, so per stream they add up to kill -> client's first token."""
    if not logs or kill_wall is None:
        return []
    kill_ms = kill_wall * 1000
    moves = {request: entries[-1] for request, entries in
             parse_timing_lines(os.path.join(logs, "proxy.log"), "migration timing:", PROXY_FIELDS).items()}

    def engine_lines(names):
        found = {}
        for name in names:
            for request, entries in parse_timing_lines(os.path.join(logs, f"{name}.log"), "engine timing:", ENGINE_FIELDS).items():
                after = [e for e in entries if e["arrived"] >= kill_ms - 50]
                if after:
                    found[request] = after[-1]
        return found

    prefills, decodes = engine_lines(prefill_names), engine_lines(decode_names)
    steps = {}

    def add(name, value):
        steps.setdefault(name, []).append(value)

    for request, m in moves.items():
        at = lambda key: m["failed"] + m[key] - kill_ms  # noqa: E731 - ms after the kill
        p, d = prefills.get(m.get("upstream")), decodes.get(m.get("upstream"))
        add("kill -> proxy: last token relayed before the failure (negative: before the kill)", at("last"))
        add("kill -> proxy sees the decode's stream fail (process exit + read)", m["failed"] - kill_ms)
        add("failure -> continuation built (pipeline takes it up, JSON rewrite, parse)", m["built"])
        add("built -> continuation prefill sent (PD decision, P leased)", m["prefill_sent"] - m["built"])
        if p:
            add("prefill sent -> P receives it (connection, headers, body)", p["arrived"] - kill_ms - at("prefill_sent"))
            add("P: queued for a slot", p["admitted"])
            add("P: prompt computed (TTFT + per-token + KV written)", p["prompt_done"] - p["admitted"])
            add("P prompt done -> proxy has P's answer (P's first token and JSON, read)", at("prefill_answered") - (p["arrived"] - kill_ms + p["prompt_done"]))
        add("prefill answered -> continuation sent to D (D leased, decode body)", m["decode_sent"] - m["prefill_answered"])
        if d:
            add("sent to D -> D receives it (connection, headers, body)", d["arrived"] - kill_ms - at("decode_sent"))
            add("D: queued for a slot", d["admitted"])
            add("D: KV looked up and read (connector)", d["kv_loaded"] - d["admitted"])
            add("D: KV transfer cost, tail and first step (simulated time)", d["prompt_done"] - d["kv_loaded"])
            add("D: first token written (flushed to Kestrel)", d["first_token"] - d["prompt_done"])
            add("D first token written -> proxy has D's headers", at("decode_headers") - (d["arrived"] - kill_ms + d["first_token"]))
        add("D's headers -> first continuation token written to the client", m["first_token"] - m["decode_headers"])
        content = content_ms.get(request, [])
        before = m.get("tokens_before")
        if before is not None and 0 < before < len(content):
            # The continuation's first token is the client's content event number `before` (0-based).
            add("proxy wrote it -> client reads it", content[before] - at("first_token"))
            add("client: kill -> first continuation token", content[before])
            add("client: stall = gap before the first continuation token", content[before] - content[before - 1])
            if d:
                # What the engine's modelled recompute of the prompt and the relayed tokens does not explain: the time
                # since the last token, the OS's, the proxy's and the engines' own share (where a router's work shows).
                add("client: stall less D's simulated compute (the rest: since the last token, detection, take-up, hops, CPU queues)",
                    content[before] - content[before - 1] - (d["prompt_done"] - d["kv_loaded"]))
        if len(m["counts"]) > 3:
            add("proxy thread pool at the failure: threads (count)", m["counts"][0])
            add("proxy thread pool at the failure: queued items (count)", m["counts"][1])
            add("proxy thread pool at the first token: threads (count)", m["counts"][2])
            add("proxy thread pool at the first token: queued items (count)", m["counts"][3])
        for role, e in (("P", p), ("D", d)):
            if e and len(e["counts"]) > 2:
                add(f"{role} at entry: sequences running (count)", e["counts"][0])
                add(f"{role} at entry: thread-pool queued items (count)", e["counts"][1])
                add(f"{role} at entry: thread-pool threads (count)", e["counts"][2])

    rows = [("kill -> killed decode's port refuses connections (its sockets closed)", 1, victim_gone_ms, victim_gone_ms, victim_gone_ms, victim_gone_ms)] \
        if victim_gone_ms == victim_gone_ms else []
    # The proxy's GC across the failures: the pause time and collections between the first failure taken up
    # and the last (a stop-the-world pause holds back every relay's read of its ended connection).
    gced = sorted((m["failed"] + m["handled"], m["gc_pause"], m["gc_count"]) for m in moves.values() if "gc_pause" in m)
    if len(gced) > 1:
        spread = gced[-1][0] - gced[0][0]
        pause, collections = gced[-1][1] - gced[0][1], float(gced[-1][2] - gced[0][2])
        rows.append(("proxy: first -> last failure taken up by the pipeline (spread)", len(gced), spread, spread, spread, spread))
        rows.append(("proxy: GC pause between those two (ms)", 1, pause, pause, pause, pause))
        rows.append(("proxy: GC collections between those two (count)", 1, collections, collections, collections, collections))
    jitted = sorted((m["failed"] + m["handled"], m["jit_ms"], m["jit_methods"]) for m in moves.values() if "jit_ms" in m)
    if len(jitted) > 1:
        jit_ms, jit_methods = jitted[-1][1] - jitted[0][1], float(jitted[-1][2] - jitted[0][2])
        rows.append(("proxy: JIT compiling time between those two (ms, all threads)", 1, jit_ms, jit_ms, jit_ms, jit_ms))
        rows.append(("proxy: methods JIT-compiled between those two (count)", 1, jit_methods, jit_methods, jit_methods, jit_methods))
    for key, label in (("fin_first", "first"), ("fin_peak", f"most ({fin_peak_count})"), ("fin_closed", "all closed by the proxy: none")):
        if key in fin_ms:
            rows.append((f"kill -> proxy's connections to it in CLOSE_WAIT (FIN received, /proc/net/tcp): {label}", 1,
                         fin_ms[key], fin_ms[key], fin_ms[key], fin_ms[key]))
    if fin_streams_closed_ms == fin_streams_closed_ms:
        rows.append(("kill -> the proxy has closed as many of them as the killed decode had streams (CLOSE_WAIT count down by that)", 1,
                     fin_streams_closed_ms, fin_streams_closed_ms, fin_streams_closed_ms, fin_streams_closed_ms))
    for name, values in steps.items():
        values = sorted(v for v in values if v == v)
        if values:
            q = lambda f: values[min(len(values) - 1, int(round(f * (len(values) - 1))))]  # noqa: E731
            rows.append((name, len(values), values[0], q(0.5), q(0.9), values[-1]))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--proxy-port", type=int, required=True)
    parser.add_argument("--slow-proxy-port", type=int, required=True)
    parser.add_argument("--proxy-pid", type=int, required=True)
    parser.add_argument("--prefill", required=True, help="port:pid,port:pid")
    parser.add_argument("--decode", required=True, help="port:pid,port:pid")
    parser.add_argument("--first-byte-seconds", type=float, required=True)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--cancels", type=int, default=20)
    parser.add_argument("--settle-seconds", type=float, default=70)
    parser.add_argument("--migration-streams", type=int, default=200)
    parser.add_argument("--output-len", type=int, default=150)
    parser.add_argument("--kill-after", type=float, default=0.5)
    parser.add_argument("--only", choices=["all", "migration"], default="all")
    parser.add_argument("--logs", default=None, help="the run's log folder (timing lines of the proxy and the simulators)")
    parser.add_argument("--burst-filler-words", type=int, default=30,
                        help="words added to a fresh burst request's prompt: about the tokens a stream relayed before the kill")
    parser.add_argument("--client", choices=["loop", "threads"], default="loop",
                        help="the migration probe's client: one asyncio event loop (timestamps each read on arrival) or one thread per stream (the old client)")
    parser.add_argument("--ramp-ms", type=float, default=2.5,
                        help="loop client: ms between the starts of the migration probe's streams (the threaded client's spread comes from starting its threads)")
    parser.add_argument("--prompt-words", type=int, default=0,
                        help="words added to the migration probe's and its references' prompts (each about a token)")
    args = parser.parse_args()
    global PROMPT_WORDS
    PROMPT_WORDS = args.prompt_words
    prefill = [tuple(map(int, p.split(":"))) for p in args.prefill.split(",")]
    decode = [tuple(map(int, p.split(":"))) for p in args.decode.split(",")]
    port = args.proxy_port
    rows = []

    cold_rss, _ = proc_stats(args.proxy_pid)
    log("warm-up")
    for _ in range(50):
        post(port, body())
    time.sleep(2)
    idle_rss, idle_fds = proc_stats(args.proxy_pid)

    p_cancel = d_cancel = []
    lost = mixed = None
    idle = loaded = None
    freeze_wait = freeze_errors = None
    if args.only == "all":
        log("cancel latency (prefill)")
        long_prompt = " ".join(["word"] * 3000)
        p_cancel = cancel_latency(port, [p for p, _ in prefill], body(prompt=long_prompt, max_tokens=4), "in_prefill", args.cancels)
        log("cancel latency (decode)")
        d_cancel = cancel_latency(port, [p for p, _ in decode], body(max_tokens=400, stream=True), "first_event", args.cancels)

        log(f"cancel latency P (ms): {[round(v) for v in p_cancel]}")
        log(f"cancel latency D (ms): {[round(v) for v in d_cancel]}")
        log(f"{args.streams} streams at concurrency {args.concurrency}")
        lost, mixed = many_streams(port, args.streams, args.concurrency)

        log(f"lost {lost}, mixed {mixed}")
        log("slow uploads")
        idle, loaded = slow_uploads(args.slow_proxy_port, uploads=40, rate=300, normal=20)

        log(f"slow uploads: idle {idle}, loaded {loaded}")
        log("prefill freeze (SIGSTOP prefill-0)")
        frozen_pid = prefill[0][1]
        freeze_wait, freeze_errors, _, _ = longest_wait_after(port, lambda: os.kill(frozen_pid, signal.SIGSTOP), 20, body(max_tokens=4))
        os.kill(frozen_pid, signal.SIGCONT)
        time.sleep(3)

        log(f"prefill freeze: longest {freeze_wait:.2f} s, errors {freeze_errors}")
    burst = args.migration_streams // 2
    log(f"TTFT reference: a burst of {burst} fresh streams under {args.migration_streams} running streams, nothing killed")
    if args.client == "loop":
        background_ttfts, burst_ttfts, burst_failed = asyncio.run(fresh_burst_under_load_loop(
            port, args.migration_streams, args.output_len, burst, args.kill_after, args.burst_filler_words, args.ramp_ms / 1000))
    else:
        background_ttfts, burst_ttfts, burst_failed = fresh_burst_under_load(
            port, args.migration_streams, args.output_len, burst, args.kill_after, args.burst_filler_words)
    log(f"fresh burst TTFT p50 {statistics.median(burst_ttfts) * 1000 if burst_ttfts else float('nan'):.0f} ms, "
        f"max {max(burst_ttfts, default=float('nan')) * 1000:.0f} ms ({burst_failed} failed); background TTFT p50 "
        f"{statistics.median(background_ttfts) * 1000 if background_ttfts else float('nan'):.0f} ms")
    time.sleep(2)
    log(f"decode kill (SIGKILL decode-0) under {args.migration_streams} streams of {args.output_len} tokens")
    if args.client == "loop":
        kill = asyncio.run(migration_under_kill_loop(
            port, args.migration_streams, args.output_len, decode[0][1], decode[0][0], args.kill_after, 20, args.ramp_ms / 1000))
    else:
        kill = migration_under_kill(port, args.migration_streams, args.output_len, decode[0][1], decode[0][0], args.kill_after, 20)
    migrations = proxy_metric_lines(port, "pdapp_proxy_migrations")
    log(f"decode kill: {kill['ok']} served to the end, {kill['cut']} cut; on decode-0 {kill['victims']}, migrated {kill['migrated']}; "
        f"new requests longest {kill['new_wait']:.2f} s, errors {kill['new_errors']}")
    for line in migrations:
        log(f"  {line}")
    time.sleep(args.settle_seconds)
    after_rss, after_fds = proc_stats(args.proxy_pid)

    def mmm(values):
        if not values:
            return "n/a"
        return f"{min(values):.0f} / {statistics.median(values):.0f} / {max(values):.0f} ms (n={len(values)})"

    limit = args.first_byte_seconds + 1
    stalls = sorted(kill["stalls"])
    stall_p50 = statistics.median(stalls) if stalls else float("nan")
    stall_max = stalls[-1] if stalls else float("nan")
    rows.append((f"decode-0 killed under {kill['streams']} streams: served to the end / cut (client-visible failures)",
                 f"{kill['ok']} / {kill['cut']}", "0 cut", kill["killed"] and kill["cut"] == 0))
    rows.append(("streams on the killed decode: migrated / cut (longest wait of a cut one after the kill)",
                 f"{kill['migrated']} / {kill['victims'] - kill['migrated']} ({kill['cut_wait']:.2f} s)",
                 "all migrated", kill["victims"] > 0 and kill["migrated"] == kill["victims"]))
    burst_p50 = statistics.median(burst_ttfts) if burst_ttfts else float("nan")
    # The target's reading: reference (b). A decode's death turns its streams into that many continuations at
    # once, each a new prefill of the extended prompt, a KV hand-off and a first token: the TTFT of the same
    # work under the same conditions is that of a burst of as many fresh requests with prompts as long, under
    # the same running streams. (a) is the TTFT of staggered arrivals: reported, not the target's reading.
    rows.append((f"client: {args.client}; the {kill['streams']} streams started over (spread of their first requests)",
                 f"{kill['start_spread'] * 1000:.0f} ms", "", True))
    rows.append(("added stall at the migration point (longest gap - median gap), p50 / max",
                 f"{stall_p50 * 1000:.0f} / {stall_max * 1000:.0f} ms", "", True))
    raw = sorted(kill["raw_gaps"])
    itl = kill["median_gaps"]
    rows.append(("raw gap at the migration point (longest gap between two content events, not minus anything), p50 / max; "
                 "the migrated streams' normal inter-token gap (median ITL), p50",
                 f"{statistics.median(raw) * 1000 if raw else float('nan'):.0f} / {raw[-1] * 1000 if raw else float('nan'):.0f} ms; "
                 f"{statistics.median(itl) * 1000 if itl else float('nan'):.1f} ms", "", True))
    rows.append((f"target reading, reference (b): TTFT of a burst of {burst} fresh streams released at once under {args.migration_streams} running streams "
                 f"(prompt + {args.burst_filler_words} words, nothing killed), p50 / max ({burst_failed} failed); max stall / p50; stall p50 / p50",
                 f"{burst_p50 * 1000:.0f} / {max(burst_ttfts, default=float('nan')) * 1000:.0f} ms; {stall_max / burst_p50:.2f}; {stall_p50 / burst_p50:.2f}",
                 "max stall <= 2 x (b)", bool(stalls) and bool(burst_ttfts) and stall_max <= 2 * burst_p50))
    rows.append((f"reference (a), for context: the {kill['streams']} streams' own TTFT p50 (staggered starts, before the kill); max stall / it; stall p50 / it",
                 f"{kill['ttft_p50'] * 1000:.0f} ms; {stall_max / kill['ttft_p50']:.2f}; {stall_p50 / kill['ttft_p50']:.2f}", "(max stall <= 2 x (a))",
                 bool(stalls) and stall_max <= 2 * kill["ttft_p50"]))
    rows.append(("migrated streams: last token before the kill -> kill, kill -> first token after it (min / median / max)",
                 f"{mmm([v * 1000 for v in kill['before']])}; {mmm([v * 1000 for v in kill['resume']])}", "", True))
    rows.append(("migrated streams: where the longest gap starts, relative to the kill (min / median / max)",
                 mmm([v * 1000 for v in kill['gap_at']]), "", True))
    rows.append(("pdapp_proxy_migrations_total", "; ".join(
        re.sub(r"^pdapp_proxy_migrations_total", "", line) for line in migrations if line.startswith("pdapp_proxy_migrations_total")) or "none",
        "", True))
    rows.append(("longest client wait after a decode kill: new requests (errors)",
                 f"{kill['new_wait']:.2f} s ({kill['new_errors']})", f"<= {limit:.0f} s", kill["new_wait"] <= limit and kill["new_errors"] == 0))
    if args.only == "all":
        rows.append(("longest client wait after a prefill freeze (errors)",
                     f"{freeze_wait:.2f} s ({freeze_errors})", f"<= {limit:.0f} s", freeze_wait <= limit))
        rows.append(("cancel latency P, min / median / max", mmm(p_cancel), "<= 100 ms", bool(p_cancel) and max(p_cancel) <= 100))
        rows.append(("cancel latency D, min / median / max", mmm(d_cancel), "<= 100 ms", bool(d_cancel) and max(d_cancel) <= 100))
        rows.append((f"lost / mixed responses over {args.streams} streams", f"{lost} / {mixed}", "0 / 0", lost == 0 and mixed == 0))
        rows.append(("slow uploads (40 at 300 B/s, limit 20): normal requests ok, p50, max",
                     f"idle {idle[0]}/20 {idle[1]:.0f} ms {idle[2]:.0f} ms; loaded {loaded[0]}/20 {loaded[1]:.0f} ms {loaded[2]:.0f} ms",
                     "20/20, p50 within 2x idle", loaded[0] == 20 and loaded[1] <= 2 * max(idle[1], 20)))
    if args.only == "all" or args.settle_seconds > 0:
        rows.append(("proxy RSS cold (before any request; for reference)", f"{cold_rss:.1f} MB", "", True))
        rows.append((f"proxy RSS idle (after 50 warm-up requests) -> {args.settle_seconds:.0f} s after load", f"{idle_rss:.1f} -> {after_rss:.1f} MB", "within 10%", after_rss <= idle_rss * 1.1))
        rows.append((f"proxy open fds idle -> {args.settle_seconds:.0f} s after load", f"{idle_fds} -> {after_fds}", "within 10%", after_fds <= idle_fds * 1.1 + 1))

    print("| measurement | result | target | met |")
    print("|---|---|---|---|")
    for name, value, target, met in rows:
        print(f"| {name} | {value} | {target} | {('yes' if met else 'NO') if target else ''} |")

    phases = migration_phases(args.logs, kill["kill_wall"], kill["content_ms"], kill["victim_gone_ms"], kill["fin_ms"], kill["fin_peak_count"], ["decode-1"],
                              [f"prefill-{i}" for i in range(len(prefill))], kill["fin_streams_closed_ms"])
    if phases:
        print()
        print("Migrated streams, step by step (ms; per stream, consecutive steps from the proxy's migration timing and the engines' timing logs, joined by request id):")
        print()
        print("| step | n | min | p50 | p90 | max |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, n, lo, p50, p90, hi in phases:
            print(f"| {name} | {n} | {lo:.1f} | {p50:.1f} | {p90:.1f} | {hi:.1f} |")


if __name__ == "__main__":
    main()
