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

    def __init__(self, fe, features, num=NUM):
        self.num = num
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
            fe.send(8, struct.pack('<II', q, num))
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

    def stop(self):
        """A guest reset as QEMU shows it: both rings disabled, then
        GET_VRING_BASE on each; returns the two replies."""
        for q in range(2):
            self.fe.send(18, struct.pack('<II', q, 0))
        r = []
        for q in range(2):
            self.fe.send(11, struct.pack('<II', q, 0))
            r.append(self.fe.recv())
        return r

    def restart(self):
        """The next probe: rings started again where they stopped."""
        for q in range(2):
            self.fe.send(10, struct.pack('<II', q, self.avail_idx[q]))
            k = os.eventfd(0)
            self.fe.send(12, struct.pack('<Q', q), fds=[k])
            self.kick[q] = k
            self.fe.send(18, struct.pack('<II', q, 1), flags=9)
            self.fe.recv()

    def wdesc(self, q, i, addr, ln, flags, nxt=0, table=None):
        off = (self.base(q) if table is None else table) + 16 * i
        self.m[off:off + 16] = struct.pack('<QIHH', addr, ln, flags, nxt)

    def publish(self, q, head, kick=True):
        a = self.base(q) + 0x1000
        slot = a + 4 + 2 * (self.avail_idx[q] % self.num)
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
            h = self.free[q] % self.num
            self.free[q] += 1
            self.wdesc(q, h, GPA + t, 16 * len(descs), 4)
            return h, out
        h = self.free[q] % self.num
        for i, (a, ln, f) in enumerate(descs):
            cur, nxt = (self.free[q] + i) % self.num, (self.free[q] + i + 1) % self.num
            self.wdesc(q, cur, a, ln, f | (1 if i < last else 0), nxt)
        self.free[q] += len(descs)
        return h, out

    def used(self, q, wait=5.0, n=1):
        """The used entries of queue q not seen yet: waits (up to wait
        seconds) until there are at least n of them."""
        a = self.base(q) + 0x2000
        res, t = [], time.time() + wait
        while True:
            idx = struct.unpack('<H', self.m[a + 2:a + 4])[0]
            while self.used_seen[q] != idx:
                i = self.used_seen[q] % self.num
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
                           (['--frobnicate'], 2, 'unknown option'),
                           (['--rules', 'bogus'], 2, '--rules bogus'),
                           (['--reset-mode', 'bogus'], 2, '--reset-mode bogus'),
                           (['--fault', 'frob'], 2, '--fault with an unknown kind'),
                           (['--fault', 'drop,line=32'], 2, '--fault with a line out of range'),
                           (['--fault', 'status,req=event'], 2, '--fault kind that does not fit req'),
                           (['--names-fault', 'bogus'], 2, '--names-fault bogus'),
                           (['--names-fault', 'dup', '--names', 'none'], 2, '--names-fault with --names'),
                           (['--names-fault', 'padded:10'], 2, '--names-fault padded smaller than the names'),
                           (['--fuzz', 'x'], 2, '--fuzz without a number'),
                           (['--fuzz-rate', '101'], 2, '--fuzz-rate above 100'),
                           (['--crash-after', '0'], 2, '--crash-after 0'),
                           (['--behaviour', 'bogus'], 2, '--behaviour bogus'),
                           (['--behaviour', 'fifo:0'], 2, '--behaviour with seed 0'),
                           (['--order', 'random'], 2, '--order random'),
                           (['--irq-delay', '1000001'], 2, '--irq-delay above 1 s'),
                           (['--irq-delay', '5:later'], 2, '--irq-delay with a bad suffix'),
                           (['--lines', '0', '--allow-zero-lines', '--loop', '0:0'], 2, '--loop without lines')):
        p = subprocess.run([SIM, '--socket', VSOCK, *args], stderr=subprocess.PIPE, text=True)
        err = p.stderr.strip().splitlines()
        tap(p.returncode == rc and len(err) == 1 and err[0].startswith('vgpio-sim: '),
            f'cli: {what} -> exit {rc} with one message', f'{p.returncode} {err}')
    p = subprocess.run([SIM], stderr=subprocess.PIPE)
    tap(p.returncode == 2, 'cli: --socket is required')
    p = subprocess.run([SIM, '--help'], stdout=subprocess.PIPE, text=True)
    tap(p.returncode == 0 and 'pulse L N PERIOD_US' in p.stdout, 'cli: --help documents the control protocol')
    want = ('--reset-mode', '--rules', '--mock-values', '--fault SPEC', '--names-fault', '--allow-zero-lines',
            '--crash-after', '--fuzz SEED', '--fuzz-rate', 'burst L[,L...] N PERIOD_US', 'edgetimes L', 'clock',
            'reset-mode keep|forget', 'state-reset', 'rules spec|rust-vmm', 'mock-values 0|1', 'fault SPEC',
            'fault list', 'fault clear [ID]', 'fuzz SEED [RATE]', 'fuzz-stats', 'stall-queue Q', 'unstall-queue Q',
            'crash', 'stale=0|1', 'svc_max_ns=M', '--behaviour latch|fifo', '--order ring|shuffle',
            '--irq-delay US', 'behaviour latch|fifo [SEED]', 'order ring|shuffle [SEED]', 'irq-delay US [recheck]',
            'refuse L none|TYPE', 'orphan=0|1', 'calls_evt=N', 'edges=N latched=N collapsed=N queued=N')
    missing = [w for w in want if w not in p.stdout]
    tap(p.returncode == 0 and not missing, 'cli: --help documents every new option and command', missing)
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
    tap(r == 'ok line=3 dir=none value=0 level=0 irq=none masked=1 pending=0 name=GPIO3 stale=0 queued=0 orphan=0',
        'ctl: get', r)
    tap(c.cmd('level 3 1') == 'ok' and 'level=1' in c.cmd('get 3'), 'ctl: level')
    tap(c.cmd('level 8 1').startswith('err') and c.cmd('level 3 2').startswith('err') and
        c.cmd('frob').startswith('err') and c.cmd('get').startswith('err'), 'ctl: bad commands answer err')
    c.f.write(b'ping\r\nstats\r\n')
    c.f.flush()
    r1, r2 = c.f.readline(), c.f.readline().decode()
    tap(r1 == b'ok pong\n' and r2.startswith('ok requests=0 errors=0 events=0 invalid=0 collapsed=0 '
                                              'protocol_errors=0 kicks=0 batch_max=0 inflight=0'),
        'ctl: CRLF, two commands in one write', r2)
    tap(c.cmd('stats 2') == 'ok line=2 requests=0 errors=0 events=0 invalid=0 edges=0 latched=0 collapsed=0 queued=0',
        'ctl: stats L')
    r = c.cmd('irqstate')
    tap(r == 'ok ' + ' '.join('%d:0:1:0' % n for n in range(8)) and c.cmd('irqstate 1').startswith('err'),
        'ctl: irqstate, every line as stats L and get L give it', r)
    tap(c.cmd('pulse 3 2 1000') == 'err level is high', 'ctl: pulse needs level 0')
    tap(c.cmd('pulse 4 3 2000') == 'ok pulses=3' and 'level=0' in c.cmd('get 4'), 'ctl: pulse without irq')
    tap(c.cmd('loop 2 3') == 'ok' and c.cmd('unloop 2 3') == 'ok' and
        c.cmd('unloop 2 3').startswith('err'), 'ctl: loop, unloop')
    tap(c.cmd('fail 1 1') == 'ok' and c.cmd('hang 1 0') == 'ok' and c.cmd('reset-stats') == 'ok',
        'ctl: fail, hang, reset-stats')
    r = c.cmd('clock')
    tap(r.startswith('ok mono_ns=') and int(r.split('=')[1]) > 0, 'ctl: clock', r)
    tap(c.cmd('reset-mode forget') == 'ok' and c.cmd('reset-mode keep') == 'ok' and
        c.cmd('reset-mode x').startswith('err'), 'ctl: reset-mode')
    tap(c.cmd('rules rust-vmm') == 'ok' and c.cmd('rules spec') == 'ok' and c.cmd('rules x').startswith('err'),
        'ctl: rules')
    tap(c.cmd('mock-values 1') == 'ok' and c.cmd('mock-values 0') == 'ok' and
        c.cmd('mock-values 2').startswith('err'), 'ctl: mock-values')
    tap(c.cmd('fault list') == 'ok 0 faults:' and c.cmd('fault drop,line=2,count=3') == 'ok id=1' and
        c.cmd('fault delay,arg=20') == 'ok id=2', 'ctl: fault SPEC answers the id')
    r = c.cmd('fault list')
    tap(r == 'ok 2 faults: id=1 kind=drop line=2 req=any count=3 arg=0; '
        'id=2 kind=delay line=all req=any count=always arg=20', 'ctl: fault list', r)
    tap(c.cmd('fault clear 1') == 'ok' and c.cmd('fault clear 1').startswith('err') and
        c.cmd('fault clear') == 'ok' and c.cmd('fault list') == 'ok 0 faults:', 'ctl: fault clear')
    tap(c.cmd('fault frob').startswith('err unknown fault kind') and c.cmd('fault drop,line=8').startswith('err') and
        c.cmd('fault').startswith('err'), 'ctl: bad fault specs answer err')
    r = c.cmd('fuzz-stats')
    tap(r == 'ok seed=0 requests=0 events=0 faults=0 drop=0 delay=0 reorder=0 len-short=0 len-long=0 len-zero=0 '
        'status=0 value=0 wrong-line=0 no-type=0 twice=0 evstatus=0 storm=0', 'ctl: fuzz-stats', r)
    tap(c.cmd('fuzz 77 25') == 'ok seed=77 rate=25' and c.cmd('fuzz-stats').startswith('ok seed=77 ') and
        c.cmd('fuzz off') == 'ok' and c.cmd('fuzz 1 101').startswith('err') and c.cmd('fuzz').startswith('err'),
        'ctl: fuzz SEED RATE, fuzz off')
    tap(c.cmd('stall-queue 1') == 'ok' and c.cmd('unstall-queue 1') == 'ok' and
        c.cmd('stall-queue 2').startswith('err'), 'ctl: stall-queue, unstall-queue')
    tap(c.cmd('state-reset') == 'ok' and c.cmd('edgetimes 3') == 'ok n=0 t=' and
        c.cmd('edgetimes 8').startswith('err'), 'ctl: state-reset, edgetimes')
    r = c.cmd('stats')
    tap(r.endswith(' inflight=0 stale=0 faults=0 storm=0 dead_queue=0 svc_n=0 svc_total_ns=0 svc_max_ns=0'
                   ' calls_req=0 calls_evt=0'),
        'ctl: stats has the new counters', r)
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


