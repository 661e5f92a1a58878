#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The figures of make bench: from the guests' GV-BENCH lines and the host's
CPU samples to a table on the terminal, results JSON, the targets of issue
12, and the README table.

  bench-report.py --json OUT [--readme README.md] [--timing 'K=V ...']
                  --kernel K META CONSOLE CPU [META CONSOLE CPU ...] [--kernel ...]
  bench-report.py --sample RUNDIR OUT    the host CPU sampler of one boot
  bench-report.py --follow CONSOLE PID LOADFILE   progress while a boot runs
  bench-report.py --brief 'GV-BENCH: ...'     one progress line
  bench-report.py --readme README.md --from-json results/bench.json
  bench-report.py --check OUT.json [--expect-boots N]   the smoke's checks (TAP)

META is scripts/bench.sh's key=value description of one boot, CONSOLE the
guest's console log (tests/guest/bench.sh prints the figures there), CPU the
sampler's file of that boot. Times are in microseconds in the JSON and the
tables (ns in the console).

Method (also written into the JSON as "method"): a run is one driver in one
pass of one boot. Each run gives one value per metric: the median of its
samples for a time, the lossless rate of its search for a rate, the median of
its binds for a probe, the CPU per operation of its window. A driver's
figure is the geometric mean of its runs' values (the arithmetic mean for
CPU, which may be 0). The ratio is peer / ours of those figures; its 95%
confidence interval is a percentile bootstrap: the runs of each driver are
resampled with replacement, separately (10000 times, a fixed seed), and the
ratio computed each time; the interval is the 2.5th to 97.5th percentile.
An interval that holds 1 is "no difference shown".
"""
import bisect
import json
import math
import os
import random
import re
import statistics
import sys
import time

BOOTSTRAP_N = 10000
BOOTSTRAP_SEED = 19

# metric: (description, unit, better, kind, group)
METRICS = [
    ("get1", "read 1 line", "us", "lower", "ops", "single"),
    ("set1", "write 1 line", "us", "lower", "ops", "single"),
    ("get32", "read 32 lines, one ioctl", "us", "lower", "ops", "multi"),
    ("set32", "write 32 lines, one ioctl", "us", "lower", "ops", "multi"),
    ("get64", "read 64 lines, one ioctl", "us", "lower", "ops", "multi"),
    ("set64", "write 64 lines, one ioctl", "us", "lower", "ops", "multi"),
    ("get32-noind", "read 32 lines, no indirect descriptors", "us", "lower", "ops", "noindirect"),
    ("set32-noind", "write 32 lines, no indirect descriptors", "us", "lower", "ops", "noindirect"),
    ("get64-noind", "read 64 lines, no indirect descriptors", "us", "lower", "ops", "noindirect"),
    ("set64-noind", "write 64 lines, no indirect descriptors", "us", "lower", "ops", "noindirect"),
    ("irq-loop", "interrupt by loopback: set line A, read line B's event (guest clock)",
     "us", "lower", "ops", "latency"),
    ("irq-loop-irq", "loopback: set line A to B's event timestamp (guest clock)",
     "us", "lower", "sub", "latency"),
    ("irq-latency", "interrupt: device edge to event timestamp (host clock offset: upper bound)",
     "us", "lower", "offset", "latency"),
    ("irq-cpu", "CPU per interrupt, 1 line at a fixed rate (guest, all vCPUs)",
     "us", "lower", "irqcpu", "irqcpu"),
    ("irq-rate-1", "lossless interrupt rate, 1 line", "Hz", "higher", "rate", "rate"),
    ("irq-rate-8", "lossless interrupt rate, 8 lines at once (per line)", "Hz", "higher", "rate", "rate"),
    ("irq-rate-32", "lossless interrupt rate, 32 lines at once (per line)", "Hz", "higher", "rate", "rate"),
    ("get1-hog", "read 1 line, CPU hog in the guest", "us", "lower", "ops", "contention"),
    ("set1-hog", "write 1 line, CPU hog in the guest", "us", "lower", "ops", "contention"),
    ("irq-loop-hog", "interrupt by loopback, CPU hog in the guest", "us", "lower", "ops", "contention"),
    ("irq-rate-1-hog", "lossless interrupt rate, 1 line, CPU hog in the guest", "Hz", "higher",
     "rate", "contention"),
    ("probe-64-time", "probe time, 64-line device", "ms", "lower", "probe", "single"),
    ("probe-1024-time", "probe time, 1024-line device", "ms", "lower", "probe", "probe"),
    ("probe-1024-mem", "memory of a bound 1024-line device (slab + vmalloc)", "kB", "lower",
     "probe", "probe"),
    ("probe-65535-time", "probe time, 65535-line device", "ms", "lower", "probe", "probe"),
    ("probe-65535-mem", "memory of a bound 65535-line device (slab + vmalloc)", "kB", "lower",
     "probe", "probe"),
]
MINFO = {m[0]: {"description": m[1], "unit": m[2], "better": m[3], "kind": m[4], "group": m[5]}
         for m in METRICS}
SWEEP_METRICS = ["get1", "set1", "irq-loop", "get1-hog", "set1-hog"]
CPU_KINDS = ("ops", "irqcpu")
ERRNO = {12: "ENOMEM", 28: "ENOSPC", 22: "EINVAL", 19: "ENODEV", 16: "EBUSY", 5: "EIO",
         110: "ETIMEDOUT", 34: "ERANGE", 7: "E2BIG"}
DRVS = ("peer", "ours")


def kv(text):
    out = {}
    for tok in text.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = v
    return out


def num(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        try:
            return float(v)
        except (TypeError, ValueError):
            return None


def r3(v):
    """rounded for the JSON: 4 significant digits"""
    if v is None or isinstance(v, int):
        return v
    if v == 0 or not math.isfinite(v):
        return v
    return round(v, max(0, 3 - int(math.floor(math.log10(abs(v))))))


# --- the host CPU sampler ----------------------------------------------------

def sample(rundir, out, interval=0.02):
    """Samples the CPU time of the boot's QEMU threads and simulators until
    QEMU ends: one line per sample, t_ns (CLOCK_MONOTONIC) then the
    cumulative ns of the vCPU threads ("CPU n/..."), QEMU's other threads,
    the simulators and this sampler. A thread's time is its schedstat run
    time; one that exits keeps its last sample. With SIM_PRIO in the
    environment (fifoN: SCHED_FIFO priority N, else a nice value), every
    thread of the simulators gets it when first seen."""
    con = rundir.rstrip("/") + "/console.log"
    sockpfx = rundir.rstrip("/") + "/vgpio"

    def scan():
        q, sims = None, []
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    args = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
            except OSError:
                continue
            if not args:
                continue
            if "qemu" in os.path.basename(args[0]) and any(con in a for a in args):
                q = int(pid)
            elif "--socket" in args and any(a.startswith(sockpfx) for a in args):
                sims.append(int(pid))
        return q, sims

    end = time.monotonic() + 600
    q = None
    while q is None:
        q, sims = scan()
        if q is None:
            if time.monotonic() > end:
                print(f"no QEMU of {rundir} within 600 s", file=sys.stderr)
                return 1
            time.sleep(0.1)
    last = {}      # (pid, tid) -> [class, ns]
    names = {}

    prio = os.environ.get("SIM_PRIO", "")
    reniced = set()

    def threads(pid, cls_of, renamed, renice=False):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return False
        for tid in tids:
            key = (pid, tid)
            if renice and prio not in ("", "0") and key not in reniced:
                reniced.add(key)
                try:
                    if prio.startswith("fifo"):
                        os.sched_setscheduler(int(tid), os.SCHED_FIFO,
                                              os.sched_param(int(prio[4:] or 1)))
                    else:
                        os.setpriority(os.PRIO_PROCESS, int(tid), int(prio))
                except (OSError, ValueError) as e:
                    # a thread that ended meanwhile
                    print(f"simulator thread {tid}, {prio}: {e}", file=sys.stderr)
            try:
                # a thread is named after it starts: its name is read again
                if key not in names or renamed:
                    with open(f"/proc/{pid}/task/{tid}/comm") as f:
                        names[key] = f.read().strip()
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    ns = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            last[key] = [cls_of(names[key]), ns]
        return True

    with open(out, "w") as f:
        f.write(f"# qemu={q} sims={','.join(map(str, sims))} interval_ms={interval * 1000:g}"
                f" sim_prio={prio or 0}\n")
        f.write("# t_ns vcpu_ns qemu_other_ns sim_ns sampler_ns\n")
        rescans = k = 0
        while True:
            t = time.monotonic_ns()
            renamed = k % 50 == 0
            k += 1
            alive = threads(q, lambda n: "vcpu" if n.startswith("CPU ") else "other", renamed)
            for s in sims:
                threads(s, lambda n: "sim", False, renice=True)
            tot = {"vcpu": 0, "other": 0, "sim": 0}
            for c, ns in last.values():
                tot[c] += ns
            f.write(f"{t} {tot['vcpu']} {tot['other']} {tot['sim']} {time.process_time_ns()}\n")
            if not alive or not os.path.exists(f"/proc/{q}/stat"):
                break
            try:
                with open(f"/proc/{q}/stat") as st:
                    if st.read().rsplit(")", 1)[1].split()[0] == "Z":
                        break
            except (OSError, IndexError):
                break
            if rescans < 5:     # a simulator that started late
                rescans += 1
                sims = sorted(set(sims) | set(scan()[1]))
            time.sleep(interval)
        f.write("# threads: " + "; ".join(f"{p}/{t}={names.get((p, t), '?')}:{c}"
                                          for (p, t), (c, _) in sorted(last.items())) + "\n")
    return 0


class CpuSamples:
    def __init__(self, path):
        self.t, self.cols, self.note = [], [], ""
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("#"):
                        if "threads:" in line:
                            self.note = line[2:].strip()
                        continue
                    v = line.split()
                    if len(v) == 5:
                        self.t.append(int(v[0]))
                        self.cols.append([int(x) for x in v[1:]])
        except OSError:
            pass
        self.vcpu_threads = len(re.findall(r":vcpu", self.note))
        self.sim_prio = None
        try:
            with open(path) as f:
                mo = re.search(r"sim_prio=(\S+)", f.readline())
                self.sim_prio = mo.group(1) if mo else None
        except OSError:
            pass

    def at(self, t):
        """the cumulative columns at host time t, interpolated"""
        if len(self.t) < 2 or t < self.t[0] or t > self.t[-1]:
            return None
        i = bisect.bisect_left(self.t, t)
        if self.t[i] == t:
            return list(self.cols[i])
        a, b = i - 1, i
        f = (t - self.t[a]) / (self.t[b] - self.t[a])
        return [x + f * (y - x) for x, y in zip(self.cols[a], self.cols[b])]

    def window(self, t0, t1):
        a, b = self.at(t0), self.at(t1)
        if a is None or b is None:
            return None
        d = [y - x for x, y in zip(a, b)]
        return {"vcpu": d[0], "qemu_other": d[1], "sim": d[2], "sampler": d[3]}


# --- statistics --------------------------------------------------------------

def gmean(v):
    return math.exp(sum(math.log(x) for x in v) / len(v))


def amean(v):
    return sum(v) / len(v)


def bootstrap(a, b, geo, seed=BOOTSTRAP_SEED, n=BOOTSTRAP_N):
    """point ratio of the geometric (geo) or arithmetic means of a and b,
    and its percentile-bootstrap 95% interval, a and b resampled separately"""
    if not a or not b:
        return None, None, None
    if geo:
        xa, xb = [math.log(x) for x in a], [math.log(x) for x in b]
    else:
        xa, xb = list(a), list(b)
    la, lb = len(xa), len(xb)
    sa, sb = sum(xa) / la, sum(xb) / lb
    if geo:
        point = math.exp(sa - sb)
    elif sb:
        point = sa / sb
    else:
        return None, None, None
    rng = random.Random(seed)
    ch = rng.choices
    rs = []
    for _ in range(n):
        ma = sum(ch(xa, k=la)) / la
        mb = sum(ch(xb, k=lb)) / lb
        if geo:
            rs.append(math.exp(ma - mb))
        elif mb:
            rs.append(ma / mb)
    if not rs:
        return point, None, None
    rs.sort()
    lo = rs[max(0, int(math.floor(0.025 * len(rs))))]
    hi = rs[min(len(rs) - 1, int(math.ceil(0.975 * len(rs))) - 1)]
    return point, lo, hi


def verdict(lo, hi, better):
    """which driver the interval of peer/ours shows ahead"""
    if lo is None or hi is None:
        return "not measured"
    if lo <= 1 <= hi:
        return "no difference shown"
    ours_ahead = lo > 1 if better == "lower" else hi < 1
    return "ours better" if ours_ahead else "in-tree better"


def compare(a, b, better, positive=True, seed=BOOTSTRAP_SEED):
    """peer values a, ours b: figures, ratio, interval, verdict"""
    a = [x for x in a if x is not None]
    b = [x for x in b if x is not None]
    if not a or not b:
        return None
    geo = positive and min(a + b) > 0
    stat = gmean if geo else amean
    point, lo, hi = bootstrap(a, b, geo, seed)
    return {"peer": r3(stat(a)), "ours": r3(stat(b)), "n_peer": len(a), "n_ours": len(b),
            "statistic": "geometric mean" if geo else "mean",
            "ratio": r3(point), "ci_lo": r3(lo), "ci_hi": r3(hi),
            "verdict": verdict(lo, hi, better)}


# --- one boot ----------------------------------------------------------------

class Boot:
    def __init__(self, meta_path, console_path, cpu_path, bad_re):
        self.meta = {}
        with open(meta_path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    self.meta[k] = v
        self.boot = num(self.meta.get("boot")) or 1
        self.cpu = CpuSamples(cpu_path)
        self.lines = {}        # (pass, drv, metric, sweep) -> kv, or list of kv (tries)
        self.klog = {}
        self.orders = {}
        self.problems = []
        self.peer_reports = []
        self.guest_kernel = None
        self.guest = {}
        self.end_rc = None
        window = None
        in_dmesg = False
        bad = re.compile(bad_re)
        try:
            with open(console_path, errors="replace") as f:
                content = f.read().replace("\r", "").split("\n")
        except OSError as e:
            content = []
            self.problems.append(f"no console log: {e}")
        notok = []
        for line in content:
            if line.startswith("GV-DMESG-BEGIN"):
                in_dmesg = True
                continue
            if line.startswith("GV-DMESG-END"):
                in_dmesg = False
                continue
            if in_dmesg:
                continue
            if line.startswith("GV-BENCH: "):
                d = kv(line[len("GV-BENCH: "):])
                key = (d.get("pass"), d.get("drv"), d.get("metric"), d.get("sweep"))
                if "try" in d:
                    self.lines.setdefault(key, []).append(d)
                else:
                    self.lines[key] = d
            elif line.startswith("GV-BENCH-PASS: "):
                d = kv(line)
                self.orders[d.get("pass")] = (d.get("order") or "").split(",")
            elif line.startswith("GV-BENCH-KLOG: "):
                d = kv(line)
                key = (d.get("pass"), d.get("drv"), d.get("metric"))
                msg = line.split(" try=", 1)[-1]
                msg = msg.split(" ", 1)[1] if " " in msg else msg
                self.klog.setdefault(key, []).append(msg)
            elif line.startswith("GV-BENCH-KERNEL: "):
                self.guest_kernel = line.split(": ", 1)[1].strip()
            elif line.startswith("GV-BENCH-GUEST: "):
                self.guest = {k: num(v) for k, v in kv(line).items()}
            elif line.startswith("GV-BENCH-EXPECT-BEGIN: "):
                window = line.split(": ", 1)[1].split()
            elif line.startswith("GV-BENCH-EXPECT-END: "):
                window = None
            elif line.startswith("GV: not ok - "):
                notok.append(line[len("GV: not ok - "):])
            elif line.startswith("GV-END rc="):
                self.end_rc = num(line.split("=", 1)[1].split()[0])
            elif line.startswith("GV-HOST: "):
                self.problems.append(line[len("GV-HOST: "):])
            elif bad.search(line) and not line.startswith("GV"):
                if window and window[0] == "peer":
                    self.peer_reports.append({"during": window[1], "line": line.strip()})
                else:
                    where = f" (ours, {window[1]})" if window else ""
                    self.problems.append(f"kernel report{where}: {line.strip()}")
        if self.end_rc is None:
            self.problems.append("the guest did not finish (no GV-END line)")
        for t in notok:
            self.problems.append(f"guest check failed: {t}")
        if len(self.cpu.t) < 2:
            self.problems.append(f"no host CPU samples in {cpu_path}")
        self.passes = sorted({k[0] for k in self.lines if k[0] is not None}, key=lambda x: num(x) or 0)

    def position(self, p, drv):
        o = self.orders.get(p) or []
        return o.index(drv) if drv in o else None

    def cpu_of(self, d, count):
        """the CPU of one window per operation (us), guest and host"""
        if not d or "wall_ns" not in d or not count:
            return None
        g = {k: num(d.get(f"g_{k}_ns")) or 0 for k in
             ("user", "nice", "sys", "idle", "iowait", "irq", "softirq", "steal")}
        busy = g["user"] + g["nice"] + g["sys"] + g["irq"] + g["softirq"]
        out = {"ops": count, "wall_ms": r3(num(d["wall_ns"]) / 1e6),
               "guest_us": r3(busy / count / 1e3),
               "guest_split_us": {"user": r3((g["user"] + g["nice"]) / count / 1e3),
                                  "sys": r3(g["sys"] / count / 1e3),
                                  "irq": r3(g["irq"] / count / 1e3),
                                  "softirq": r3(g["softirq"] / count / 1e3)},
               "guest_busy_share": r3(busy / max(1, busy + g["idle"] + g["iowait"])),
               "caller_us": r3((num(d.get("proc_cpu_ns")) or 0) / count / 1e3)}
        h = None
        t0, t1 = num(d.get("host_t0")), num(d.get("host_t1"))
        if t0 and t1:
            h = self.cpu.window(t0, t1)
        if h:
            out["host_us"] = r3((h["vcpu"] + h["qemu_other"] + h["sim"]) / count / 1e3)
            out["host_split_us"] = {"qemu_vcpu": r3(h["vcpu"] / count / 1e3),
                                    "qemu_other": r3(h["qemu_other"] / count / 1e3),
                                    "simulators": r3(h["sim"] / count / 1e3)}
            out["host_sampler_ms"] = r3(h["sampler"] / 1e6)
        if "hog_rate" in d:
            out["hog"] = num(d.get("hog"))
            out["hog_rate_per_s"] = num(d.get("hog_rate"))
        return out


def stats_us(d, prefix="", div=1000.0):
    if not d or num(d.get(prefix + "n")) in (None, 0):
        return None
    out = {"n": num(d[prefix + "n"])}
    for k in ("median", "p10", "p90", "p99", "mean", "min", "max"):
        src = "med" if k == "median" else k
        out[k] = r3(num(d[prefix + src]) / div)
    return out


def rate_steps(d):
    steps = []
    for s in (d.get("steps") or "").split(","):
        f = s.split(":")
        if len(f) < 4:
            continue
        got, exp = f[1].split("/")
        st = {"hz": num(f[0]), "events": num(got), "expected": num(exp), "collapsed": num(f[2]),
              "kernel_dropped": num(f[3]),
              "lossless": num(got) == num(exp) and (num(f[2]) or 0) <= 0}
        if len(f) >= 8:
            for k, v in zip(("edge_late_p50_us", "edge_late_p99_us", "edge_late_max_us",
                             "interval_error_p99_us"), f[4:8]):
                st[k] = r3(num(v) / 1000) if num(v) is not None and num(v) >= 0 else None
        steps.append(st)
    return steps


def run_record(boot, p, drv, m, sweep=None):
    """one run's value of metric m (and what goes with it), or None"""
    info = MINFO[m]
    kind = info["kind"]
    src = {"irq-loop-irq": "irq-loop"}.get(m, m)
    if kind == "probe":
        lines, what = m.split("-")[1], m.split("-")[2]
        tries = boot.lines.get((p, drv, f"probe-{lines}", None))
        if isinstance(tries, dict):
            tries = [tries]
        vals, fails, parts = [], [], []
        for t in tries or []:
            err = num(t.get("err"))
            if err:
                fails.append({"try": num(t.get("try")), "errno": err,
                              "error": ERRNO.get(err, f"errno {err}"),
                              "bind_ms": r3(num(t["ns"]) / 1e6),
                              "kernel_log": boot.klog.get((p, drv, f"probe-{lines}"), [])})
                continue
            vals.append(num(t["ns"]) / 1e6 if what == "time" else num(t["slab"]) + num(t["vmalloc"]))
            parts.append(t)
        if not vals and not fails:
            return None
        rec = {"value": r3(statistics.median(vals)) if vals else None, "tries": len(vals) + len(fails)}
        if vals:
            rec["max"] = r3(max(vals))
        if what == "mem" and parts:
            rec["parts_kB"] = {f: statistics.median([num(t[f]) for t in parts])
                               for f in ("slab", "sunreclaim", "vmalloc", "percpu", "memfree")
                               if all(f in t for t in parts)}
        if fails:
            rec["failed"] = fails
        return rec
    d = boot.lines.get((p, drv, src, sweep))
    if not d or isinstance(d, list):
        return None
    if kind in ("ops", "sub"):
        prefix = "irq_" if m == "irq-loop-irq" else ""
        st = stats_us(d, prefix)
        if not st:
            return None
        rec = {"value": st["median"], "p99": st["p99"], "stats": st}
        if kind == "ops":
            rec["cpu"] = boot.cpu_of(d, st["n"])
            if m.startswith("irq-loop"):
                rec["lost"] = num(d.get("lost"))
                rec["set_stats"] = stats_us(d, "set_")
            if "svc_n" in d and num(d["svc_n"]):
                rec["sim"] = {"requests": num(d["svc_n"]),
                              "service_mean_us": r3(num(d["svc_total_ns"]) / num(d["svc_n"]) / 1000),
                              "service_max_us": r3(num(d["svc_max_ns"]) / 1000),
                              "batch_max": num(d.get("sim_batch_max"))}
        return rec
    if kind == "offset":
        st = stats_us(d)
        if not st:
            return None
        return {"value": st["median"], "p99": st["p99"], "stats": st,
                "read_stats": stats_us(d, "read_"),
                "edges": {k: num(d.get(k)) if num(d.get(k)) is not None else d.get(k)
                          for k in ("events", "edges", "paired", "seqno_gap", "collapsed")},
                "clock_us": {k2: r3(num(d[k]) / 1000) for k, k2 in (
                    ("off_rtt", "fastest_round_trip"), ("off_unc", "offset_uncertainty"),
                    ("drift", "offset_change_during_run")) if num(d.get(k)) is not None}}
    if kind == "irqcpu":
        ev = num(d.get("events"))
        cpu = boot.cpu_of(d, ev)
        if not cpu:
            return None
        return {"value": cpu["guest_us"], "cpu": cpu, "events": ev,
                "expected": num(d.get("expected")), "collapsed": num(d.get("collapsed")),
                "hz": num(d.get("hz"))}
    if kind == "rate":
        steps = rate_steps(d)
        good = [s for s in steps if s["lossless"] and s.get("edge_late_max_us") is not None]
        # a lossy trial whose edges came over a quarter period late may
        # have lost to the simulator, not to the driver
        lossy = [s for s in steps if not s["lossless"]]
        late = [s for s in lossy if (s.get("edge_late_max_us") or 0) > 0.25e6 / s["hz"]]
        lo = num(d.get("lossless_hz"))
        stuck = d.get("stuck") if d.get("stuck") not in (None, "-") else None
        rec = {"value": lo if lo and not stuck else None,
               "first_lossy_hz": num(d.get("first_lossy_hz")) or None,
               "unresolved": not lo or bool(stuck),
               # lines the driver left masked or pending 30 s after a trial
               # (line:masked:pending): the search ended there
               "stuck_lines": stuck,
               "bracket_pct": num(d.get("bracket_pct")), "k": num(d.get("k")),
               "seconds": num(d.get("seconds")), "lines": num(d.get("lines")),
               "trials": num(d.get("trials")), "capped": num(d.get("capped")), "steps": steps}
        if good:
            rec["sim_edges"] = {
                "edge_late_p99_us_median": r3(statistics.median(s["edge_late_p99_us"] for s in good)),
                "edge_late_max_us": r3(max(s["edge_late_max_us"] for s in good)),
                "interval_error_p99_us_median": r3(statistics.median(
                    s["interval_error_p99_us"] for s in good if s["interval_error_p99_us"] is not None)
                    if any(s["interval_error_p99_us"] is not None for s in good) else None),
                "period_us_at_lossless": r3(1e6 / lo) if lo else None}
        rec.setdefault("sim_edges", {}).update({"lossy_trials": len(lossy),
                                                "lossy_trials_edges_late": len(late)})
        return rec
    return None


