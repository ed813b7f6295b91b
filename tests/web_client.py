"""Helpers for the web tests: a running xenkvm-web and plain HTTP and
WebSocket clients for it (TCP, TLS and the unix socket)."""
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import time

from conftest import BUILD

WEB = BUILD / "src" / "web" / "xenkvm-web"


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(self.path)


class Web:
    """xenkvm-web started on an ephemeral loopback port beside a Toolstack."""

    def __init__(self, ts, *args, expect_fail=False):
        self.ts = ts
        self.log = os.path.join(ts.dir, f"web{time.monotonic_ns()}.log")
        self.sock = os.path.join(ts.run_dir, "web.sock")
        cmd = [str(WEB), *args]
        if not any(a.startswith("--listen") for a in args):
            cmd += ["--listen", "127.0.0.1:0"]
        self.proc = subprocess.Popen(cmd, env=ts.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        self.port = None
        self.scheme = "http"
        end = time.time() + 15
        while time.time() < end:
            text = self.text()
            m = re.search(r"listening on (https?)://[^:]+:(\d+)/", text)
            if m:
                self.scheme, self.port = m.group(1), int(m.group(2))
                break
            if "listening on unix:" in text or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if expect_fail:
            self.proc.wait(10)
            return
        assert self.proc.poll() is None, self.text()
        self.token_file = os.path.join(ts.dir, "state", "web.token")
        for i, a in enumerate(args):
            if a == "--token-file":
                self.token_file = args[i + 1]
        with open(self.token_file) as f:
            self.token = f.read().strip()

    def text(self):
        with open(self.log) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        log = self.text()
        assert "Sanitizer" not in log, log
        return log

    @property
    def origin(self):
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def conn(self):
        if self.scheme == "https":
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=60,
                                               context=ssl._create_unverified_context())
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(self, method, path, body=None, token=True, headers=None, unix=False,
                content_type="application/json"):
        """(status, parsed JSON or text, response headers)."""
        h = dict(headers or {})
        if token is True:
            token = self.token
        if token and not unix:
            h["Authorization"] = f"Bearer {token}"
        if body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        if body is not None:
            h.setdefault("Content-Type", content_type)
        c = UnixHTTPConnection(self.sock) if unix else self.conn()
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read().decode()
        c.close()
        try:
            data = json.loads(data)
        except ValueError:
            pass
        return r.status, data, dict((k.lower(), v) for k, v in r.getheaders())

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)

    def upgrade(self, path, headers=None, token=True, protocol="xenkvm-console"):
        """A raw WebSocket handshake: (status, the response's head and body)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        h = {"Host": f"127.0.0.1:{self.port}", "Upgrade": "websocket", "Connection": "Upgrade",
             "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"}
        if protocol:
            h["Sec-WebSocket-Protocol"] = protocol
        if token:
            h["Authorization"] = f"Bearer {self.token if token is True else token}"
        h.update(headers or {})
        s.sendall((f"GET {path} HTTP/1.1\r\n" +
                   "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        m = re.search(rb"content-length: (\d+)", data, re.I)
        want = data.index(b"\r\n\r\n") + 4 + int(m.group(1)) if m else 0
        while len(data) < want:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        text = data.decode(errors="replace")
        m = re.match(r"HTTP/1\.[01] (\d+)", text)
        return (int(m.group(1)) if m else 0), text

    def console(self, dom):
        import websocket  # Debian's python3-websocket
        return websocket.create_connection(
            f"ws://127.0.0.1:{self.port}/api/domains/{dom}/console",
            header=[f"Authorization: Bearer {self.token}"], subprotocols=["xenkvm-console"],
            timeout=20)