def session(*args, features=F_ALL, num=NUM):
    p = start(*args)
    fe = FrontEnd()
    g = Guest(fe, features, num)
    return p, fe, g, Ctl()


def setup(g, *reqs):
    """Requests (type, gpio, value) answered before the test goes on."""
    for r in reqs:
        g.request(*r)
    return g.used(0, n=len(reqs))


def stats_field(c, name):
    for kv in c.cmd('stats').split()[1:]:
        k, v = kv.split('=', 1)
        if k == name:
            return int(v)
    return None


def wait_stat(c, name, want, wait=5.0):
    t = time.time() + wait
    while True:
        v = stats_field(c, name)
        if v == want or time.time() > t:
            return v
        time.sleep(0.01)


def test_reset_keep():
    p, fe, g, c = session('--lines', '8')
    setup(g, (5, 1, 1), (3, 1, 1), (3, 2, 2), (6, 2, 3), (3, 3, 2), (6, 3, 1))
    eh, eo = g.unmask(2)
    c.until('get 2', 'masked=0')
    c.cmd('level 3 1')
    r = g.stop()
    tap(r[0] and r[1] and r[0][2] == struct.pack('<II', 0, g.avail_idx[0]), 'keep: GET_VRING_BASE answered', r)
    g1, g2, g3 = c.cmd('get 1'), c.cmd('get 2'), c.cmd('get 3')
    tap('dir=out value=1' in g1 and 'dir=in' in g2 and 'irq=both masked=1' in g2 and ' stale=1 ' in g2 and
        'irq=rising' in g3 and 'pending=1' in g3 and ' stale=0 ' in g3,
        'keep (default): a ring stop keeps dir, value, type, the latched edge; the held line goes stale',
        f'{g1} | {g2} | {g3}')
    tap(stats_field(c, 'stale') == 1 and g.used(1, 0.1) == [], 'keep: stats stale=1, the old buffer is never written')
    g.restart()
    h, a = g.request(2, 1, 0)
    u = g.used(0)
    tap(u == [(h, 2)] and g.m[a + 1] == 1, 'keep: after the restart GET_DIRECTION still says out', u)
    eh, eo = g.unmask(2)
    u = g.used(1)
    tap(u == [(eh, 1)] and g.m[eo] == 0 and ' stale=1 ' in c.cmd('get 2'),
        'keep: a new buffer on the stale line comes back INVALID at once', u)
    eh, eo = g.unmask(3)
    u = g.used(1)
    tap(u == [(eh, 1)] and g.m[eo] == 1, 'keep: the latched edge survives the ring stop', u)
    setup(g, (6, 2, 0))
    tap(' stale=0 ' in c.cmd('get 2') and stats_field(c, 'stale') == 0, 'keep: IRQ type NONE clears the stale line')
    setup(g, (6, 2, 3))
    eh, eo = g.unmask(2)
    tap('masked=0' in c.until('get 2', 'masked=0'), 'keep: then the line holds buffers again')
    tap(c.cmd('state-reset') == 'ok' and 'dir=none value=0 level=0 irq=none masked=1' in c.cmd('get 1'),
        'state-reset resets every line by hand', c.cmd('get 1'))
    fe.s.close()
    p.send_signal(signal.SIGTERM)
    finish(p)


