#!/usr/bin/env python3
"""GET a path from the service under Wine, the way Wine 8.0 can take it.

    tests/windows/http_get.py PORT PATH      (body to stdout; exit 0 only on a 200)

Unlike curl, this client ends its side of the connection (shutdown SHUT_WR) right after the
request. civetweb on Windows answers, sends its FIN, then polls the socket for up to 1 s for
the client's close. Wine 8.0's wineserver loses that poll's completion when the client's
close arrives while the poll is being set up on the now blocking socket; the poll's timeout
then finds it still pending and the wineserver aborts (server/sock.c complete_async_poll:
Assertion), taking every Wine process with it. With curl that happened once in 40 to 150
requests; with the client's FIN already there, the poll sees it at once and never waits.
"""
import socket
import sys


def main() -> int:
    port, path = int(sys.argv[1]), sys.argv[2]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            s.shutdown(socket.SHUT_WR)
            answer = bytearray()
            while chunk := s.recv(65536):
                answer += chunk
    except OSError as e:
        print(f"http_get: 127.0.0.1:{port}{path}: {e}", file=sys.stderr)
        return 1
    head, _, body = bytes(answer).partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    if len(status) < 2 or status[1] != b"200":
        print(f"http_get: 127.0.0.1:{port}{path}: {head[:80]!r}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
