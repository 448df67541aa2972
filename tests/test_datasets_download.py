"""``_sources.download`` against a local HTTP server on 127.0.0.1 that this module starts and
stops: a slow-drip body, slow headers, an endless body, a huge Content-Length, a short body.

Deadlines are parameters, so every case ends in about a second; the server's handlers stop when
the test is over (or when the client hangs up).
"""
import http.server
import threading
import time

import pytest

from fastprop.datasets import _sources

DOWNLOAD = _sources.download          # the real one (test_datasets' sandbox stubs it per test)
BODY = bytes(range(256)) * 40


class Handler(http.server.BaseHTTPRequestHandler):
    stop = threading.Event()

    def log_message(self, *args):
        pass

    def _head(self, length=None):
        self.send_response(200)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def do_GET(self):
        try:
            getattr(self, "route_" + self.path.strip("/"))()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass

    def route_ok(self):
        self._head(len(BODY))
        self.wfile.write(BODY)

    def route_drip(self):                 # one byte every 50 ms, never finishes in time
        self._head(10_000)
        for _ in range(10_000):
            if self.stop.wait(0.05):
                return
            self.wfile.write(b"x")
            self.wfile.flush()

    def route_slow_headers(self):         # the status line, then a header byte every 50 ms
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for ch in b"X-Slow: " + b"y" * 10_000:
            if self.stop.wait(0.05):
                return
            self.wfile.write(bytes([ch]))
            self.wfile.flush()

    def route_endless(self):              # no Content-Length, never ends
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        block = b"z" * 65536
        while not self.stop.is_set():
            self.wfile.write(block)

    def route_huge(self):                 # announces 10 GB
        self._head(10 << 30)
        self.wfile.write(b"a" * 1000)

    def route_short(self):                # announces more than it sends, then hangs up
        self._head(len(BODY) + 100)
        self.wfile.write(BODY)
        self.close_connection = True


@pytest.fixture(scope="module")
def server():
    Handler.stop.clear()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/"
    Handler.stop.set()
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def timed(call, *args, **kwargs):
    start = time.monotonic()
    try:
        return call(*args, **kwargs), time.monotonic() - start
    except OSError as exc:
        return exc, time.monotonic() - start


def test_plain_download(server):
    data, _ = timed(DOWNLOAD, server + "ok", 5.0, True)
    assert data == BODY


def test_slow_drip_body_hits_the_total_deadline(server):
    exc, took = timed(DOWNLOAD, server + "drip", 2.0, True, total_timeout=0.5)
    assert isinstance(exc, OSError)
    assert "drip: download took longer than its 0.5 s total deadline" in str(exc)
    assert 0.4 < took < 3.0                 # per-read timeout (2 s) never fires: 1 byte/50 ms


def test_slow_headers_hit_the_total_deadline(server):
    exc, took = timed(DOWNLOAD, server + "slow_headers", 2.0, True, total_timeout=0.5)
    assert isinstance(exc, OSError) and "total deadline" in str(exc)
    assert took < 3.0


def test_default_deadline_is_a_multiple_of_timeout(server, monkeypatch):
    monkeypatch.setattr(_sources, "DEADLINE_FACTOR", 3)
    exc, took = timed(DOWNLOAD, server + "drip", 0.2, True)
    assert isinstance(exc, OSError) and "its 0.6 s total deadline" in str(exc)
    assert took < 3.0


def test_endless_body_is_stopped_at_the_cap(server):
    exc, took = timed(DOWNLOAD, server + "endless", 5.0, True, max_bytes=1 << 20)
    assert isinstance(exc, OSError) and not isinstance(exc, MemoryError)
    assert f"endless: body runs past {1 << 20} bytes" in str(exc)
    assert took < 5.0


def test_huge_content_length_is_refused_up_front(server):
    exc, took = timed(DOWNLOAD, server + "huge", 5.0, True, max_bytes=1 << 20)
    assert isinstance(exc, OSError)
    assert f"server announces {10 << 30} bytes, more than the {1 << 20} allowed" in str(exc)


def test_short_body_is_an_error(server):
    exc, _ = timed(DOWNLOAD, server + "short", 5.0, True)
    assert isinstance(exc, OSError) and "short" in str(exc) and "\n" not in str(exc)


def test_connection_refused_is_an_oserror():
    exc, took = timed(DOWNLOAD, "http://127.0.0.1:9/nothing", 2.0, True, total_timeout=3.0)
    assert isinstance(exc, OSError) and took < 3.5


@pytest.mark.parametrize("kwargs, exc, found", [
    ({"timeout": True}, TypeError, "timeout must be a finite number of seconds > 0, got bool"),
    ({"timeout": float("nan")}, ValueError, "timeout must be a finite number"),
    ({"timeout": 1.0, "total_timeout": float("inf")}, ValueError, "total_timeout must be"),
    ({"timeout": 1.0, "total_timeout": -1}, ValueError, "total_timeout must be"),
    ({"timeout": 1.0, "max_bytes": 0}, ValueError, "max_bytes must be a positive int, got 0"),
    ({"timeout": 1.0, "max_bytes": 2.5}, TypeError, "max_bytes must be a positive int"),
])
def test_download_arguments(kwargs, exc, found):
    with pytest.raises(exc, match=found):
        DOWNLOAD("http://127.0.0.1:9/never-contacted", quiet=True, **kwargs)


def test_from_pip_timeout_is_checked():
    with pytest.raises(ValueError, match="timeout must be a finite number of seconds > 0"):
        _sources.from_pip(timeout=-5)