def test_reset_forget():
    p, fe, g, c = session('--lines', '8', '--reset-mode', 'forget')
    setup(g, (5, 1, 1), (3, 1, 1), (3, 2, 2), (6, 2, 3))
    g.unmask(2)
    c.until('get 2', 'masked=0')
    g.stop()
    g1, g2 = c.cmd('get 1'), c.cmd('get 2')
    tap('dir=none value=0' in g1 and 'irq=none masked=1' in g2 and ' stale=0 ' in g2,
        '--reset-mode forget: a request queue stop resets every line', f'{g1} | {g2}')
    g.restart()
    setup(g, (3, 1, 1))
    c.cmd('reset-mode keep')
    g.stop()
    tap('dir=out' in c.cmd('get 1'), 'reset-mode keep at run time', c.cmd('get 1'))
    fe.s.close()
    p.send_signal(signal.SIGTERM)
    finish(p)


def test_rules():
    p, fe, g, c = session('--lines', '4', '--rules', 'rust-vmm')
    h, a = g.request(3, 0, 1)
    g.used(0)
    err_out = g.m[a]
    setup(g, (5, 0, 1))
    h, a = g.request(3, 0, 1)
    g.used(0)
    tap(err_out == 1 and g.m[a] == 0, 'rust-vmm: SET_DIRECTION OUT needs a SET_VALUE first', (err_out, g.m[a]))
    setup(g, (3, 1, 2))
    res = []
    for t in (0, 1, 4, 0x11, 3):
        h, a = g.request(6, 1, t)
        g.used(0)
        res.append(g.m[a])
    tap(res == [1, 0, 1, 1, 1], 'rust-vmm: IRQ type NONE on NONE, level, bits above 0x0F, a change answer ERR', res)
    h, a = g.request(2, 1, 0, wlen=3)
    u = g.used(0)
    h2, a2 = g.request(1, 0, 0, wlen=1 + 24)
    u2 = g.used(0)
    h3, a3 = g.request(1, 0, 0, wlen=1 + 25)
    u3 = g.used(0)
    tap(u == [(h, 2)] and g.m[a] == 1 and u2 == [(h2, 25)] and g.m[a2] == 0 and g.m[a3] == 1,
        'rust-vmm: responses must be exactly sized', f'{u} {u2} {u3}')
    tap(c.cmd('rules spec') == 'ok', 'rules spec at run time')
    h, a = g.request(2, 1, 0, wlen=3)
    g.used(0)
    tap(g.m[a] == 0, 'spec rules take a larger response buffer')
    c.cmd('rules rust-vmm')
    n = stats_field(c, 'requests')
    h, a = g.request(2, 4, 0)
    h2, a2 = g.request(2, 0, 0)
    st = c.until('stats', 'dead_queue=1')
    tap('dead_queue=1' in st and g.used(0, 0.3) == [] and stats_field(c, 'requests') == n + 1,
        'rust-vmm: a line out of range kills the request queue (dead_queue=1)', st)
    fe.s.close()
    fe = FrontEnd()
    g = Guest(fe, F_ALL)
    h, a = g.request(2, 0, 0)
    u = g.used(0)
    tap(u == [(h, 2)] and stats_field(c, 'dead_queue') == 0, 'rust-vmm: a new front end is served again', u)
    c.cmd('mock-values 1')
    setup(g, (3, 2, 2))
    c.cmd('level 2 1')
    h, a = g.request(4, 2, 0)
    g.used(0)
    e = g.m[a]
    setup(g, (5, 2, 0))
    h, a = g.request(4, 2, 0)
    g.used(0)
    tap(e == 1 and g.m[a:a + 2] == b'\0\1', 'mock-values: GET_VALUE on an input needs a SET_VALUE first',
        (e, g.m[a:a + 2]))
    fe.s.close()
    p.send_signal(signal.SIGTERM)
    finish(p)
    p, fe, g, c = session('--lines', '4', '--mock-values')
    setup(g, (3, 0, 2))
    h, a = g.request(4, 0, 0)
    g.used(0)
    tap(g.m[a] == 1, '--mock-values')
    fe.s.close()
    p.send_signal(signal.SIGTERM)
    finish(p)


