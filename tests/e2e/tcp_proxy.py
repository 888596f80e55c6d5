#!/usr/bin/env python3
"""tcp_proxy.py - a TCP proxy for fault-injection tests (stdlib only).

    tcp_proxy.py LISTEN_PORT TARGET_HOST TARGET_PORT
                 [--drop-after-bytes N] [--control FILE]

Listens on 127.0.0.1:LISTEN_PORT (0: a free port) and forwards every
connection to TARGET_HOST:TARGET_PORT, both ways.

  SIGUSR1              cut every live connection (both sides get a RST);
                       new connections are still accepted afterwards.
  --drop-after-bytes N cut each connection once N bytes went server->client
                       (exactly N are delivered, then the RST).
  --control FILE       once listening, write the port (one line) to FILE,
                       atomically: wait for FILE to appear, then read it.
  SIGTERM / SIGINT     close everything and exit 0.

One line per event goes to stderr ("accepted #1", "cut #1: signal", ...).
"""
import argparse
import os
import selectors
import signal
import socket
import struct
import sys

CHUNK = 65536
HIGH_WATER = 1 << 20  # stop reading a side while its peer has this much queued


def log(msg):
    sys.stderr.write("tcp_proxy: %s\n" % msg)
    sys.stderr.flush()


class Conn:
    def __init__(self, n, client, server):
        self.n = n
        self.client = client
        self.server = server
        self.queued = {client: bytearray(), server: bytearray()}  # to write to key
        self.down = 0  # bytes server -> client
        self.cut_when_flushed = False
        self.closed = False
        self.eof = set()  # sides that sent EOF

    def peer(self, sock):
        return self.server if sock is self.client else self.client


class Proxy:
    def __init__(self, args):
        self.args = args
        self.sel = selectors.DefaultSelector()
        self.conns = {}  # socket -> Conn
        self.count = 0
        self.cut_requested = False
        self.stop = False
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", args.listen_port))
        self.listener.listen(64)
        self.listener.setblocking(False)
        self.sel.register(self.listener, selectors.EVENT_READ, "accept")
        # Signals wake the selector through this pair.
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        signal.set_wakeup_fd(self.wake_w.fileno())
        self.sel.register(self.wake_r, selectors.EVENT_READ, "wake")
        signal.signal(signal.SIGUSR1, self.on_usr1)
        signal.signal(signal.SIGTERM, self.on_stop)
        signal.signal(signal.SIGINT, self.on_stop)
        self.port = self.listener.getsockname()[1]

    def on_usr1(self, signum, frame):
        self.cut_requested = True

    def on_stop(self, signum, frame):
        self.stop = True

    def write_control(self):
        if not self.args.control:
            return
        tmp = self.args.control + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % self.port)
        os.rename(tmp, self.args.control)

    def update(self, conn):
        """Registers each side for reading unless its peer's queue is full,
        and for writing while its own queue is not empty."""
        for sock in (conn.client, conn.server):
            ev = 0
            if sock not in conn.eof and len(conn.queued[conn.peer(sock)]) < HIGH_WATER:
                ev |= selectors.EVENT_READ
            if conn.queued[sock]:
                ev |= selectors.EVENT_WRITE
            try:
                key = self.sel.get_key(sock)
            except KeyError:
                key = None
            if ev and key is None:
                self.sel.register(sock, ev, conn)
            elif ev and key.events != ev:
                self.sel.modify(sock, ev, conn)
            elif not ev and key is not None:
                self.sel.unregister(sock)

    def close(self, conn, reason, reset):
        if conn.closed:
            return
        conn.closed = True
        for sock in (conn.client, conn.server):
            try:
                self.sel.unregister(sock)
            except (KeyError, ValueError):
                pass
            if reset:
                # Linger 0: close() sends a RST instead of a FIN.
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
                except OSError:
                    pass
            sock.close()
            self.conns.pop(sock, None)
        log("%s #%d: %s (%d bytes server->client)"
            % ("cut" if reset else "closed", conn.n, reason, conn.down))

    def accept(self):
        try:
            client, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        self.count += 1
        n = self.count
        try:
            server = socket.create_connection(
                (self.args.target_host, self.args.target_port), timeout=10)
        except OSError as e:
            log("#%d: cannot connect to %s:%d: %s"
                % (n, self.args.target_host, self.args.target_port, e))
            client.close()
            return
        for s in (client, server):
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Conn(n, client, server)
        self.conns[client] = conn
        self.conns[server] = conn
        self.update(conn)
        log("accepted #%d" % n)

    def on_read(self, conn, sock):
        try:
            data = sock.recv(CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.close(conn, "read error: %s" % e, True)
            return
        peer = conn.peer(sock)
        if not data:
            conn.eof.add(sock)
            if not conn.queued[peer]:
                try:
                    peer.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            if len(conn.eof) == 2 and not any(conn.queued.values()):
                self.close(conn, "both sides closed", False)
                return
            self.update(conn)
            return
        limit = self.args.drop_after_bytes
        if sock is conn.server and limit is not None:
            allowed = limit - conn.down
            if len(data) >= allowed:
                data = data[:allowed]
                conn.cut_when_flushed = True
        if sock is conn.server:
            conn.down += len(data)
        conn.queued[peer] += data
        self.flush(conn, peer)

    def flush(self, conn, sock):
        q = conn.queued[sock]
        while q:
            try:
                n = sock.send(q)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:
                self.close(conn, "write error: %s" % e, True)
                return
            del q[:n]
        if conn.cut_when_flushed and not conn.queued[conn.client]:
            self.close(conn, "after %d bytes" % self.args.drop_after_bytes, True)
            return
        if not q and conn.peer(sock) in conn.eof:
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        if len(conn.eof) == 2 and not any(conn.queued.values()):
            self.close(conn, "both sides closed", False)
            return
        self.update(conn)

    def cut_all(self):
        live = {id(c): c for c in self.conns.values()}
        log("SIGUSR1: cutting %d live connection(s)" % len(live))
        for conn in live.values():
            self.close(conn, "signal", True)

    def run(self):
        log("listening on 127.0.0.1:%d -> %s:%d"
            % (self.port, self.args.target_host, self.args.target_port))
        self.write_control()
        while not self.stop:
            for key, mask in self.sel.select(timeout=1.0):
                if key.data == "accept":
                    self.accept()
                elif key.data == "wake":
                    try:
                        while self.wake_r.recv(512):
                            pass
                    except (BlockingIOError, InterruptedError):
                        pass
                else:
                    conn = key.data
                    if conn.closed:
                        continue
                    if mask & selectors.EVENT_WRITE:
                        self.flush(conn, key.fileobj)
                    if not conn.closed and mask & selectors.EVENT_READ:
                        self.on_read(conn, key.fileobj)
                if self.cut_requested:
                    break
            if self.cut_requested:
                self.cut_requested = False
                self.cut_all()
        for conn in list({id(c): c for c in self.conns.values()}.values()):
            self.close(conn, "proxy stopping", True)
        self.listener.close()
        log("stopped")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("listen_port", type=int)
    ap.add_argument("target_host")
    ap.add_argument("target_port", type=int)
    ap.add_argument("--drop-after-bytes", type=int, default=None, metavar="N")
    ap.add_argument("--control", metavar="FILE")
    args = ap.parse_args()
    if args.drop_after_bytes is not None and args.drop_after_bytes < 0:
        ap.error("--drop-after-bytes must be >= 0")
    Proxy(args).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