# --- one kernel: every boot together -------------------------------------------

def collect(boots, m, sweep=None, drvs=DRVS):
    """the runs of metric m: [{boot, pass, position, drv, ...record}]"""
    runs = []
    for b in boots:
        for p in b.passes:
            for drv in drvs:
                rec = run_record(b, p, drv, m, sweep)
                if rec is None:
                    continue
                rec = dict(rec, boot=b.boot, **{"pass": num(p)}, drv=drv,
                           position=b.position(p, drv))
                runs.append(rec)
    return runs


def summarise(m, runs, seed):
    info = MINFO[m]
    vals = {d: [r["value"] for r in runs if r["drv"] == d and r.get("value") is not None]
            for d in DRVS}
    out = {"description": info["description"], "unit": info["unit"], "better": info["better"],
           "group": info["group"]}
    c = compare(vals["peer"], vals["ours"], info["better"], seed=seed)
    if c and info["kind"] == "offset":
        # its clock offset is less certain than the latency: a bound only
        c["verdict"] = "secondary (upper bound)"
    if c:
        out.update(c)
    else:
        out.update({d: (r3(gmean(vals[d])) if vals[d] and min(vals[d]) > 0 else None) for d in DRVS})
        out.update({"n_peer": len(vals["peer"]), "n_ours": len(vals["ours"]),
                    "ratio": None, "ci_lo": None, "ci_hi": None, "verdict": "not measured"})
    for d in DRVS:
        if vals[d]:
            out[f"{d}_runs_min"], out[f"{d}_runs_max"] = r3(min(vals[d])), r3(max(vals[d]))
    p99 = {d: [r["p99"] for r in runs if r["drv"] == d and r.get("p99") is not None] for d in DRVS}
    if p99["peer"] or p99["ours"]:
        c = compare(p99["peer"], p99["ours"], "lower", seed=seed + 1)
        out["p99"] = c or {d: r3(gmean(p99[d])) if p99[d] else None for d in DRVS}
    if info["kind"] in CPU_KINDS:
        cpu = {}
        for key in ("guest_us", "host_us", "caller_us"):
            v = {d: [r["cpu"][key] for r in runs if r["drv"] == d and r.get("cpu")
                     and r["cpu"].get(key) is not None] for d in DRVS}
            c = compare(v["peer"], v["ours"], "lower", positive=False, seed=seed + 2)
            if c:
                cpu[key] = c
            else:
                cpu[key] = {d: r3(amean(v[d])) if v[d] else None for d in DRVS}
        for split, keys in (("guest_split_us", ("user", "sys", "irq", "softirq")),
                            ("host_split_us", ("qemu_vcpu", "qemu_other", "simulators"))):
            cpu[split] = {d: {k: r3(amean([r["cpu"][split][k] for r in runs if r["drv"] == d
                                           and r.get("cpu") and r["cpu"].get(split)]))
                              if any(r["drv"] == d and r.get("cpu") and r["cpu"].get(split)
                                     for r in runs) else None for k in keys} for d in DRVS}
        hog = {d: [r["cpu"]["hog_rate_per_s"] for r in runs if r["drv"] == d and r.get("cpu")
                   and r["cpu"].get("hog_rate_per_s") is not None] for d in DRVS}
        if hog["peer"] or hog["ours"]:
            # more is better: what the driver left the hog
            cpu["hog_rate_per_s"] = compare(hog["peer"], hog["ours"], "higher", seed=seed + 3) or \
                {d: r3(gmean(hog[d])) if hog[d] else None for d in DRVS}
        out["cpu"] = cpu
    if info["kind"] == "rate":
        # a run lossy down to the search's floor has no rate: not left out
        # silently, it leaves the row unresolved
        un = {d: sum(1 for r in runs if r["drv"] == d and r.get("unresolved")) for d in DRVS}
        out["unresolved_runs"] = un
        out["stuck_runs"] = {d: sum(1 for r in runs if r["drv"] == d and r.get("stuck_lines"))
                             for d in DRVS}
        if any(un.values()):
            out["verdict"] = "unresolved"
        se = [r["sim_edges"] for r in runs if r.get("sim_edges", {}).get("edge_late_max_us") is not None]
        out["lossy_trials"] = sum(r.get("sim_edges", {}).get("lossy_trials", 0) for r in runs)
        out["lossy_trials_edges_late"] = sum(r.get("sim_edges", {}).get("lossy_trials_edges_late", 0)
                                             for r in runs)
        if se:
            out["sim_edges"] = {
                "edge_late_p99_us_median": r3(statistics.median(s["edge_late_p99_us_median"] for s in se)),
                "edge_late_max_us": r3(max(s["edge_late_max_us"] for s in se)),
                "note": "how late the simulator's edges came against the period's grid, over "
                        "the lossless trials (edgetimes of the first line)"}
        out["brackets_pct"] = [r.get("bracket_pct") for r in runs]
        out["trials"] = sum(r.get("trials") or 0 for r in runs)
    if info["kind"] == "probe":
        fails = [dict(f, boot=r["boot"], **{"pass": r["pass"]}) for r in runs for f in r.get("failed", [])
                 if r["drv"] == "peer"]
        if fails:
            out["peer_failed"] = fails
        fails = [dict(f, boot=r["boot"], **{"pass": r["pass"]}) for r in runs for f in r.get("failed", [])
                 if r["drv"] == "ours"]
        if fails:
            out["ours_failed"] = fails
        mx = [r.get("max") for r in runs if r["drv"] == "ours" and r.get("max") is not None]
        if mx:
            out["ours_max"] = max(mx)
    out["runs"] = runs
    return out