def test_faults_requests():
    p, fe, g, c = session('--lines', '8', '--fault', 'status,req=get-dir,line=1,count=1,arg=0x7f', num=64)
    out = []
    for _ in range(2):
        h, a = g.request(2, 1, 0)
        g.used(0)
        out.append(g.m[a])
    tap(out == [0x7f, 0] and c.cmd('fault list') == 'ok 0 faults:',
        'fault status: the status byte, count=1 retires the fault', out)
    setup(g, (5, 0, 1), (3, 0, 1))
    c.cmd('fault value,req=get-value,arg=200')
    h, a = g.request(4, 0, 0)
    g.used(0)
    v = g.m[a + 1]
    c.cmd('fault clear')
    h, a = g.request(4, 0, 0)
    g.used(0)
    tap(v == 200 and g.m[a + 1] == 1, 'fault value: the value byte', v)
    n = stats_field(c, 'requests')
    c.cmd('fault drop,line=3,count=1')
    h3, _ = g.request(2, 3, 0, indirect=True)
    h4, _ = g.request(2, 4, 0, indirect=True)
    u = g.used(0)
    wait_stat(c, 'requests', n + 2)
    u += g.used(0, 0.3)
    h5, _ = g.request(2, 3, 0, indirect=True)
    u2 = g.used(0)
    tap(u == [(h4, 2)] and u2 == [(h5, 2)], 'fault drop: that request is never answered, others are', f'{u} {u2}')
    c.cmd('fault delay,line=5,count=1,arg=300')
    t0 = time.time()
    h5, _ = g.request(2, 5, 0, indirect=True)
    h6, _ = g.request(2, 6, 0, indirect=True)
    u = g.used(0)
    u += g.used(0, 5)
    dt = time.time() - t0
    tap(u == [(h6, 2), (h5, 2)] and dt >= 0.3, 'fault delay: answered arg ms later, the queue served meanwhile',
        f'{u} {dt:.3f}')
    c.cmd('fault reorder,req=get-dir,count=2')
    ha, _ = g.request(2, 0, 0, indirect=True, kick=False)
    hb, _ = g.request(2, 1, 0, indirect=True)
    u = g.used(0, n=2)
    tap(u == [(hb, 2), (ha, 2)], 'fault reorder: two held requests answered in reverse order', u)
    c.cmd('fault reorder,arg=4,count=1')
    t0 = time.time()
    h, _ = g.request(2, 0, 0, indirect=True)
    u = g.used(0, 5)
    dt = time.time() - t0
    tap(u == [(h, 2)] and dt >= 0.05, 'fault reorder: answered after 50 ms when no more come', f'{u} {dt:.3f}')
    res = []
    for spec, wlen, typ in (('len-short', 2, 2), ('len-long', 2, 2), ('len-zero', 2, 2), ('len-short', 49, 1),
                            ('len-long', 60, 1)):
        c.cmd(f'fault {spec},count=1')
        h, a = g.request(typ, 0, 0, wlen=wlen, indirect=True)
        u = g.used(0)
        res.append(u[0][1] if u else None)
    tap(res == [1, 10, 0, 24, 68] and g.m[a] == 0,
        'fault len-short/long/zero: used length 1, buffer + 8, 0; names: half', res)
    tap(stats_field(c, 'faults') == 12, 'stats counts the faults injected', c.cmd('stats'))
    fe.s.close()
    p.send_signal(signal.SIGTERM)
    finish(p)


