"""A single-thread HTTP/1.1 client for the reliability bench (issue 14): one asyncio event loop, raw sockets
(asyncio.Protocol), standard library only.

Why: the threaded client (one thread per stream, 200 threads sharing one interpreter lock) reads an event up
to ~200 ms after it reached its socket on a loaded machine, and runs its own probes late too. Here every
stream is a protocol on one selector loop: each read is timestamped in `data_received`, before any parsing,
so an SSE event's arrival time is the time the loop got its bytes from the kernel. Parsing (chunked transfer
encoding, SSE framing) is incremental and cheap; JSON is decoded only after the run.
"""
import asyncio
import time

HOST = "127.0.0.1"


class _Response(asyncio.Protocol):
    """One request and its response: status, headers, and the body as SSE events (payload, arrival) or bytes."""

    def __init__(self, request, on_event, done):
        self._request = request
        self._on_event = on_event
        self._done = done
        self._buffer = bytearray()
        self._body = bytearray()
        self._lines = bytearray()
        self._headers_done = False
        self._chunked = False
        self._length = None
        self._chunk_left = -1  # -1: a chunk-size line is expected next
        self.transport = None
        self.status = 0
        self.headers = {}
        self.events = []
        self.arrivals = []
        self.error = None
        self.ended = False

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self._request)

    def data_received(self, data):
        now = time.monotonic()
        self._buffer += data
        try:
            self._parse(now)
        except ValueError as ex:
            self._finish(f"bad response: {ex}")

    def connection_lost(self, exc):
        if not self.ended and self._headers_done and not self._chunked and self._length is None:
            self.ended = True  # a body delimited by the connection's end
        self._finish(None if self.ended else (str(exc) if exc else "connection closed before the response ended"))

    def close(self):
        if self.transport is not None:
            self.transport.close()

    def _finish(self, error):
        if self.error is None and not self.ended:
            self.error = error
        if not self._done.done():
            self._done.set_result(None)
        self.close()

    def _parse(self, now):
        if not self._headers_done:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
            del self._buffer[:end + 4]
            self.status = int(head[0].split(" ", 2)[1])
            for line in head[1:]:
                name, _, value = line.partition(":")
                self.headers[name.strip()] = value.strip()
            lower = {k.lower(): v for k, v in self.headers.items()}
            self._chunked = "chunked" in lower.get("transfer-encoding", "").lower()
            self._length = int(lower["content-length"]) if "content-length" in lower else None
            self._headers_done = True
        if self._chunked:
            while True:
                if self._chunk_left < 0:
                    end = self._buffer.find(b"\r\n")
                    if end < 0:
                        return
                    size = int(bytes(self._buffer[:end]).split(b";")[0], 16)
                    del self._buffer[:end + 2]
                    if size == 0:
                        self.ended = True
                        self._finish(None)
                        return
                    self._chunk_left = size
                take = min(self._chunk_left, len(self._buffer))
                if take:
                    self._content(bytes(self._buffer[:take]), now)
                    del self._buffer[:take]
                    self._chunk_left -= take
                if self._chunk_left > 0:
                    return
                if len(self._buffer) < 2:
                    self._chunk_left = 0
                    return
                del self._buffer[:2]  # the chunk's CRLF
                self._chunk_left = -1
        else:
            data = bytes(self._buffer)
            self._buffer.clear()
            self._content(data, now)
            if self._length is not None and len(self._body) >= self._length:
                self.ended = True
                self._finish(None)

    def _content(self, data, now):
        self._body += data
        if self._on_event is None:
            return
        self._lines += data
        while True:
            end = self._lines.find(b"\n")
            if end < 0:
                return
            line = bytes(self._lines[:end]).rstrip(b"\r")
            del self._lines[:end + 1]
            if line.startswith(b"data: "):
                payload = line[6:].strip().decode("utf-8", "replace")
                self.events.append(payload)
                self.arrivals.append(now)
                self._on_event(len(self.events))
                if payload == "[DONE]":
                    self.ended = True
                    self._finish(None)
                    return

    @property
    def body(self):
        return bytes(self._body)


def _request_bytes(port, payload):
    return (f"POST /v1/completions HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode() + payload


async def _exchange(port, payload, on_event, timeout):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    started = time.monotonic()
    response = _Response(_request_bytes(port, payload), on_event, done)
    try:
        await asyncio.wait_for(loop.create_connection(lambda: response, HOST, port), timeout)
        await asyncio.wait_for(asyncio.shield(done), max(0.0, timeout - (time.monotonic() - started)))
    except (OSError, asyncio.TimeoutError) as ex:
        response.error = response.error or f"{type(ex).__name__}: {ex}"
    finally:
        response.close()
    return response, started


async def stream(port, payload, on_event=None, timeout=120):
    """A streamed request. Returns a dict: status, headers, events (data payloads), arrivals (monotonic time of
    the read that completed each event), began (monotonic time the connection was asked for), ended, error.
    `on_event(n)` is called with the event count after each event (from the loop; keep it short)."""
    response, began = await _exchange(port, payload, on_event or (lambda n: None), timeout)
    error = response.error
    if error is None and response.status == 200 and (not response.events or response.events[-1] != "[DONE]"):
        error = "the stream ended without [DONE]"
    return {"status": response.status, "headers": response.headers, "events": response.events, "arrivals": response.arrivals,
            "began": began, "ended": time.monotonic(), "error": error if response.status == 200 or response.status == 0 else None}


async def post(port, payload, timeout=60):
    """A whole request: (status, headers, body bytes, seconds), as the threaded client's `post`."""
    response, began = await _exchange(port, payload, None, timeout)
    if response.error and not response.ended:
        return 0, {}, response.error.encode(), time.monotonic() - began
    return response.status, response.headers, response.body, time.monotonic() - began
