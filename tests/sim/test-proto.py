#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
End-to-end tests of vgpio-sim without QEMU: a small vhost-user front end in
Python (guest memory in a memfd, two split rings) drives the simulator over
its sockets. Prints TAP and ends with "N passed, N failed".

    test-proto.py [PATH-TO-vgpio-sim]
"""
import mmap
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

SIM = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'vgpio-sim')
TMP = tempfile.mkdtemp(prefix='vgpio-proto-')
VSOCK, CSOCK = os.path.join(TMP, 'v.sock'), os.path.join(TMP, 'c.sock')

F_BASE = (1 << 32) | (1 << 30) | 1          # VERSION_1 | PROTOCOL_FEATURES | F_IRQ
F_ALL = F_BASE | (1 << 28) | (1 << 29)      # + INDIRECT_DESC | EVENT_IDX
MEMSZ, GPA, UVA, NUM = 1 << 20, 0x40000000, 0x7f0000000000, 16

n_pass = n_fail = 0


def tap(cond, name, diag=''):
    global n_pass, n_fail
    if cond:
        n_pass += 1
        print(f'ok {n_pass + n_fail} - {name}')
    else:
        n_fail += 1
        print(f'not ok {n_pass + n_fail} - {name}')
        if diag:
            print(f'#   {diag}')
    sys.stdout.flush()


PROCS = []


def start(*args):
    """Start the simulator; returns once it listens on both sockets (it
    says so on stderr after listen(), while the socket file exists from
    bind() on)."""
    for f in (VSOCK, CSOCK):
        if os.path.exists(f):
            os.unlink(f)
    p = subprocess.Popen([SIM, '--socket', VSOCK, '--ctl', CSOCK, *args],
                         stderr=subprocess.PIPE, text=True)
    p.lines, p.ready = [], threading.Event()

    def reader():
        for line in p.stderr:
            p.lines.append(line.rstrip('\n'))
            if 'vgpio-sim: listening on' in line:
                p.ready.set()
        p.ready.set()
    p.reader = threading.Thread(target=reader, daemon=True)
    p.reader.start()
    PROCS.append(p)
    p.ready.wait(20)
    return p


def finish(p, timeout=5):
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    p.reader.join(5)
    return p.returncode, '\n'.join(p.lines).strip().splitlines()


class FrontEnd:
    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(VSOCK)

    def send(self, req, payload=b'', flags=1, fds=()):
        m = struct.pack('<III', req, flags, len(payload)) + payload
        if fds:
            socket.send_fds(self.s, [m], list(fds))
        else:
            self.s.sendall(m)

    def recv(self):
        h = self.s.recv(12, socket.MSG_WAITALL)
        if len(h) < 12:
            return None
        r, f, n = struct.unpack('<III', h)
        return r, f, self.s.recv(n, socket.MSG_WAITALL) if n else b''


class Ctl:
    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(CSOCK)
        self.f = self.s.makefile('rwb')

    def until(self, c, want, wait=5.0):
        """Repeat command c until its reply contains want (up to wait
        seconds); the last reply."""
        t = time.time() + wait
        while True:
            r = self.cmd(c)
            if want in r or time.time() > t:
                return r
            time.sleep(0.01)

    def cmd(self, c):
        self.f.write(c.encode() + b'\n')
        self.f.flush()
        return self.f.readline().decode().rstrip('\n')


class Guest:
    """Guest memory and both rings, set up the way QEMU does it."""

    def __init__(self, fe, features):
        self.fd = os.memfd_create('guest')
        os.ftruncate(self.fd, MEMSZ)
        self.m = mmap.mmap(self.fd, MEMSZ)
        self.fe = fe
        fe.send(1)
        fe.recv()
        fe.send(15)
        fe.recv()
        fe.send(16, struct.pack('<Q', (1 << 9) | (1 << 3)))
        fe.send(3)
        fe.send(2, struct.pack('<Q', features))
        fe.send(5, struct.pack('<IIQQQQ', 1, 0, GPA, MEMSZ, UVA, 0), flags=9, fds=[self.fd])
        self.ack = fe.recv()
        self.kick, self.call = [], []
        self.avail_idx, self.free, self.used_seen = [0, 0], [0, 0], [0, 0]
        self.data = 0x20000
        for q in range(2):
            b = self.base(q)
            fe.send(8, struct.pack('<II', q, NUM))
            fe.send(10, struct.pack('<II', q, 0))
            fe.send(9, struct.pack('<IIQQQQ', q, 0, UVA + b, UVA + b + 0x2000, UVA + b + 0x1000, 0))
            k, c = os.eventfd(0), os.eventfd(0, os.EFD_NONBLOCK)
            fe.send(12, struct.pack('<Q', q), fds=[k])
            fe.send(13, struct.pack('<Q', q), fds=[c])
            self.kick.append(k)
            self.call.append(c)
            fe.send(18, struct.pack('<II', q, 1), flags=9)
            fe.recv()

    @staticmethod
    def base(q):
        return 0x1000 + q * 0x4000

    def alloc(self, b):
        a = self.data
        self.m[a:a + len(b)] = b
        self.data += (len(b) + 15) & ~15
        return a

    def wdesc(self, q, i, addr, ln, flags, nxt=0, table=None):
        off = (self.base(q) if table is None else table) + 16 * i
        self.m[off:off + 16] = struct.pack('<QIHH', addr, ln, flags, nxt)

    def publish(self, q, head, kick=True):
        a = self.base(q) + 0x1000
        slot = a + 4 + 2 * (self.avail_idx[q] % NUM)
        self.m[slot:slot + 2] = struct.pack('<H', head)
        self.avail_idx[q] = (self.avail_idx[q] + 1) & 0xffff
        self.m[a + 2:a + 4] = struct.pack('<H', self.avail_idx[q])
        if kick:
            os.eventfd_write(self.kick[q], 1)

    def chain(self, q, segs, indirect=False):
        """segs: (bytes, False) readable or (length, True) writable."""
        out, descs = [], []
        for b, w in segs:
            a = self.alloc(bytes(b) if w else b)
            ln = b if w else len(b)
            out.append(a)
            descs.append((GPA + a, ln, 2 if w else 0))
        last = len(descs) - 1
        if indirect:
            t = self.alloc(bytes(16 * len(descs)))
            for i, (a, ln, f) in enumerate(descs):
                self.wdesc(q, i, a, ln, f | (1 if i < last else 0), i + 1, table=t)
            h = self.free[q] % NUM
            self.free[q] += 1
            self.wdesc(q, h, GPA + t, 16 * len(descs), 4)
            return h, out
        h = self.free[q] % NUM
        for i, (a, ln, f) in enumerate(descs):
            cur, nxt = (self.free[q] + i) % NUM, (self.free[q] + i + 1) % NUM
            self.wdesc(q, cur, a, ln, f | (1 if i < last else 0), nxt)
        self.free[q] += len(descs)
        return h, out

    def used(self, q, wait=2.0, n=1):
        """The used entries of queue q not seen yet: waits (up to wait
        seconds) until there are at least n of them."""
        a = self.base(q) + 0x2000
        res, t = [], time.time() + wait
        while True:
            idx = struct.unpack('<H', self.m[a + 2:a + 4])[0]
            while self.used_seen[q] != idx:
                i = self.used_seen[q] % NUM
                res.append(struct.unpack('<II', self.m[a + 4 + 8 * i:a + 12 + 8 * i]))
                self.used_seen[q] = (self.used_seen[q] + 1) & 0xffff
            if len(res) >= n or time.time() > t:
                return res
            time.sleep(0.01)

    def request(self, typ, gpio, val, wlen=2, indirect=False, kick=True):
        h, out = self.chain(0, [(struct.pack('<HHI', typ, gpio, val), False), (wlen, True)], indirect)
        self.publish(0, h, kick)
        return h, out[-1]

    def unmask(self, gpio, indirect=False):
        h, out = self.chain(1, [(struct.pack('<H', gpio), False), (1, True)], indirect)
        self.publish(1, h)
        return h, out[-1]


def test_cli():
    for args, rc, what in ((['--lines', '0'], 2, '--lines 0'),
                           (['--lines', '65536'], 2, '--lines 65536'),
                           (['--names', 'bogus'], 2, '--names bogus'),
                           (['--loop', '1:40'], 2, '--loop out of range'),
                           (['--names-size', '0x100000000'], 2, '--names-size too big'),
                           (['--frobnicate'], 2, 'unknown option')):
        p = subprocess.run([SIM, '--socket', VSOCK, *args], stderr=subprocess.PIPE, text=True)
        err = p.stderr.strip().splitlines()
        tap(p.returncode == rc and len(err) == 1 and err[0].startswith('vgpio-sim: '),
            f'cli: {what} -> exit {rc} with one message', f'{p.returncode} {err}')
    p = subprocess.run([SIM], stderr=subprocess.PIPE)
    tap(p.returncode == 2, 'cli: --socket is required')
    p = subprocess.run([SIM, '--help'], stdout=subprocess.PIPE, text=True)
    tap(p.returncode == 0 and 'pulse L N PERIOD_US' in p.stdout, 'cli: --help documents the control protocol')
    p = start()
    q = subprocess.run([SIM, '--socket', VSOCK], stderr=subprocess.PIPE, text=True)
    tap(q.returncode == 1 and 'in use' in q.stderr, 'cli: a socket in use is an error', q.stderr)
    p.send_signal(signal.SIGINT)
    rc, _ = finish(p)
    tap(rc == 0 and not os.path.exists(VSOCK) and not os.path.exists(CSOCK),
        'SIGINT exits 0 and removes the sockets')
    s = socket.socket(socket.AF_UNIX)
    s.bind(VSOCK)
    s.close()
    p = start()
    c = Ctl()
    tap(c.cmd('ping') == 'ok pong', 'a stale socket file is replaced')
    p.send_signal(signal.SIGTERM)
    rc, _ = finish(p)
    tap(rc == 0, 'SIGTERM exits 0')


def test_ctl():
    p = start('--lines', '8')
    c = Ctl()
    tap(c.cmd('ping') == 'ok pong', 'ctl: ping')
    r = c.cmd('get 3')
    tap(r == 'ok line=3 dir=none value=0 level=0 irq=none masked=1 pending=0 name=GPIO3 stale=0', 'ctl: get', r)
    tap(c.cmd('level 3 1') == 'ok' and 'level=1' in c.cmd('get 3'), 'ctl: level')
    tap(c.cmd('level 8 1').startswith('err') and c.cmd('level 3 2').startswith('err') and
        c.cmd('frob').startswith('err') and c.cmd('get').startswith('err'), 'ctl: bad commands answer err')
    c.f.write(b'ping\r\nstats\r\n')
    c.f.flush()
    r1, r2 = c.f.readline(), c.f.readline().decode()
    tap(r1 == b'ok pong\n' and r2.startswith('ok requests=0 errors=0 events=0 invalid=0 collapsed=0 '
                                              'protocol_errors=0 kicks=0 batch_max=0 inflight=0'),
        'ctl: CRLF, two commands in one write', r2)
    tap(c.cmd('stats 2') == 'ok line=2 requests=0 errors=0 events=0 invalid=0', 'ctl: stats L')
    tap(c.cmd('pulse 3 2 1000') == 'err level is high', 'ctl: pulse needs level 0')
    tap(c.cmd('pulse 4 3 2000') == 'ok pulses=3' and 'level=0' in c.cmd('get 4'), 'ctl: pulse without irq')
    tap(c.cmd('loop 2 3') == 'ok' and c.cmd('unloop 2 3') == 'ok' and
        c.cmd('unloop 2 3').startswith('err'), 'ctl: loop, unloop')
    tap(c.cmd('fail 1 1') == 'ok' and c.cmd('hang 1 0') == 'ok' and c.cmd('reset-stats') == 'ok',
        'ctl: fail, hang, reset-stats')
    c2 = Ctl()
    tap(c2.cmd('ping') == 'ok pong' and c.cmd('ping') == 'ok pong', 'ctl: two clients at once')
    tap(c.cmd('quit') == 'ok', 'ctl: quit answers ok')
    rc, _ = finish(p)
    tap(rc == 0 and not os.path.exists(VSOCK), 'ctl: quit exits 0 and removes the sockets')


def test_data_path(features, ind, tag):
    p = start('--lines', '8', '--loop', '0:1', '--once')
    fe = FrontEnd()
    g = Guest(fe, features)
    c = Ctl()
    tap(g.ack and g.ack[2] == struct.pack('<Q', 0), f'{tag}: SET_MEM_TABLE need_reply acked')
    fe.send(24, struct.pack('<III', 0, 8, 0) + bytes(8))
    r = fe.recv()
    tap(r and r[0] == 24 and r[2][12:] == struct.pack('<HHI', 8, 0, 48), f'{tag}: GET_CONFIG')
    h, a = g.request(1, 0, 0, 49, indirect=ind)
    u = g.used(0)
    names = b''.join(b'GPIO%d\0' % i for i in range(8))
    tap(u == [(h, 49)] and g.m[a] == 0 and g.m[a + 1:a + 49] == names, f'{tag}: GET_LINE_NAMES', u)
    g.request(5, 0, 1, indirect=ind)
    g.request(3, 0, 1, indirect=ind)
    h, a = g.request(3, 1, 2, indirect=ind)
    u = g.used(0, n=3)
    tap(len(u) == 3 and 'dir=out value=1' in c.cmd('get 0') and 'level=1' in c.cmd('get 1'),
        f'{tag}: SET_VALUE, SET_DIRECTION, loop wiring', c.cmd('get 1'))
    g.request(5, 0, 0)
    g.request(6, 1, 1)
    g.used(0, n=2)
    eh, eo = g.unmask(1, ind)
    tap('masked=0' in c.until('get 1', 'masked=0') and g.used(1, 0.2) == [],
        f'{tag}: event buffer held (unmasked)')
    g.request(5, 0, 1)
    g.used(0)
    u = g.used(1)
    tap(u == [(eh, 1)] and g.m[eo] == 1, f'{tag}: rising edge through the loop returns VALID', u)
    eh, eo = g.unmask(2, ind)
    u = g.used(1)
    tap(u == [(eh, 1)] and g.m[eo] == 0, f'{tag}: unmask of a line without irq type returns INVALID', u)
    c.cmd('hang 3 1')
    h3, _ = g.request(2, 3, 0)
    h4, _ = g.request(2, 4, 0)
    u = g.used(0)
    # Nothing more may come for the held request.
    u += g.used(0, 0.2)
    st = c.until('stats', 'inflight=1')
    tap(u == [(h4, 2)] and 'inflight=1' in st, f'{tag}: hang holds one line, others complete', f'{u} {st}')
    c.cmd('hang 3 0')
    u = g.used(0)
    tap(u == [(h3, 2)], f'{tag}: hang 0 answers late', u)
    for i in range(5):
        g.request(2, i, 0, kick=False)
    os.eventfd_write(g.kick[0], 1)
    u = g.used(0, n=5)
    st = c.cmd('stats')
    tap(len(u) == 5 and 'batch_max=5' in st, f'{tag}: five requests, one kick: batch_max=5', st)
    h, out = g.chain(0, [(struct.pack('<HH', 2, 0), False), (struct.pack('<I', 0), False),
                         (1, True), (1, True)], ind)
    g.publish(0, h)
    u = g.used(0)
    tap(u == [(h, 2)] and g.m[out[2]] == 0 and g.m[out[3]] == 1, f'{tag}: gather/scatter chain', u)
    h, a = g.request(2, 0, 0, wlen=1)
    u = g.used(0)
    tap(u == [(h, 1)] and g.m[a] == 1, f'{tag}: 1-byte response buffer gets ERR', u)
    try:
        calls = os.eventfd_read(g.call[0])
    except BlockingIOError:
        calls = 0
    tap(calls > 0, f'{tag}: the call eventfd was signalled')
    fe.send(11, struct.pack('<II', 0, 0))
    r = fe.recv()
    tap(r and r[2] == struct.pack('<II', 0, g.avail_idx[0]), f'{tag}: GET_VRING_BASE returns the avail index', r)
    fe.send(99, struct.pack('<Q', 0), flags=9)
    r = fe.recv()
    tap(r and r[2] != struct.pack('<Q', 0), f'{tag}: unknown message with need_reply gets a failure', r)
    fe.s.close()
    rc, _ = finish(p, 3)
    tap(rc == 0, f'{tag}: --once exits 0 on disconnect')


def test_reconnect():
    p = start('--lines', '4')
    c = Ctl()
    fe = FrontEnd()
    g = Guest(fe, F_ALL)
    g.request(5, 1, 1)
    g.request(3, 1, 1)
    g.request(3, 2, 2)
    g.request(6, 2, 3)
    g.used(0, n=4)
    g.unmask(2)
    c.until('get 2', 'masked=0')
    fe.s.close()
    time.sleep(0.3)
    tap(p.poll() is None, 'reconnect: the simulator waits after a disconnect')
    tap('dir=out value=1' in c.cmd('get 1') and 'irq=both masked=1' in c.cmd('get 2'),
        'reconnect: line state kept, held buffers dropped', c.cmd('get 2'))
    fe = FrontEnd()
    g = Guest(fe, F_ALL)
    h, a = g.request(4, 1, 0)
    u = g.used(0)
    tap(u == [(h, 2)] and g.m[a:a + 2] == b'\0\1', 'reconnect: a new front end is served', u)
    k = os.eventfd(0)
    fe.send(12, struct.pack('<Q', 0), fds=[k])
    g.kick[0] = k
    time.sleep(0.1)
    h, a = g.request(4, 1, 0)
    u = g.used(0)
    tap(u == [(h, 2)], 'kick eventfd replaced', u)
    g.request(3, 0, 2)
    g.request(6, 0, 1)
    g.used(0, n=2)
    stop, seen = [False], [0]

    def driver():
        while not stop[0]:
            g.unmask(0)
            while not stop[0]:
                u = g.used(1, 0.05)
                if u:
                    seen[0] += len(u)
                    break
    t = threading.Thread(target=driver)
    t.start()
    r = c.cmd('pulse 0 20 2000')
    t_end = time.time() + 5
    while seen[0] < 20 and time.time() < t_end:
        time.sleep(0.01)
    stop[0] = True
    t.join()
    tap(r == 'ok pulses=20' and seen[0] == 20, 'pulse waits for each unmask: 20 pulses, 20 events',
        f'{r}, {seen[0]} events')
    r = c.cmd('pulse 2 1 1000')
    tap(r == 'err timeout waiting for unmask at pulse 1', 'pulse times out on a masked line', r)
    p.send_signal(signal.SIGTERM)
    finish(p)


def hostile(name, fn):
    p = start('--once')
    fe = FrontEnd()
    try:
        fn(fe)
    except OSError:
        pass
    rc, err = finish(p)
    tap(rc == 1 and err and err[-1].startswith('vgpio-sim: '), f'malformed: {name} -> exit 1 with a message',
        f'{rc} {err[-1:] if err else ""}')


def bad_desc(fe):
    g = Guest(fe, F_BASE)
    g.wdesc(0, 0, GPA + MEMSZ - 4, 8, 0)
    g.publish(0, 0)
    time.sleep(1)


def desc_loop(fe):
    g = Guest(fe, F_BASE)
    g.wdesc(0, 0, GPA + 0x30000, 8, 1, 1)
    g.wdesc(0, 1, GPA + 0x30000, 8, 1, 0)
    g.publish(0, 0)
    time.sleep(1)


def main():
    if not os.access(SIM, os.X_OK):
        print(f'Bail out! {SIM} not built')
        sys.exit(1)
    tests = [
        test_cli,
        test_ctl,
        lambda: test_data_path(F_ALL, True, 'indirect+event_idx'),
        lambda: test_data_path(F_BASE, False, 'direct'),
        test_reconnect,
        lambda: hostile('bad version flags', lambda fe: fe.send(1, flags=2)),
        lambda: hostile('payload larger than any message', lambda fe: fe.send(2, bytes(4000))),
        lambda: hostile('payload larger than its type', lambda fe: fe.send(2, bytes(16))),
        lambda: hostile('queue index out of range', lambda fe: fe.send(8, struct.pack('<II', 5, 64))),
        lambda: hostile('descriptor outside guest memory', bad_desc),
        lambda: hostile('descriptor loop', desc_loop),
    ]
    try:
        for t in tests:
            try:
                t()
            except Exception as e:  # one broken test must not stop the others
                tap(False, f'{getattr(t, "__name__", "test")} ran to its end', repr(e))
            for p in PROCS:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            PROCS.clear()
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
        shutil.rmtree(TMP, ignore_errors=True)
    print(f'1..{n_pass + n_fail}')
    print(f'{n_pass} passed, {n_fail} failed')
    sys.exit(1 if n_fail else 0)


if __name__ == '__main__':
    main()