def test_faults_events():
    p, fe, g, c = session('--lines', '8', num=64)
    setup(g, (3, 0, 2), (6, 0, 3), (3, 1, 2), (6, 1, 3), (3, 2, 2))
    c.cmd('fault wrong-line,line=0,count=1')
    e0, o0 = g.unmask(0)
    e1, o1 = g.unmask(1)
    c.until('get 1', 'masked=0')
    c.cmd('level 0 1')
    u = g.used(1)
    tap(u == [(e1, 1)] and g.m[o1] == 1 and 'masked=0' in c.cmd('get 0'),
        'fault wrong-line: line 0 has the edge, line 1 buffer comes back VALID', u)
    c.cmd('fault no-type,count=1')
    e2, o2 = g.unmask(2)
    u = g.used(1)
    e3, o3 = g.unmask(2)
    u += g.used(1)
    tap(u == [(e2, 1), (e3, 1)] and g.m[o2] == 1 and g.m[o3] == 0,
        'fault no-type: a buffer for a line of type NONE comes back VALID', u)
    c.cmd('fault twice,count=1')
    c.cmd('level 0 0')
    u = g.used(1, n=2)
    tap(u == [(e0, 1), (e0, 1)], 'fault twice: the same head twice on the used ring', u)
    c.cmd('fault evstatus,arg=0x42,count=1')
    e0, o0 = g.unmask(0)
    c.until('get 0', 'masked=0')
    c.cmd('level 0 1')
    u = g.used(1)
    tap(u == [(e0, 1)] and g.m[o0] == 0x42, 'fault evstatus: event status byte arg', u)
    c.cmd('fault storm,line=1')
    n0 = stats_field(c, 'storm')
    hs = [g.unmask(1)[0] for _ in range(3)]
    u = g.used(1, n=3)
    tap([x[0] for x in u] == hs and stats_field(c, 'storm') == n0 + 3,
        'fault storm: every buffer of an enabled line comes back VALID at once (stats storm)', u)
    c.cmd('fault clear')
    c.cmd('fault delay,req=event,arg=200,count=1')
    e0, o0 = g.unmask(0)
    c.until('get 0', 'masked=0')
    t0 = time.time()
    c.cmd('level 0 0')
    u = g.used(1, 5)
    dt = time.time() - t0
    tap(u == [(e0, 1)] and dt >= 0.2, 'fault delay on an event buffer', f'{u} {dt:.3f}')
    c.cmd('fault drop,req=event,count=1')
    e0, o0 = g.unmask(0)
    c.until('get 0', 'masked=0')
    c.cmd('level 0 1')
    tap('masked=1' in c.until('get 0', 'masked=1') and g.used(1, 0.3) == [],
        'fault drop on an event buffer: never returned')
    fe.s.close()
    p.send_signal(signal.SIGTERM)
    finish(p)


def names_of(*args, lines=8):
    p, fe, g, c = session('--lines', str(lines), *args)
    fe.send(24, struct.pack('<III', 0, 8, 0) + bytes(8))
    cfg = fe.recv()[2][12:]
    ngpio, size = struct.unpack('<H2xI', cfg)
    block = None
    if size and size < 70000:
        h, a = g.request(1, 0, 0, wlen=size + 1)
        u = g.used(0)
        if u == [(h, size + 1)] and g.m[a] == 0:
            block = g.m[a + 1:a + 1 + size]
    fe.s.close()
    p.send_signal(signal.SIGTERM)
    finish(p)
    return ngpio, size, block


def test_names_faults():
    _, size, b = names_of('--names-fault', 'no-nul', lines=4)
    tap(size == 23 and b == b'GPIO0\0GPIO1\0GPIO2\0GPIO3', '--names-fault no-nul', (size, b))
    _, size, b = names_of('--names-fault', 'fewer', lines=4)
    tap(b == b'GPIO0\0GPIO1\0', '--names-fault fewer', b)
    _, size, b = names_of('--names-fault', 'dup', lines=4)
    tap(b == b'GPIO0\0GPIO0\0GPIO2\0GPIO2\0', '--names-fault dup', b)
    _, size, b = names_of('--names-fault', 'non-ascii', lines=2)
    tap(b and any(x >= 0x80 for x in b) and b.count(0) == 2, '--names-fault non-ascii', b)
    _, size, b = names_of('--names-fault', 'padded')
    tap(size == 65536 and b and b.startswith(b'GPIO0\0GPIO1\0') and b[48:] == bytes(65536 - 48),
        '--names-fault padded: a 64 KiB block for 8 lines', size)
    ngpio, size, _ = names_of('--lines', '0', '--allow-zero-lines', lines=0)
    tap(ngpio == 0 and size == 0, '--lines 0 --allow-zero-lines: ngpio 0, no names', (ngpio, size))