def kernel_result(kver, boots):
    metrics = {}
    for i, (m, *_r) in enumerate(METRICS):
        runs = collect(boots, m)
        if runs:
            metrics[m] = summarise(m, runs, BOOTSTRAP_SEED + 10 * i)
    # the sweep: ours at each poll_us against the peer's ordinary runs
    sweep = {}
    values = sorted({k[3] for b in boots for k in b.lines if k[3] is not None}, key=lambda x: num(x))
    for v in values:
        sv = {}
        for j, m in enumerate(SWEEP_METRICS):
            # ours at poll_us=v; the peer's runs are its ordinary ones
            runs = collect(boots, m, v, drvs=("ours",)) + collect(boots, m, None, drvs=("peer",))
            if any(r["drv"] == "ours" for r in runs):
                s = summarise(m, runs, BOOTSTRAP_SEED + 1000 + 10 * j + num(v))
                s["description"] = f"{MINFO[m]['description']}, ours with poll_us={v}"
                sweep[v] = sv
                sv[m] = s
    svc = {}
    for drv in DRVS:
        n = tot = mx = 0
        for b in boots:
            for (p, d, m, sw), v in b.lines.items():
                if d == drv and isinstance(v, dict) and num(v.get("svc_n")):
                    n += num(v["svc_n"])
                    tot += num(v["svc_total_ns"])
                    mx = max(mx, num(v["svc_max_ns"]))
        if n:
            svc[drv] = {"requests": n, "service_mean_us": r3(tot / n / 1000),
                        "service_max_us": r3(mx / 1000)}
    b0 = boots[0]
    m0 = b0.meta
    split = {}
    for b in boots:
        for (p, d, m, sw), v in b.lines.items():
            for x in (v if isinstance(v, list) else [v]):
                e = num(x.get("elapsed_ms"))
                if e is not None:
                    g = group_of(m, sw)
                    split[g] = split.get(g, 0) + e / 1000
    res = {
        "kver": kver,
        "guest": {"kernel": b0.guest_kernel or m0.get("krelease"), "packages": m0.get("kpkgs"),
                  **b0.guest},
        "qemu": m0.get("qemu"), "qemu_setup": m0.get("qemu_args"),
        "tree": m0.get("tree"), "command": m0.get("command"), "seed": num(m0.get("seed")),
        "labels": {"peer": m0.get("peer_label", "in-tree"), "ours": m0.get("ours_label", "ours")},
        "modules": {d: {"source": m0.get(f"{d}_source"), "name": m0.get(f"{d}_name"),
                        "vermagic": m0.get(f"{d}_vermagic"),
                        "srcversion": m0.get(f"{d}_srcversion"),
                        "sha256_16": m0.get(f"{d}_sha256")} for d in DRVS},
        "host": {"kernel": m0.get("host_kernel"), "os": m0.get("host_os"),
                 "cpus": num(m0.get("cpus")), "cpu_model": m0.get("cpu_model"),
                 "mem_total_kb": num(m0.get("mem_total_kb"))},
        "boots": [{"boot": b.boot, "date": b.meta.get("date"), "seconds": num(b.meta.get("boot_seconds")),
                   "load_before": b.meta.get("load_before"), "load_during": b.meta.get("load_during"),
                   "load_after": b.meta.get("load_after"), "settings": b.meta.get("settings"),
                   "draws": b.meta.get("draws"), "retries": num(b.meta.get("retries")) or 0,
                   "failed_tries": [v for k, v in sorted(b.meta.items()) if k.startswith("failed_try_")],
                   "orders": {p: o for p, o in sorted(b.orders.items())},
                   "host_cpu_samples": len(b.cpu.t),
                   "qemu_vcpu_threads": b.cpu.vcpu_threads, "sim_prio": b.cpu.sim_prio,
                   "peer_kernel_reports": b.peer_reports, "problems": b.problems} for b in boots],
        "metrics": metrics,
        "sweep_poll_us": sweep,
    }
    if svc:
        res["sim_service"] = {"description": "the simulator's own service time per request (its "
                              "stats), over the request metrics", "unit": "us", **svc}
    bs = sum(num(b.meta.get("boot_seconds")) or 0 for b in boots)
    ph = split.pop("phases", 0)
    res["time_split_s"] = {
        "boots": bs, "driver_phases": r3(ph),
        "outside_the_phases": r3(bs - ph),
        "in_the_phases": {g: r3(v) for g, v in sorted(split.items(), key=lambda x: -x[1])},
        "in_the_phases_unaccounted": r3(ph - sum(split.values())),
        "note": "seconds summed over every boot; groups from the guest's clock around each "
                "measurement; outside the phases: kernel boot, setup, shutdown"}
    res["module_poll_us"] = {d: sorted({b.lines[k].get("poll_us") for b in boots for k in b.lines
                                         if k[1] == d and k[2] == "module"} - {None}) for d in DRVS}
    res["targets"] = targets(metrics)
    res["difference_shown"] = [m for m, s in metrics.items()
                               if s.get("verdict") in ("ours better", "in-tree better")]
    res["no_difference_shown"] = [m for m, s in metrics.items() if s.get("verdict") == "no difference shown"]
    return res


