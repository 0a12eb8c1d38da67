"""The full lab's HTTP side: a "what is my IP" echo service and a webhook receiver.

    lab_http.py DIR ADDRESS PORT

Echo: GET /ip (plain text), /json ({"ip": ...}) and /cdn-cgi/trace (Cloudflare's trace
format) answer the address held in DIR/public-ip, read again on every request, so writing
that file (lab.sh ip DIR ADDRESS) changes the "public address" of every source at once.

Receiver: every POST is answered 200 and appended to DIR/webhook.log as one JSON line,
{"received": TIME, "path": PATH, "body": BODY} (BODY parsed when it is JSON). Alertmanager
posts to /alertmanager, ddnswatch's own webhook to /ddnswatch.
"""

import datetime
import http.server
import json
import os
import sys
import threading

DIR = sys.argv[1]
ADDRESS = sys.argv[2]
PORT = int(sys.argv[3])
LOG_LOCK = threading.Lock()


def public_ip():
    try:
        with open(os.path.join(DIR, "public-ip"), encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return ""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, content_type, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        ip = public_ip()
        if self.path == "/ip":
            self.reply(200, "text/plain", ip + "\n")
        elif self.path == "/json":
            self.reply(200, "application/json", json.dumps({"ip": ip}))
        elif self.path == "/cdn-cgi/trace":
            self.reply(200, "text/plain", f"fl=lab\nh=lab\nip={ip}\nts=0\nvisit_scheme=http\n")
        else:
            self.reply(404, "text/plain", "try /ip, /json or /cdn-cgi/trace\n")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        line = json.dumps(
            {
                "received": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                "path": self.path,
                "body": body,
            }
        )
        with LOG_LOCK, open(os.path.join(DIR, "webhook.log"), "a", encoding="utf-8") as f:
            f.write(line + "\n")
        self.reply(200, "application/json", '{"ok":true}')

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), format % args))


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


Server((ADDRESS, PORT), Handler).serve_forever()