def test_crash():
    p = start('--lines', '4')
    c = Ctl()
    c.f.write(b'crash\n')
    c.f.flush()
    r = c.f.readline()
    rc, err = finish(p)
    tap(r == b'' and rc == 3 and os.path.exists(VSOCK), 'crash: _exit(3), no reply, the sockets stay', f'{rc} {err}')
    p, fe, g, c = session('--lines', '4', '--crash-after', '2')
    hs = [g.request(2, i, 0, indirect=True)[0] for i in range(3)]
    rc, err = finish(p)
    u = g.used(0, 0.1, n=3)
    tap(rc == 3 and u == [(hs[0], 2), (hs[1], 2)], '--crash-after 2: two answers, then _exit(3)', f'{rc} {u}')


def test_stall():
    p, fe, g, c = session('--lines', '4')
    setup(g, (3, 1, 2), (6, 1, 3))
    k = stats_field(c, 'kicks')
    n = stats_field(c, 'requests')
    tap(c.cmd('stall-queue 0') == 'ok', 'stall-queue 0')
    h, a = g.request(2, 0, 0)
    wait_stat(c, 'kicks', k + 1)
    tap(g.used(0, 0.2) == [] and stats_field(c, 'requests') == n, 'stall-queue 0: the kick is taken, nothing processed')
    e, o = g.unmask(1)
    tap('masked=0' in c.until('get 1', 'masked=0'), 'stall-queue 0: the event queue is still served')
    c.cmd('unstall-queue 0')
    u = g.used(0)
    tap(u == [(h, 2)], 'unstall-queue 0: processing resumes', u)
    c.cmd('stall-queue 1')
    c.cmd('level 1 1')
    c.until('get 1', 'masked=1')
    tap(g.used(1, 0.2) == [], 'stall-queue 1: an event is not returned')
    c.cmd('unstall-queue 1')
    u = g.used(1)
    tap(u == [(e, 1)] and g.m[o] == 1, 'unstall-queue 1: the event goes out', u)
    fe.s.close()
    p.send_signal(signal.SIGTERM)
    finish(p)


def fuzz_run(*args):
    """100 messages with the fuzzer on: its statistics and whether every
    message that was not dropped came back."""
    p, fe, g, c = session('--lines', '4', *args, num=256)
    for i in range(60):
        g.request(2 + i % 5, i % 3, i % 2, indirect=True)
    for i in range(40):
        g.unmask(3, indirect=True)
    t = time.time() + 5
    while time.time() < t:
        fs = c.cmd('fuzz-stats')
        if ' requests=60 events=40 ' in fs:
            break
        time.sleep(0.01)
    f = dict(kv.split('=') for kv in fs.split()[1:])
    want = 100 - int(f['drop']) + int(f['twice'])
    got, t = 0, time.time() + 5
    while got < want and time.time() < t:
        got += len(g.used(0, 0)) + len(g.used(1, 0))
        time.sleep(0.01)
    got += len(g.used(0, 0.05)) + len(g.used(1, 0.05))
    fe.s.close()
    p.send_signal(signal.SIGTERM)
    _, err = finish(p)
    return fs, got == want, err


def test_fuzz():
    a, ok_a, err = fuzz_run('--fuzz', '1234', '--fuzz-rate', '50')
    b, ok_b, _ = fuzz_run('--fuzz', '1234', '--fuzz-rate', '50')
    c, _, _ = fuzz_run('--fuzz', '99', '--fuzz-rate', '50')
    tap('vgpio-sim: fuzz seed 1234' in err, '--fuzz prints its seed', err)
    tap(a == b and ' requests=60 events=40 ' in a and 'faults=0 ' not in a,
        'fuzz: the same seed replays the same faults', f'{a} | {b}')
    tap(a != c, 'fuzz: another seed, other faults', c)
    tap(ok_a and ok_b, 'fuzz: every message not dropped comes back')
    p = start('--lines', '4')
    cc = Ctl()
    r = cc.cmd('fuzz 5 100')
    cc.cmd('quit')
    _, err = finish(p)
    tap(r == 'ok seed=5 rate=100' and 'vgpio-sim: fuzz seed 5' in err, 'fuzz SEED RATE at run time', err)