def group_of(m, sweep):
    """the metric group a console line belongs to, for the time split"""
    if m == "phase":
        return "phases"
    if sweep is not None:
        return "sweep"
    if m.startswith("probe-"):
        return "probe"
    return MINFO.get(m, {}).get("group", "other")


def targets(metrics):
    """issue 12's targets against the intervals: met when the whole interval
    meets it, not met when none of it does, else not shown"""
    out = []

    def add(name, want, md, key, bound, kind):
        # kind "ge": ratio >= bound wanted; "le": ratio <= bound wanted
        if md is None or (key and md.get(key) is None):
            out.append({"target": name, "wanted": want, "met": None, "detail": "not measured"})
            return
        c = md[key] if key else md
        lo, hi, r = c.get("ci_lo"), c.get("ci_hi"), c.get("ratio")
        if lo is None or hi is None:
            st = None
        elif kind == "ge":
            st = True if lo >= bound else False if hi < bound else "not shown"
        else:
            st = True if hi <= bound else False if lo > bound else "not shown"
        out.append({"target": name, "wanted": want, "met": st, "ratio": r, "ci_lo": lo, "ci_hi": hi,
                    "detail": f"in-tree/ours {fr(r)} [{fr(lo)}, {fr(hi)}]; ours {g3(c.get('ours'))}, "
                              f"in-tree {g3(c.get('peer'))}"})

    for m in ("get1", "set1"):
        md = metrics.get(m)
        add(f"{m}: median", "ours <= 0.8x in-tree (ratio >= 1.25)", md, None, 1.25, "ge")
        add(f"{m}: p99", "ours <= in-tree (ratio >= 1)", md, "p99", 1.0, "ge")
    for m, want in (("get64", 15), ("set64", 15), ("get64-noind", 8), ("set64-noind", 8)):
        add(f"{m}: speed-up", f"in-tree/ours >= {want}x", metrics.get(m), None, want, "ge")
    for m in ("irq-rate-1", "irq-rate-8"):
        add(f"{m}: lossless rate", "ours >= 2x in-tree (ratio <= 0.5)", metrics.get(m), None, 0.5, "le")
    add("irq-loop: median", "ours <= 0.8x in-tree (ratio >= 1.25)", metrics.get("irq-loop"), None,
        1.25, "ge")
    add("probe-1024-mem", "ours <= 1/4 of in-tree (ratio >= 4)", metrics.get("probe-1024-mem"), None,
        4.0, "ge")
    md = metrics.get("probe-65535-time")
    mx = md.get("ours_max") if md else None
    if md and md.get("ours_failed") and mx is None:
        f = md["ours_failed"][0]
        out.append({"target": "probe-65535-time", "wanted": "ours < 2 s", "met": False,
                    "detail": f"ours fails to probe: {f['error']}"})
    else:
        out.append({"target": "probe-65535-time", "wanted": "ours < 2 s (slowest bind of all runs)",
                    "met": None if mx is None else mx < 2000,
                    "detail": f"ours {mx} ms" if mx is not None else "not measured"})
    return out


