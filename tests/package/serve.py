"""A loopback HTTP server for scripts/test-package's install.sh tests.

    python3 serve.py ROOT      # prints "listening on http://127.0.0.1:PORT", then serves

GET /NAME serves ROOT/NAME (404 when missing). Under /truncated/, every file
but SHA256SUMS announces its full Content-Length but sends only half of it,
then closes the connection: a download cut short. Binds 127.0.0.1 only; the caller kills
it, and it exits by itself after 15 minutes.
"""
import http.server
import os
import sys
import threading

root = os.path.realpath(sys.argv[1])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?", 1)[0]
        truncate = path.startswith("/truncated/") and not path.endswith("/SHA256SUMS")
        file = os.path.realpath(os.path.join(root, path.lstrip("/")))
        if not file.startswith(root + os.sep) or not os.path.isfile(file):
            self.send_error(404)
            return
        with open(file, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if truncate else body)
        if truncate:
            self.close_connection = True

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
threading.Timer(900, lambda: os._exit(0)).start()
server.serve_forever()