def test_burst():
    p, fe, g, c = session('--lines', '8')
    setup(g, (3, 0, 2), (6, 0, 3), (3, 1, 2), (6, 1, 1), (2, 0, 0))
    e0, o0 = g.unmask(0)
    c.until('get 0', 'masked=0')
    t_before = int(c.cmd('clock').split('=')[1])
    t0 = time.time()
    r = c.cmd('burst 0,1 10 4000')
    dt = time.time() - t0
    t_after = int(c.cmd('clock').split('=')[1])
    tap(r == 'ok pulses=10 edges=30 sent=1 latched=2 collapsed=27',
        'burst: free-running pulses on two lines, edges latched and collapsed as the model does', r)
    tap(dt >= 0.04, 'burst: takes N periods', f'{dt:.3f}')
    u = g.used(1)
    tap(u == [(e0, 1)] and g.m[o0] == 1, 'burst: the held buffer goes back at the first edge', u)
    r1 = c.cmd('edgetimes 0')
    e0, o0 = g.unmask(0)
    g.used(1)
    r2 = c.cmd('edgetimes 0')
    t = [int(x) for x in r2.split('t=')[1].split(',')] if 't=' in r2 else []
    tap(r1.startswith('ok n=1 t=') and r2.startswith('ok n=2 t=') and len(t) == 2 and
        t_before <= t[0] < t[1] <= t_after,
        'edgetimes: the time of each edge, the latched one included, in CLOCK_MONOTONIC', f'{r2} {t_before} {t_after}')
    tap(c.cmd('reset-stats') == 'ok' and c.cmd('edgetimes 0') == 'ok n=0 t=', 'reset-stats forgets the edge times')
    c.cmd('level 2 1')
    tap(c.cmd('burst 2 1 1000') == 'err level is high on line 2' and c.cmd('burst 0,0 1 10').startswith('err') and
        c.cmd('burst 9 1 1').startswith('err usage') and c.cmd('burst 0 1').startswith('err usage'),
        'burst: bad arguments answer err')
    t0 = time.time()
    r = c.cmd('burst 3 50 2000')
    dt = time.time() - t0
    tap(r == 'ok pulses=50 edges=0 sent=0 latched=0 collapsed=0' and dt >= 0.1, 'burst: timed to absolute deadlines',
        f'{r} {dt:.3f}')
    for i in range(5):
        g.request(2, i, 0)
    g.used(0, n=5)
    svc_n, tot, mx = stats_field(c, 'svc_n'), stats_field(c, 'svc_total_ns'), stats_field(c, 'svc_max_ns')
    tap(svc_n == 5 and 0 < mx <= tot, 'stats: service time of requests answered at once', (svc_n, tot, mx))
    fe.s.close()
    p.send_signal(signal.SIGTERM)
    finish(p)


def call_count(g, q):
    """Notifications of queue q since the last look (the call eventfd)."""
    try:
        return os.eventfd_read(g.call[q])
    except BlockingIOError:
        return 0


def test_behaviour():
    p, fe, g, c = session('--lines', '8', '--behaviour', 'fifo:7')
    r = c.cmd('behaviour fifo 7')
    tap(r == 'ok behaviour=fifo order=shuffle', 'behaviour fifo: the reply names the behaviour and the order', r)
    for ln in range(8):
        c.cmd(f'level {ln} {ln % 2}')
    setup(g, *[(3, ln, 2) for ln in range(8)])
    # Eight requests, one kick: every reply right, in another order.
    heads = []
    for ln in range(8):
        heads.append(g.request(4, ln, 0, kick=ln == 7))
    u = g.used(0, n=8)
    ok = sorted(h for h, _ in u) == sorted(h for h, _ in heads) and \
        all(g.m[a] == 0 and g.m[a + 1] == ln % 2 for ln, (_, a) in enumerate(heads))
    tap(ok and [h for h, _ in u] != [h for h, _ in heads],
        'order shuffle: the requests of one kick complete in another order, each with its own reply',
        f'{[h for h, _ in heads]} -> {[h for h, _ in u]}')
    # Executed in any order too: a SET_VALUE and a GET_VALUE of one line in
    # one kick, twelve times: the GET sees the old value and the new one.
    setup(g, (5, 0, 0), (3, 0, 1))
    seen = set()
    for i in range(12):
        g.request(5, 0, (i + 1) % 2, kick=False)
        _, a = g.request(4, 0, 0)
        g.used(0, n=2)
        seen.add(g.m[a + 1] == (i + 1) % 2)
    tap(seen == {True, False}, 'order shuffle: the requests of one kick are executed in any order', seen)
    tap(c.cmd('order ring') == 'ok behaviour=fifo order=ring', 'order ring at run time')
    heads = [g.request(4, ln, 0, kick=ln == 7)[0] for ln in range(8)]
    u = g.used(0, n=8)
    tap([h for h, _ in u] == heads, 'order ring: replies in ring order', u)
    # fifo events: three edges while masked, three VALID buffers at once.
    setup(g, (3, 1, 2), (6, 1, 1))
    c.cmd('level 1 0')
    r = c.cmd('burst 1 3 2000')
    q = c.cmd('get 1')
    evs = [g.unmask(1)[0] for _ in range(4)]
    u = g.used(1, n=3)
    tap(r == 'ok pulses=3 edges=3 sent=0 latched=3 collapsed=0' and 'queued=3 orphan=0' in q and
        [h for h, _ in u] == evs[:3] and 'masked=0' in c.cmd('get 1'),
        'behaviour fifo: edges queued while masked go back one per buffer, the fourth buffer is held', f'{r} {q} {u}')
    st = c.cmd('stats 1')
    tap('edges=3 latched=3 collapsed=0 queued=0' in st and 'events=3' in st,
        'stats L: edges, latched, collapsed and queued of a line', st)
    # Type NONE: the held buffer stays until the line's next rising edge.
    setup(g, (6, 1, 0))
    tap(g.used(1, wait=0.3) == [] and 'orphan=1' in c.cmd('get 1'),
        'behaviour fifo: type NONE leaves the held buffer with the device')
    c.cmd('level 1 1')
    u = g.used(1)
    tap(u == [(evs[3], 1)] and g.m[g.used_seen[1]] is not None and 'orphan=0' in c.cmd('get 1'),
        'behaviour fifo: the next edge gives the buffer back (INVALID)', u)
    r = c.cmd('behaviour latch')
    tap(r == 'ok behaviour=latch order=ring', 'behaviour latch at run time', r)
    tap(c.cmd('behaviour odd').startswith('err usage') and c.cmd('behaviour fifo 0').startswith('err bad seed') and
        c.cmd('order ring x').startswith('err bad seed'), 'behaviour and order: bad arguments answer err')
    # refuse: chosen types answer ERR, others work.
    tap(c.cmd('refuse 2 rising,low') == 'ok' and c.cmd('refuse 2 odd').startswith('err bad type') and
        c.cmd('refuse 9 none').startswith('err usage'), 'refuse: types by name, bad ones answer err')
    setup(g, (3, 2, 2))
    res = []
    for t in (1, 2, 0, 8):
        _, a = g.request(6, 2, t)
        g.used(0)
        res.append(g.m[a])
    tap(res == [1, 0, 0, 1] and 'irq=none' in c.cmd('get 2'), 'refuse: SET_IRQ_TYPE rising and low answer ERR, falling works', res)
    c.cmd('refuse 2 none')
    _, a = g.request(6, 2, 1)
    g.used(0)
    tap(g.m[a] == 0, 'refuse none: every type again')
    # hang and fail over a range of lines.
    tap(c.cmd('hang 1-3 1') == 'ok' and c.cmd('hang 3-1 1').startswith('err bad line') and
        c.cmd('fail 0-8 1').startswith('err bad line'), 'hang A-B: a range of lines; a bad range answers err')
    hs = [g.request(4, ln, 0) for ln in range(4)]
    u = g.used(0, n=2, wait=0.5)
    held = stats_field(c, 'inflight')
    c.cmd('hang 1-3 0')
    u += g.used(0, n=3)
    tap([h for h, _ in u][:1] == [hs[0][0]] and held == 3 and len(u) == 4,
        'hang A-B 1 holds the requests of every line in the range, 0 answers them', (u, held))
    fe.s.close()
    p.send_signal(signal.SIGTERM)
    finish(p)