# --- text ----------------------------------------------------------------------

def g3(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"


def fmt(v, unit=""):
    if v is None:
        return "-"
    if unit == "Hz":
        return f"{v:.0f}"
    if abs(v) >= 1000:
        return f"{v:.0f}"
    if abs(v) >= 100:
        return f"{v:.1f}"
    if abs(v) >= 10:
        return f"{v:.2f}"
    return f"{v:.3g}"


def fr(r):
    return "-" if r is None else (f"{r:.2f}x" if r < 10 else f"{r:.1f}x")


def fci(c):
    if not c or c.get("ratio") is None:
        return "-"
    if c.get("ci_lo") is None:
        return fr(c["ratio"])
    return f"{fr(c['ratio'])} [{fr(c['ci_lo'])}, {fr(c['ci_hi'])}]"


def fcpu(md, key, d):
    c = (md.get("cpu") or {}).get(key) or {}
    return fmt(c.get(d))


def short_verdict(v, labels):
    return {"ours better": f"{labels['ours']} better", "in-tree better": f"{labels['peer']} better"}.get(v, v)


def main_rows(res):
    rows = []
    for m, *_r in METRICS:
        md = res["metrics"].get(m)
        if not md:
            continue
        note = ""
        if md.get("peer_failed"):
            note = f"{res['labels']['peer']}: bind fails with {md['peer_failed'][0]['error']}"
        if md.get("ours_failed"):
            note += ("; " if note else "") + f"{res['labels']['ours']}: bind fails with " \
                                             f"{md['ours_failed'][0]['error']}"
        rows.append((m, md, note))
    return rows


def print_table(res):
    lab = res["labels"]
    peer, ours = lab["peer"], lab["ours"]
    b = res["boots"]
    print()
    print(f"Linux {res['guest']['kernel']} guest, {qemu_short(res['qemu'])} under TCG, "
          f"{res['host']['cpus']} CPUs ({res['host']['cpu_model']}); {len(b)} boot(s), "
          f"{sum(len(x['orders']) for x in b)} pass(es), seed {res['seed']}")
    for x in b:
        print(f"  boot {x['boot']}: {x['seconds']} s, load {x['load_before']} before, "
              f"{x['load_during']}; orders {x['orders']}")
    print(f"Geometric means over the runs (a run: one driver in one pass); ratio = {peer} / {ours}"
          " with its bootstrap 95% interval; CPU in us per operation (guest: all vCPUs; host: QEMU"
          " and the simulators)")
    hdr = (f"{'metric':<16} {'unit':<4} {peer:>9} {ours:>9} {'ratio [95% CI]':>26} {'shown':<20}"
           f" {'gCPU ' + peer:>10} {'gCPU ' + ours:>9} {'hCPU ' + peer:>10} {'hCPU ' + ours:>9}")
    print(hdr)
    print("-" * len(hdr))
    for m, md, note in main_rows(res):
        print(f"{m:<16} {md['unit']:<4} {fmt(md.get('peer'), md['unit']):>9} "
              f"{fmt(md.get('ours'), md['unit']):>9} {fci(md):>26} "
              f"{short_verdict(md['verdict'], lab):<20} {fcpu(md, 'guest_us', 'peer'):>10} "
              f"{fcpu(md, 'guest_us', 'ours'):>9} {fcpu(md, 'host_us', 'peer'):>10} "
              f"{fcpu(md, 'host_us', 'ours'):>9}" + (f"  ({note})" if note else ""))
    if res["sweep_poll_us"]:
        print()
        print(f"poll_us sweep ({ours}; {peer}'s ordinary runs as the reference): median us,"
              f" ratio {peer}/{ours}, guest and host CPU us per op")
        for v, sv in sorted(res["sweep_poll_us"].items(), key=lambda x: num(x[0])):
            parts = []
            for m in SWEEP_METRICS:
                md = sv.get(m)
                if md:
                    parts.append(f"{m} {fmt(md.get('ours'))} {fci(md)} cpu {fcpu(md, 'guest_us', 'ours')}"
                                 f"/{fcpu(md, 'host_us', 'ours')}")
            print(f"  poll_us={v:>4}: " + "; ".join(parts))
    ts = res.get("time_split_s") or {}
    if ts:
        print()
        print(f"Time: {ts['boots']} s in boots, {ts['outside_the_phases']} s of it outside the drivers'"
              f" phases; in them: " + ", ".join(f"{g} {v:.0f} s" for g, v in ts["in_the_phases"].items())
              + f", other {ts['in_the_phases_unaccounted']:.0f} s")
    print()
    print(f"Targets (issue 12), {ours} against {peer}:")
    for t in res["targets"]:
        st = {True: "met", False: "NOT met", None: "n/a"}.get(t["met"], t["met"])
        print(f"  {t['target']:<24} {t['wanted']:<40} {st:<10} {t['detail']}")


def qemu_short(q):
    mo = re.search(r"version (\S+)", q or "")
    return f"QEMU {mo.group(1)}" if mo else (q or "QEMU")


def readme_block(doc):
    res = doc["results"][0]
    lab = res["labels"]
    peer, ours = lab["peer"], lab["ours"]
    b = res["boots"]
    npass = sum(len(x["orders"]) for x in b)
    h = res["host"]
    out = []
    loads = "; ".join(f"boot {x['boot']}: {x['load_during'] or 'not sampled'}" for x in b)
    out.append(
        f"Measured by `{res['command']}` on {(b[0]['date'] or '')[:10]} at `{res['tree']}`: a Linux "
        f"{res['guest']['kernel']} guest under {qemu_short(res['qemu'])} with TCG on {h['cpus']} cores "
        f"({h['cpu_model']}), {len(b)} boot{'s' if len(b) != 1 else ''} of "
        f"{npass // max(1, len(b))} passes, the drivers' order "
        f"drawn for each pass (seed {res['seed']}; simulators at {res['boots'][0].get('sim_prio')}; "
        f"load average {loads}). Under TCG the absolute "
        f"times are not a real machine's, and an interrupt costs far more than on hardware. "
        f"Generated from [results/bench.json](results/bench.json) by `scripts/bench-report.py`.")
    out.append("")
    out.append(
        f"Each figure is the geometric mean over the runs (a run: one driver in one pass) of the run's"
        f" median (a rate: the run's lossless rate). The ratio is {peer} / {ours} with a 95% bootstrap"
        f" interval (each driver's runs resampled with replacement, 10000 times); where the interval"
        f" holds 1 the row says **no difference shown**. With {npass} runs a side the interval is"
        f" approximate (a percentile bootstrap of few runs tends to be too narrow). CPU is in us per"
        f" operation (per round trip, per interrupt): guest = the guest's busy time over all vCPUs"
        f" (/proc/stat, tick-sampled), host = the QEMU process's threads and the simulators"
        f" (schedstat).")
    out.append("")
    out.append(f"| metric | unit | {peer} | {ours} | {peer} / {ours} [95% CI] | shown | p99 ratio [95% CI]"
               f" | guest CPU {peer} | guest CPU {ours} | host CPU {peer} | host CPU {ours} |")
    out.append("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for m, md, note in main_rows(res):
        v = md.get("verdict")
        shown = f"**{short_verdict(v, lab)}**" if v in ("ours better", "in-tree better") else v
        out.append(f"| {md['description']}{' (' + note + ')' if note else ''} | {md['unit']} | "
                   f"{fmt(md.get('peer'), md['unit'])} | {fmt(md.get('ours'), md['unit'])} | {fci(md)} | "
                   f"{shown} | {fci(md.get('p99'))} | {fcpu(md, 'guest_us', 'peer')} | "
                   f"{fcpu(md, 'guest_us', 'ours')} | {fcpu(md, 'host_us', 'peer')} | "
                   f"{fcpu(md, 'host_us', 'ours')} |")
    out.append("")
    rates = [(m, res["metrics"][m]) for m in res["metrics"] if MINFO[m]["kind"] == "rate"]
    if rates:
        k = next((r.get("k") for _, md in rates for r in md["runs"] if r.get("k")), None)
        secs = next((r.get("seconds") for _, md in rates for r in md["runs"] if r.get("seconds")), None)
        br = [x for _, md in rates for x in md.get("brackets_pct", []) if x is not None and x >= 0]
        se = [md.get("sim_edges") for _, md in rates if md.get("sim_edges")]
        out.append(
            f"A lossless rate is the highest rate at which {k} trials of {secs} s each lost no event"
            f" (events read against pulses sent, and none collapsed in the simulator); the search"
            f" doubles, confirms, then bisects until the first lossy rate is within"
            f" {max(br) if br else '-'}% of it (widest bracket of all runs)."
            + (f" The simulator's edges came at most {max(s['edge_late_max_us'] for s in se):.0f} us"
               f" late against their grid (median p99 lateness "
               f"{statistics.median(s['edge_late_p99_us_median'] for s in se):.0f} us) in the"
               f" lossless trials." if se else "")
            + "".join(f" In {md['stuck_runs'][d]} run(s) of {m}, {lab[d]} left lines masked for 30 s"
                      f" after a trial, which ended the search." for m, md in rates
                      for d in DRVS if (md.get("stuck_runs") or {}).get(d))
            + (f" In {sum(md.get('lossy_trials_edges_late', 0) for _, md in rates)} of"
               f" {sum(md.get('lossy_trials', 0) for _, md in rates)} lossy trials the first line's"
               f" edges came more than a quarter period late: those losses may be the host's, not"
               f" the driver's."))
        out.append("")
    hog_rows = [(m, md) for m, md in res["metrics"].items() if (md.get("cpu") or {}).get("hog_rate_per_s")]
    if hog_rows:
        out.append(
            "The hog rows run as many spinning processes as the guest has vCPUs beside the measurement;"
            " their own progress shows what each driver left them (increments per second, ratio"
            f" {peer} / {ours}, above 1: {ours} left more): " + "; ".join(
                f"{m} {fci(md['cpu']['hog_rate_per_s'])}" for m, md in hog_rows) + ".")
        out.append("")
    if res["sweep_poll_us"]:
        out.append(f"**poll_us** (the module parameter of {ours}, written in the same boot; the"
                   f" ordinary runs of {peer} are the reference; the module default was "
                   f"{', '.join(res['module_poll_us'].get('ours') or ['-'])}):")
        out.append("")
        out.append(f"| poll_us | metric | {ours} us | {peer} / {ours} [95% CI] | shown | guest CPU {ours}"
                   f" | host CPU {ours} | guest CPU {peer} | host CPU {peer} |")
        out.append("| ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
        for v, sv in sorted(res["sweep_poll_us"].items(), key=lambda x: num(x[0])):
            for m in SWEEP_METRICS:
                md = sv.get(m)
                if not md:
                    continue
                out.append(f"| {v} | {m} | {fmt(md.get('ours'))} | {fci(md)} | "
                           f"{short_verdict(md.get('verdict'), lab)} | {fcpu(md, 'guest_us', 'ours')} | "
                           f"{fcpu(md, 'host_us', 'ours')} | {fcpu(md, 'guest_us', 'peer')} | "
                           f"{fcpu(md, 'host_us', 'peer')} |")
        out.append("")
    svc = res.get("sim_service")
    if svc:
        out.append("The simulator's own service time per request (its `stats`): " + "; ".join(
            f"{lab[d]} {svc[d]['service_mean_us']} us mean, {svc[d]['service_max_us']} us max"
            for d in DRVS if d in svc) + ".")
        out.append("")
    ts = res.get("time_split_s") or {}
    if ts:
        secs = [x["seconds"] for x in b if x.get("seconds")]
        out.append(f"The boots took {', '.join(f'{x // 60}:{x % 60:02d}' for x in secs)} (min:s); of their"
                   f" {ts['boots'] / 60:.0f} minutes, " + ", ".join(
                       f"{g} {v / 60:.1f}" for g, v in ts["in_the_phases"].items())
                   + f", the rest of the drivers' phases {ts['in_the_phases_unaccounted'] / 60:.1f} and the"
                   f" guests' boot and shutdown {ts['outside_the_phases'] / 60:.1f}"
                   + (f"; {sum(x.get('retries') or 0 for x in b)} boot(s) died before measuring and ran"
                      " again" if any(x.get("retries") for x in b) else "") + ".")
        out.append("")
    out.append("| target (issue 12) | wanted | measured | |")
    out.append("| --- | --- | --- | --- |")
    for t in res["targets"]:
        st = {True: "met", False: "**not met**", None: "not measured"}.get(t["met"], t["met"])
        out.append(f"| {t['target']} | {t['wanted']} | {t['detail']} | {st} |")
    out.append("")
    out.append(closing_note(res))
    return "\n".join(out)


def closing_note(res):
    lab = res["labels"]
    md = res["metrics"]
    better = {v: [m for m in md if md[m].get("verdict") == v] for v in ("ours better", "in-tree better",
                                                                          "no difference shown",
                                                                          "unresolved")}
    s = (f"In short: {lab['ours']} is ahead in {', '.join(better['ours better']) or 'no row'}; "
         f"{lab['peer']} in {', '.join(better['in-tree better']) or 'no row'}; no difference shown in "
         f"{', '.join(better['no difference shown']) or 'no row'}."
         + (f" Unresolved (a run lost events at every rate tried): {', '.join(better['unresolved'])}."
            if better["unresolved"] else ""))
    sw = res.get("sweep_poll_us") or {}
    parts = []
    for v, sv in sorted(sw.items(), key=lambda x: num(x[0])):
        g, st = sv.get("get1"), sv.get("set1")
        if g:
            parts.append(f"poll_us={v}: get1 {fmt(g.get('ours'))} us ({fci(g)}, guest CPU "
                         f"{fcpu(g, 'guest_us', 'ours')} us/op)"
                         + (f", set1 {fmt(st.get('ours'))} us ({fci(st)})" if st else ""))
    if parts:
        s += " The poll_us sweep: " + "; ".join(parts) + "."
    return s


BEGIN, END = "<!-- bench-table: begin (scripts/bench-report.py) -->", "<!-- bench-table: end -->"


def update_readme(path, doc):
    with open(path) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        print(f"bench-report: {path} has no {BEGIN} ... {END} block; not updated", file=sys.stderr)
        return
    a = text.index(BEGIN) + len(BEGIN)
    b = text.index(END)
    text = text[:a] + "\n" + readme_block(doc) + "\n" + text[b:]
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    print(f"[bench] README table updated: {path}")


def brief(line):
    d = kv(line.split(": ", 1)[1])
    m, p, drv = d.get("metric"), d.get("pass"), d.get("drv")
    if m in ("module", "phase"):
        return
    sw = f" poll_us={d['sweep']}" if "sweep" in d else ""
    if "lossless_hz" in d:
        s = (f"lossless up to {d['lossless_hz']} Hz (first loss at {d['first_lossy_hz']} Hz, "
             f"{d.get('trials')} trials)")
    elif "med" in d:
        s = f"median {num(d['med']) / 1000:.1f} us, p99 {num(d['p99']) / 1000:.1f} us (n={d['n']})"
    elif "events" in d and "wall_ns" in d:
        s = f"{d['events']} of {d.get('expected')} events"
    elif "ns" in d:
        s = f"{num(d['ns']) / 1e6:.1f} ms, err={d.get('err')}, slab {d.get('slab')} kB, " \
            f"vmalloc {d.get('vmalloc')} kB{', ' + d['chip'] if 'chip' in d else ''}"
    else:
        s = line.split(": ", 1)[1]
    if "wall_ns" in d:
        n = num(d.get("n")) or num(d.get("events"))
        busy = sum(num(d.get(f"g_{k}_ns")) or 0 for k in ("user", "nice", "sys", "irq", "softirq"))
        if n:
            s += f"; guest CPU {busy / n / 1000:.1f} us/op"
        if "hog_rate" in d:
            s += f"; hog {num(d['hog_rate']) / 1e6:.1f} M/s"
    print(f"[bench]     pass {p} {drv} {m}{sw}{' try ' + d['try'] if 'try' in d else ''}: {s}")


def follow(console, pid, loadfile):
    """progress lines from the guest's console while the boot (pid) runs;
    the machine's 1-minute load average every 10 s into loadfile"""
    seen = 0
    tick = 0
    buf = ""
    with open(loadfile, "w") as lf:
        while True:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    alive = f.read().rsplit(")", 1)[1].split()[0] != "Z"
            except (OSError, IndexError):
                alive = False       # then one last read
            if tick % 10 == 0:
                with open("/proc/loadavg") as f:
                    lf.write(f.read().split()[0] + "\n")
                lf.flush()
            tick += 1
            try:
                with open(console, errors="replace") as f:
                    f.seek(seen)
                    new = f.read()
                    seen = f.tell()
            except OSError:
                new = ""
            buf += new.replace("\r", "")
            lines = buf.split("\n")
            buf = lines.pop()
            for line in lines:
                if line.startswith("GV-STEP: "):
                    print(f"[bench]   {line[9:]}")
                elif line.startswith("GV-LOG: rate ") or line.startswith("GV-LOG: latency"):
                    print(f"[bench]     {line[8:]}")
                elif line.startswith("GV: not ok"):
                    print(f"[bench]   FAILED: {line[len('GV: not ok - '):]}")
                elif line.startswith("gvbench: "):
                    print(f"[bench]   {line}")
                elif line.startswith("GV-BENCH: "):
                    brief(line)
            sys.stdout.flush()
            if not alive:
                return 0
            time.sleep(1)


# --- the smoke's checks ----------------------------------------------------------

def check(path, expect_boots=None):
    """TAP lines: the JSON is whole, every metric of the groups the run asked
    for is there for both drivers with its interval and CPU figures"""
    n = [0, 0]

    def tap(ok, desc, diag=""):
        n[0] += 1
        if not ok:
            n[1] += 1
        print(f"{'ok' if ok else 'not ok'} {n[0]} - {desc}")
        if diag and not ok:
            print(f"#   {diag}")
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        tap(False, f"bench JSON {path} reads", str(e))
        return 1
    res = (doc.get("results") or [None])[0]
    tap(res is not None, "bench JSON has a result")
    if res is None:
        return 1
    boots = res.get("boots") or []
    if expect_boots is not None:
        tap(len(boots) == expect_boots, f"bench: {expect_boots} boot(s) in the result",
            f"got {len(boots)}")
    probs = [p for b in boots for p in b.get("problems", [])]
    tap(not probs, "bench: no boot has a problem", "; ".join(probs[:3]))
    settings = (boots[0].get("settings") or "") if boots else ""
    groups = (re.search(r"gv\.bench_metrics=(\S+)", settings) or [None, ""])[1].split(",")
    passes = num((re.search(r"gv\.bench_passes=(\d+)", settings) or [None, "2"])[1])
    tap(all(len(b.get("orders") or {}) == passes for b in boots) and boots,
        f"bench: every boot ran {passes} passes with a drawn order",
        str([b.get("orders") for b in boots]))
    rate_lines = (re.search(r"gv\.bench_rate_lines=(\S+)", settings) or [None, "1,8,32"])[1].split(",")
    want = [m for m, *_ in METRICS if MINFO[m]["group"] in groups]
    for key, lines in (("probe_n", "1024"), ("probe_big_n", "65535")):
        if (re.search(rf"gv\.bench_{key}=(\d+)", settings) or [None, "1"])[1] == "0":
            want = [m for m in want if not m.startswith(f"probe-{lines}-")]
    want = [m for m in want if not (MINFO[m]["kind"] == "rate" and m.startswith("irq-rate-")
                                    and not m.endswith("-hog")
                                    and m.split("-")[2] not in rate_lines)]
    met = res.get("metrics") or {}
    nruns = len(boots) * passes
    for m in want:
        md = met.get(m)
        if md is None:
            tap(False, f"bench: {m} is in the result")
            continue
        miss = []
        peer_fails = MINFO[m]["kind"] == "probe" and md.get("peer_failed")
        # a rate lossy down to the search's floor in some run: the row says
        # so instead of a figure
        unresolved = any((md.get("unresolved_runs") or {}).values())
        for k in ("ratio", "ci_lo", "ci_hi", "peer", "ours") if not unresolved else ():
            if md.get(k) is None and not (peer_fails and k in ("ratio", "ci_lo", "ci_hi", "peer")):
                miss.append(k)
        un = md.get("unresolved_runs") or {}
        if md.get("n_ours") + un.get("ours", 0) != nruns:
            miss.append(f"n_ours={md.get('n_ours')} (want {nruns})")
        if md.get("n_peer") + un.get("peer", 0) != nruns and not peer_fails:
            miss.append(f"n_peer={md.get('n_peer')} (want {nruns})")
        verdicts = ("ours better", "in-tree better", "no difference shown")
        if any(un.values()):
            verdicts = ("unresolved",)
        if MINFO[m]["kind"] == "offset":
            verdicts = ("secondary (upper bound)",)
        if md.get("verdict") not in verdicts and not peer_fails:
            miss.append(f"verdict={md.get('verdict')}")
        if None not in (md.get("ci_lo"), md.get("ratio"), md.get("ci_hi")) and \
                not md["ci_lo"] <= md["ratio"] <= md["ci_hi"]:
            miss.append("the ratio is outside its interval")
        if MINFO[m]["kind"] in CPU_KINDS:
            cpu = md.get("cpu") or {}
            for key in ("guest_us", "host_us", "caller_us"):
                c = cpu.get(key) or {}
                # CPU may be 0 in a short window (then no ratio): the
                # interval's fields are there all the same
                for k in ("peer", "ours"):
                    if c.get(k) is None:
                        miss.append(f"cpu.{key}.{k}")
                for k in ("ratio", "ci_lo", "ci_hi"):
                    if k not in c:
                        miss.append(f"cpu.{key}.{k}")
            for r in md.get("runs", []):
                if not (r.get("cpu") or {}).get("host_split_us", {}).get("qemu_vcpu"):
                    miss.append(f"no host vCPU time in boot {r['boot']} pass {r['pass']} {r['drv']}")
                    break
            if m.endswith("-hog") and (cpu.get("hog_rate_per_s") or {}).get("ci_lo") is None:
                miss.append("hog_rate_per_s interval")
        if MINFO[m]["kind"] == "rate":
            for r in md.get("runs", []):
                if not r.get("steps") or r.get("bracket_pct") is None or not r.get("k"):
                    miss.append(f"search record of boot {r['boot']} pass {r['pass']} {r['drv']}")
                    break
            if not md.get("sim_edges"):
                miss.append("sim_edges (edge lateness)")
        tap(not miss, f"bench: {m} has both drivers' figures, the ratio's interval"
            + (" and CPU per operation" if MINFO[m]["kind"] in CPU_KINDS else "")
            + (", the search record and edge jitter" if MINFO[m]["kind"] == "rate" else ""),
            ", ".join(miss))
    if "sweep" in groups:
        sw = res.get("sweep_poll_us") or {}
        values = (re.search(r"gv\.bench_sweep1=(\S+)", settings) or [None, ""])[1].split(",")
        values = [v for v in values if v]
        tap(sorted(sw, key=num) == sorted(values, key=num),
            f"bench: the poll_us sweep has {', '.join(values)}", f"got {sorted(sw)}")
        for v in values:
            miss = []
            for m in SWEEP_METRICS:
                md = (sw.get(v) or {}).get(m)
                if not md or None in (md.get("ratio"), md.get("ci_lo"), md.get("ci_hi")) or \
                        (md.get("cpu") or {}).get("guest_us", {}).get("ours") is None:
                    miss.append(m)
            tap(not miss, f"bench: poll_us={v} has get1, set1, loopback and the hog rows with"
                " intervals and CPU", "missing: " + ", ".join(miss))
    tg = res.get("targets") or []
    tap(bool(tg) and all(t.get("met") in (True, False, None, "not shown") for t in tg),
        "bench: the targets are evaluated against the intervals")
    tap(isinstance(res.get("difference_shown"), list) and isinstance(res.get("no_difference_shown"), list),
        "bench: the rows with and without a difference are listed")
    print(f"# {n[0]} checks, {n[1]} failed")
    return 1 if n[1] else 0


def main(argv):
    if argv[:1] == ["--brief"]:
        brief(argv[1])
        return 0
    if argv[:1] == ["--follow"]:
        return follow(argv[1], int(argv[2]), argv[3])
    if argv[:1] == ["--sample"]:
        return sample(argv[1], argv[2])
    if argv[:1] == ["--check"]:
        eb = None
        if len(argv) > 3 and argv[2] == "--expect-boots":
            eb = int(argv[3])
        return check(argv[1], eb)
    out = readme = from_json = None
    timing = ""
    kernels = []
    i = 0
    while i < len(argv):
        if argv[i] == "--json":
            out = argv[i + 1]
            i += 2
        elif argv[i] == "--readme":
            readme = argv[i + 1]
            i += 2
        elif argv[i] == "--from-json":
            from_json = argv[i + 1]
            i += 2
        elif argv[i] == "--timing":
            timing = argv[i + 1]
            i += 2
        elif argv[i] == "--kernel":
            kernels.append((argv[i + 1], []))
            i += 2
            while i + 2 < len(argv) and not argv[i].startswith("--"):
                kernels[-1][1].append((argv[i], argv[i + 1], argv[i + 2]))
                i += 3
        else:
            print(f"bench-report: unknown argument {argv[i]}", file=sys.stderr)
            return 2
    if from_json:
        with open(from_json) as f:
            doc = json.load(f)
        if not doc.get("results"):
            print(f"bench-report: {from_json} has no results (a JSON of the bench before issue 19?):"
                  " run make bench", file=sys.stderr)
            return 1
        if readme:
            update_readme(readme, doc)
        return 0
    bad_re = os.environ.get("BAD_RE", r"BUG:|WARNING:|Oops|Call Trace:|KASAN|UBSAN|Kernel panic")
    doc = {"generated_by": "make bench (scripts/bench.sh, scripts/bench-report.py)",
           "note": "QEMU TCG: absolute times are not a real machine's. ratio = peer / ours (peer: the "
                   "in-tree driver unless PEER_KO named another module); times in us, rates in Hz "
                   "(higher is better), memory in kB, CPU in us per operation.",
           "method": {
               "run": "one driver in one pass of one boot; the drivers' order is drawn for each pass",
               "run_value": "time: the median of the run's samples; rate: the run's lossless rate; "
                            "probe: the median of its binds; CPU: the window's CPU time / operations",
               "figure": "geometric mean of the runs' values (arithmetic mean for CPU)",
               "ci": f"percentile bootstrap, {BOOTSTRAP_N} resamples (seed {BOOTSTRAP_SEED}), each "
                     "driver's runs resampled with replacement separately, 95% (2.5th to 97.5th "
                     "percentile of the resampled ratio)",
               "verdict": "'no difference shown' when the interval holds 1",
               "guest_cpu": "/proc/stat all-CPU user+nice+system+irq+softirq over the window "
                            "(tick-sampled by the guest kernel), per operation; caller: the "
                            "measuring process's CLOCK_PROCESS_CPUTIME_ID",
               "host_cpu": "schedstat run time of QEMU's threads (vCPU threads: name 'CPU n/...') "
                           "and the simulators' over the window's host times (the simulator's "
                           "clock at the window's ends), sampled every 20 ms and interpolated",
               "rate": "lossless = no lost event in all K trials of S seconds; doubling with one "
                       "trial a rate, the last good rate confirmed by K, geometric bisection with K "
                       "until the bracket is within BRACKET_PCT",
           },
           "timing_s": {k: num(v) for k, v in (t.split("=", 1) for t in timing.split() if "=" in t)},
           "results": []}
    broken = False
    for kver, runs in kernels:
        boots = [Boot(m, c, p, bad_re) for m, c, p in runs]
        res = kernel_result(kver, boots)
        print_table(res)
        probs = [f"boot {b['boot']}: {p}" for b in res["boots"] for p in b["problems"]]
        if probs:
            broken = True
            print("\nTHE RUN IS BROKEN:")
            for p in probs[:20]:
                print(f"  {p}")
        doc["results"].append(res)
    if out:
        with open(out + ".tmp", "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        os.replace(out + ".tmp", out)
        print(f"\n[bench] figures: {out}")
    if readme and not broken and doc["results"]:
        update_readme(readme, doc)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