def test_irq_delay(features, tag):
    p, fe, g, c = session('--lines', '4', '--irq-delay', '300000', features=features)
    setup(g, (3, 0, 2))
    time.sleep(0.5)
    call_count(g, 0)
    n0 = stats_field(c, 'calls_req')
    avail = g.base(0) + 0x1000
    ev = avail + 4 + 2 * NUM

    def want_call():
        # The driver wants a call for its next used entry.
        if features & (1 << 29):
            g.m[ev:ev + 2] = struct.pack('<H', g.used_seen[0])
        g.m[avail:avail + 2] = struct.pack('<H', 0)

    def want_none():
        # It took what is there and wants no call for it.
        if features & (1 << 29):
            g.m[ev:ev + 2] = struct.pack('<H', g.used_seen[0])
        else:
            g.m[avail:avail + 2] = struct.pack('<H', 1)
    want_call()
    t0 = time.time()
    g.request(4, 0, 0)
    u = g.used(0, wait=0.25)
    early = call_count(g, 0)
    while not call_count(g, 0) and time.time() < t0 + 5:
        time.sleep(0.01)
    dt = time.time() - t0
    tap(len(u) == 1 and early == 0 and 0.28 <= dt < 2 and stats_field(c, 'calls_req') == n0 + 1,
        f'irq-delay ({tag}): the reply is published at once, its notification 300 ms later', (u, early, dt))
    # Decided at publication: a driver that took the reply and wants no call gets it anyway.
    want_call()
    g.request(4, 0, 0)
    g.used(0)
    want_none()
    time.sleep(0.5)
    tap(call_count(g, 0) == 1, f'irq-delay ({tag}): decided at publication, the call comes though the driver took the reply')
    # recheck: the same driver gets no call.
    tap(c.cmd('irq-delay 300000 recheck') == 'ok', 'irq-delay recheck at run time')
    want_call()
    g.request(4, 0, 0)
    g.used(0)
    want_none()
    time.sleep(0.5)
    tap(call_count(g, 0) == 0, f'irq-delay recheck ({tag}): a driver that took the reply and wants no call gets none')
    want_call()
    g.request(4, 0, 0)
    g.used(0)
    time.sleep(0.5)
    tap(call_count(g, 0) == 1, f'irq-delay recheck ({tag}): a driver that still wants it gets the call')
    tap(c.cmd('irq-delay 0') == 'ok' and c.cmd('irq-delay x').startswith('err usage') and
        c.cmd('irq-delay 5 now').startswith('err usage'), 'irq-delay: 0 turns it off, bad arguments answer err')
    want_call()
    g.request(4, 0, 0)
    g.used(0)
    t0 = time.time()
    while not call_count(g, 0) and time.time() < t0 + 5:
        time.sleep(0.001)
    tap(time.time() - t0 < 0.1, f'irq-delay 0 ({tag}): the call comes at once', time.time() - t0)
    fe.s.close()
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
        test_reset_keep,
        test_reset_forget,
        test_rules,
        test_faults_requests,
        test_faults_events,
        test_names_faults,
        test_crash,
        test_stall,
        test_fuzz,
        test_burst,
        test_behaviour,
        lambda: test_irq_delay(F_ALL, 'event idx'),
        lambda: test_irq_delay(F_BASE, 'flags'),
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
