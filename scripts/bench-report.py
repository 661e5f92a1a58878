#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The figures of make bench: from the guest's GV-BENCH lines to a table on
the terminal, results JSON, the targets of issue 12, and the README table.

  bench-report.py --json OUT [--readme README.md] --run META CONSOLE [--run ...]
  bench-report.py --brief 'GV-BENCH: ...'     one progress line
  bench-report.py --readme README.md --from-json results/bench.json

META is scripts/bench.sh's key=value description of the run, CONSOLE the
guest's console log (tests/guest/bench.sh prints the figures there). Times
are in microseconds in the JSON and the tables (ns in the console). "ratio"
is peer / ours of the medians (the peer is the in-tree driver unless
PEER_KO named another module): above 1, ours takes less time; for a rate,
where more is better, below 1 means ours is faster.
"""
import json
import os
import re
import statistics
import sys

TIME = [
    ("get1", "read 1 line"),
    ("set1", "write 1 line"),
    ("get32", "read 32 lines, one ioctl"),
    ("set32", "write 32 lines, one ioctl"),
    ("get64", "read 64 lines, one ioctl"),
    ("set64", "write 64 lines, one ioctl"),
    ("get32-noind", "read 32 lines, no indirect descriptors"),
    ("set32-noind", "write 32 lines, no indirect descriptors"),
    ("get64-noind", "read 64 lines, no indirect descriptors"),
    ("set64-noind", "write 64 lines, no indirect descriptors"),
    ("irq-latency", "interrupt: device edge to event timestamp"),
    ("irq-latency-read", "interrupt: device edge to read() returning it"),
]
RATE = [
    ("irq-rate-1", "lossless interrupt rate, 1 line"),
    ("irq-rate-8", "lossless interrupt rate, 8 lines at once (per line)"),
]
PROBE = [
    ("probe-1024-time", "probe time, 1024-line device"),
    ("probe-1024-mem", "memory of a bound 1024-line device (slab + vmalloc)"),
    ("probe-65535-time", "probe time, 65535-line device"),
    ("probe-65535-mem", "memory of a bound 65535-line device (slab + vmalloc)"),
    ("probe-64-time", "probe time, 64-line device"),
]
DESC = dict(TIME + RATE + PROBE)
UNIT = {m: "us" for m, _ in TIME}
UNIT.update({m: "Hz" for m, _ in RATE})
UNIT.update({"probe-1024-time": "ms", "probe-65535-time": "ms", "probe-64-time": "ms",
             "probe-1024-mem": "kB", "probe-65535-mem": "kB"})
ERRNO = {12: "ENOMEM", 28: "ENOSPC", 22: "EINVAL", 19: "ENODEV", 16: "EBUSY", 5: "EIO",
         110: "ETIMEDOUT", 34: "ERANGE", 7: "E2BIG"}


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


def stats_of(values):
    """n, median, p10, p90, p99 (nearest rank), mean, min, max of a list"""
    v = sorted(values)
    n = len(v)
    if not n:
        return None

    def rank(q):
        i = int(q * n)
        if i < q * n:
            i += 1
        return v[min(max(i, 1), n) - 1]
    return {"n": n, "median": statistics.median(v), "p10": rank(0.10), "p90": rank(0.90),
            "p99": rank(0.99), "mean": sum(v) / n, "min": v[0], "max": v[-1]}


def scaled(st, div, prefix=""):
    """a GV-BENCH stats dict (ns) in another unit"""
    if st is None or num(st.get(prefix + "n")) in (None, 0):
        return None
    out = {"n": num(st[prefix + "n"])}
    for k in ("median", "p10", "p90", "p99", "mean", "min", "max"):
        src = "med" if k == "median" else k
        out[k] = round(num(st[prefix + src]) / div, 2)
    return out


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return round(a / b, 3)


class Run:
    def __init__(self, meta_path, console_path, bad_re):
        self.meta = {}
        with open(meta_path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    self.meta[k] = v
        self.lines = {}        # (pass, drv, metric) -> kv, or list of kv (tries)
        self.klog = {}         # (pass, drv, metric) -> [lines]
        self.problems = []
        self.peer_reports = []
        self.notok = []
        self.end_rc = None
        self.guest_kernel = None
        window = None
        in_dmesg = False
        bad = re.compile(bad_re)
        try:
            with open(console_path, errors="replace") as f:
                content = f.read().replace("\r", "").split("\n")
        except OSError as e:
            content = []
            self.problems.append(f"no console log: {e}")
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
                key = (d.get("pass"), d.get("drv"), d.get("metric"))
                if "try" in d:
                    self.lines.setdefault(key, []).append(d)
                else:
                    self.lines[key] = d
            elif line.startswith("GV-BENCH-KLOG: "):
                d = kv(line)
                key = (d.get("pass"), d.get("drv"), d.get("metric"))
                msg = line.split(" try=", 1)[-1]
                msg = msg.split(" ", 1)[1] if " " in msg else msg
                self.klog.setdefault(key, []).append(msg)
            elif line.startswith("GV-BENCH-KERNEL: "):
                self.guest_kernel = line.split(": ", 1)[1].strip()
            elif line.startswith("GV-BENCH-EXPECT-BEGIN: "):
                window = line.split(": ", 1)[1].split()
            elif line.startswith("GV-BENCH-EXPECT-END: "):
                window = None
            elif line.startswith("GV: not ok - "):
                self.notok.append(line[len("GV: not ok - "):])
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
        for t in self.notok:
            self.problems.append(f"guest check failed: {t}")
        self.passes = sorted({k[0] for k in self.lines if k[0] not in (None, "all")})

    def get(self, p, drv, metric):
        return self.lines.get((p, drv, metric))

    # --- per metric: the stats of each driver, per pass and both passes
    def metric_time(self, m):
        src, prefix = (m, "") if m != "irq-latency-read" else ("irq-latency", "read_")
        res = {"description": DESC[m], "unit": "us", "better": "lower", "passes": []}
        for p in self.passes:
            e = {"pass": int(p), "order": ["peer", "ours"] if p == "1" else ["ours", "peer"]}
            for drv in ("peer", "ours"):
                e[drv] = scaled(self.get(p, drv, src), 1000.0, prefix)
                d = self.get(p, drv, src)
                if d and "svc_n" in d and num(d["svc_n"]):
                    e[drv + "_sim"] = {
                        "requests": num(d["svc_n"]),
                        "service_mean_us": round(num(d["svc_total_ns"]) / num(d["svc_n"]) / 1000, 3),
                        "service_max_us": round(num(d["svc_max_ns"]) / 1000, 2),
                        "requests_per_op": round(num(d["svc_n"]) / max(1, num(d["n"]) + (num(d.get("warm")) or 0)), 2),
                    }
                elif d and "sim_requests" in d:
                    e[drv + "_sim"] = {"requests": num(d["sim_requests"]),
                                       "service": "not reported by this simulator"}
                if d and src == "irq-latency":
                    e[drv + "_edges"] = {k: num(d.get(k)) if num(d.get(k)) is not None else d.get(k)
                                         for k in ("events", "edges", "paired", "seqno_gap",
                                                   "collapsed")}
                    e[drv + "_clock_us"] = {
                        k2: round(num(d[k]) / 1000, 1) for k, k2 in (
                            ("off_rtt", "fastest_round_trip"),
                            ("off_unc", "offset_uncertainty"),
                            ("drift", "offset_change_during_run")) if num(d.get(k)) is not None}
            self._ratios(e)
            res["passes"].append(e)
        both = {}
        for drv in ("peer", "ours"):
            both[drv] = scaled(self.get("all", drv, m), 1000.0)
        if both["peer"] and both["ours"]:
            self._ratios(both)
            res["both"] = both
        return res

    def _ratios(self, e):
        a, b = e.get("peer"), e.get("ours")
        if a and b:
            e["ratio"] = ratio(a["median"], b["median"])
            e["ratio_p99"] = ratio(a["p99"], b["p99"])

    def metric_rate(self, m):
        res = {"description": DESC[m], "unit": "Hz", "better": "higher", "passes": []}
        vals = {"peer": [], "ours": []}
        for p in self.passes:
            e = {"pass": int(p), "order": ["peer", "ours"] if p == "1" else ["ours", "peer"]}
            for drv in ("peer", "ours"):
                d = self.get(p, drv, m)
                if not d:
                    e[drv] = None
                    continue
                steps = []
                for s in d.get("steps", "").split(","):
                    f = s.split(":")
                    if len(f) == 4:
                        got, exp = f[1].split("/")
                        steps.append({"hz": num(f[0]), "events": num(got), "expected": num(exp),
                                      "collapsed": num(f[2]), "kernel_dropped": num(f[3]),
                                      "lossless": num(got) == num(exp) and (num(f[2]) or 0) <= 0})
                e[drv] = {"lossless_hz": num(d["lossless_hz"]),
                          "first_lossy_hz": num(d["first_lossy_hz"]) or None,
                          "seconds": num(d["seconds"]), "lines": num(d["lines"]),
                          "steps": steps}
                vals[drv].append(num(d["lossless_hz"]))
            if e["peer"] and e["ours"]:
                e["ratio"] = ratio(e["peer"]["lossless_hz"], e["ours"]["lossless_hz"])
            res["passes"].append(e)
        if vals["peer"] and vals["ours"]:
            both = {drv: {"n": len(vals[drv]), "median": statistics.median(vals[drv]),
                          "min": min(vals[drv]), "max": max(vals[drv])} for drv in vals}
            both["ratio"] = ratio(both["peer"]["median"], both["ours"]["median"])
            res["both"] = both
        return res

    def metric_probe(self, m):
        lines = m.split("-")[1]
        kind = m.split("-")[2]
        res = {"description": DESC[m], "unit": UNIT[m], "better": "lower", "passes": []}
        pooled = {"peer": [], "ours": []}
        fails = {"peer": [], "ours": []}
        for p in self.passes:
            e = {"pass": int(p), "order": ["peer", "ours"] if p == "1" else ["ours", "peer"]}
            for drv in ("peer", "ours"):
                tries = self.get(p, drv, f"probe-{lines}")
                if isinstance(tries, dict):
                    tries = [tries]
                vals = []
                for t in tries or []:
                    err = num(t.get("err"))
                    if err:
                        fails[drv].append({
                            "pass": int(p), "try": num(t.get("try")),
                            "errno": err, "error": ERRNO.get(err, f"errno {err}"),
                            "bind_ms": round(num(t["ns"]) / 1e6, 2),
                            "kernel_log": self.klog.get((p, drv, f"probe-{lines}"), [])})
                        continue
                    if kind == "time":
                        vals.append(num(t["ns"]) / 1e6)
                    else:
                        vals.append(num(t["slab"]) + num(t["vmalloc"]))
                st = stats_of(vals)
                if st:
                    st = {k: round(v, 2) if isinstance(v, float) else v for k, v in st.items()}
                    if kind == "mem" and tries:
                        ok = [t for t in tries if not num(t.get("err"))]
                        st["parts_kB"] = {f: statistics.median([num(t[f]) for t in ok])
                                          for f in ("slab", "sunreclaim", "vmalloc", "percpu", "memfree")
                                          if all(f in t for t in ok)}
                e[drv] = st
                pooled[drv] += vals
            self._ratios(e)
            res["passes"].append(e)
        both = {drv: stats_of(pooled[drv]) for drv in pooled}
        for drv in both:
            if both[drv]:
                both[drv] = {k: round(v, 2) if isinstance(v, float) else v for k, v in both[drv].items()}
        self._ratios(both)
        res["both"] = both
        for drv in fails:
            if fails[drv]:
                res[drv + "_failed"] = fails[drv]
        return res

    def metrics(self):
        out = {}
        for m, _ in TIME:
            r = self.metric_time(m)
            if any(e.get("peer") or e.get("ours") for e in r["passes"]):
                out[m] = r
        for m, _ in RATE:
            r = self.metric_rate(m)
            if any(e.get("peer") or e.get("ours") for e in r["passes"]):
                out[m] = r
        for m, _ in PROBE:
            r = self.metric_probe(m)
            if any(e.get("peer") or e.get("ours") for e in r["passes"]) or \
                    r.get("peer_failed") or r.get("ours_failed"):
                out[m] = r
        # the simulator's own time per request, over every request metric
        svc = {}
        for drv in ("peer", "ours"):
            n = tot = 0
            mx = 0
            for (p, d, m), v in self.lines.items():
                if d == drv and p != "all" and isinstance(v, dict) and num(v.get("svc_n")):
                    n += num(v["svc_n"])
                    tot += num(v["svc_total_ns"])
                    mx = max(mx, num(v["svc_max_ns"]))
            if n:
                svc[drv] = {"requests": n, "service_mean_us": round(tot / n / 1000, 3),
                            "service_max_us": round(mx / 1000, 2)}
        if svc:
            out["sim-service"] = {"description": "the simulator's own service time per request "
                                  "(from its stats), over the request metrics", "unit": "us",
                                  **svc}
        return out


def both_or_passes(md, drv, key="median"):
    """a metric's pooled figure of drv, else the median of its passes'"""
    b = md.get("both") or {}
    if b.get(drv) and b[drv].get(key) is not None:
        return b[drv][key]
    vals = [e[drv][key] for e in md.get("passes", []) if e.get(drv) and e[drv].get(key) is not None]
    return statistics.median(vals) if vals else None


def g3(v):
    """a figure to three significant digits, for text"""
    return "-" if v is None else f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"


def targets(metrics, labels=("in-tree", "ours")):
    """issue 12's targets, ours against the peer"""
    out = []
    peer, ours = labels

    def add(name, want, value, met, detail=""):
        want = want.replace("peer", peer).replace("ours", ours)
        detail = re.sub(r"\b(ours|peer)\b", lambda mo: ours if mo.group(1) == "ours" else peer,
                        re.sub(r"(\d+\.\d+)", lambda mo: g3(float(mo.group(1))), detail))
        out.append({"target": name, "wanted": want, "value": value, "met": met, "detail": detail})

    for m in ("get1", "set1"):
        md = metrics.get(m)
        if not md:
            add(f"{m}: median", "ours <= 0.8x peer", None, None, "not measured")
            continue
        a, b = both_or_passes(md, "peer"), both_or_passes(md, "ours")
        f = ratio(b, a)
        add(f"{m}: median", "ours <= 0.8x peer", f, f is not None and f <= 0.8,
            f"ours {b} us, peer {a} us")
        a, b = both_or_passes(md, "peer", "p99"), both_or_passes(md, "ours", "p99")
        add(f"{m}: p99", "ours <= peer", ratio(b, a), a is not None and b is not None and b <= a,
            f"ours {b} us, peer {a} us")
    for m, want in (("get64", 15), ("set64", 15), ("get64-noind", 8), ("set64-noind", 8)):
        md = metrics.get(m)
        a = both_or_passes(md, "peer") if md else None
        b = both_or_passes(md, "ours") if md else None
        r = ratio(a, b)
        add(f"{m}: speed-up", f"peer/ours >= {want}x", r, None if r is None else r >= want,
            f"ours {b} us, peer {a} us" if r else "not measured")
    for m in ("irq-rate-1", "irq-rate-8"):
        md = metrics.get(m)
        a = both_or_passes(md, "peer") if md else None
        b = both_or_passes(md, "ours") if md else None
        r = ratio(b, a)
        add(f"{m}: lossless rate", "ours >= 2x peer", r, None if r is None else r >= 2,
            f"ours {b} Hz, peer {a} Hz" if r else "not measured")
    md = metrics.get("irq-latency")
    a = both_or_passes(md, "peer") if md else None
    b = both_or_passes(md, "ours") if md else None
    r = ratio(b, a)
    add("irq-latency: median", "ours <= 0.8x peer", r, None if r is None else r <= 0.8,
        f"ours {b} us, peer {a} us" if r else "not measured")
    md = metrics.get("probe-1024-mem")
    a = both_or_passes(md, "peer") if md else None
    b = both_or_passes(md, "ours") if md else None
    r = ratio(b, a)
    add("probe-1024-mem", "ours <= 1/4 of peer", r, None if r is None else r <= 0.25,
        f"ours {b} kB, peer {a} kB" if r else "not measured")
    md = metrics.get("probe-65535-time")
    mx = both_or_passes(md, "ours", "max") if md else None
    if md and md.get("ours_failed") and mx is None:
        f = md["ours_failed"][0]
        add("probe-65535-time", "ours < 2 s", None, False, f"ours fails to probe: {f['error']}")
    else:
        add("probe-65535-time", "ours < 2 s (slowest bind)", mx, None if mx is None else mx < 2000,
            f"ours {mx} ms" if mx is not None else "not measured")
    return out


def fmt(v, unit=""):
    if v is None:
        return "-"
    if unit == "Hz":
        return f"{v:.0f}"
    if abs(v) >= 1000:
        return f"{v:.0f}"
    if abs(v) >= 100:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fr(r):
    return "-" if r is None else (f"{r:.2f}x" if r < 10 else f"{r:.1f}x")


def table_rows(metrics):
    """rows: metric, unit, peer, ours (both passes), ratio, per-pass ratios, p99s"""
    rows = []
    for m in [x for x, _ in TIME + RATE + PROBE]:
        md = metrics.get(m)
        if not md:
            continue
        unit = md["unit"]
        pr = [e.get("ratio") for e in md["passes"]]
        a, b = both_or_passes(md, "peer"), both_or_passes(md, "ours")
        a99 = both_or_passes(md, "peer", "p99") if unit in ("us",) else None
        b99 = both_or_passes(md, "ours", "p99") if unit in ("us",) else None
        r = ratio(a, b)
        note = ""
        if md.get("peer_failed"):
            f = md["peer_failed"][0]
            note = f"peer: bind fails with {f['error']}"
            a = None
        if md.get("ours_failed"):
            f = md["ours_failed"][0]
            note = (note + "; " if note else "") + f"ours: bind fails with {f['error']}"
        rows.append((m, md["description"], unit, a, b, r, pr, a99, b99, ratio(a99, b99), note))
    return rows


def print_table(run, metrics, tg, labels):
    peer, ours = labels
    m = run.meta
    print()
    print(f"Linux {run.guest_kernel or m.get('krelease')} guest, {qemu_short(m.get('qemu'))} "
          f"under TCG, {m.get('cpus')} CPUs ({m.get('cpu_model')}), load {m.get('load_before')} "
          f"before, {m.get('load_after')} after, {m.get('load_during')}")
    print(f"{peer}: {m.get('peer_source')}; {ours}: {m.get('ours_source')}")
    print("Medians of both passes together (pass 1: peer then ours; pass 2: ours then peer);"
          f" ratio = {peer} / {ours}")
    hdr = f"{'metric':<17} {'unit':<4} {peer:>9} {ours:>9} {'ratio':>7} {'pass1':>7} {'pass2':>7}" \
          f" {'p99 ' + peer:>12} {'p99 ' + ours:>9} {'ratio':>7}"
    print(hdr)
    print("-" * len(hdr))
    for (mm, _, unit, a, b, r, pr, a99, b99, r99, note) in table_rows(metrics):
        p1 = fr(pr[0]) if len(pr) > 0 else "-"
        p2 = fr(pr[1]) if len(pr) > 1 else "-"
        line = f"{mm:<17} {unit:<4} {fmt(a, unit):>9} {fmt(b, unit):>9} {fr(r):>7} {p1:>7} {p2:>7}" \
               f" {fmt(a99):>12} {fmt(b99):>9} {fr(r99):>7}"
        print(line + (f"  ({note})" if note else ""))
    print(f"(ratio above 1: {ours} takes less time or memory; for a rate (Hz), where more is"
          f" better, below 1: {ours} keeps up with more)")
    svc = metrics.get("sim-service")
    if svc:
        parts = [f"{lab} {svc[d]['service_mean_us']} us mean, {svc[d]['service_max_us']} us max "
                 f"over {svc[d]['requests']} requests" for d, lab in (("peer", peer), ("ours", ours))
                 if d in svc]
        print("simulator service time per request: " + "; ".join(parts))
    else:
        print("simulator service time per request: not reported (this simulator's stats have no svc_*)")
    print()
    print(f"Targets (issue 12), {ours} against {peer}:")
    for t in tg:
        st = "n/a" if t["met"] is None else ("met" if t["met"] else "NOT met")
        v = "-" if t["value"] is None else (f"{t['value']:.3g}")
        print(f"  {t['target']:<28} {t['wanted']:<28} {v:>8}  {st:<8} {t['detail']}")


def qemu_short(q):
    mo = re.search(r"version (\S+)", q or "")
    return f"QEMU {mo.group(1)}" if mo else (q or "QEMU")


def readme_block(doc):
    run = doc["runs"][0]
    md = run["metrics"]
    peer, ours = run["labels"]["peer"], run["labels"]["ours"]
    h = run["host"]
    out = []
    out.append(f"Measured by `{run['command']}` on {run['date'][:10]}: a Linux "
               f"{run['guest']['kernel']} guest under {qemu_short(run['qemu'])} with TCG "
               f"on {h['cpus']} cores ({h['cpu_model']}; load average {h['load_before']} before "
               f"the run, {h.get('load_during') or 'not sampled'} during it), so **the ratios carry over and the absolute times do not**. One boot,"
               f" both drivers: pass 1 {peer} then {ours}, pass 2 {ours} then {peer}; the figures"
               f" are the medians (and p99) of both passes' samples together, with each pass's"
               f" ratio beside them. Generated from [results/bench.json](results/bench.json) by"
               f" `scripts/bench-report.py`.")
    out.append("")
    out.append(f"| metric | unit | {peer} | {ours} | {peer} / {ours} | pass 1, pass 2 | "
               f"p99 {peer} | p99 {ours} |")
    out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (m, desc, unit, a, b, r, pr, a99, b99, r99, note) in table_rows(md):
        pp = ", ".join(fr(x) for x in pr)
        extra = f" ({note})" if note else ""
        out.append(f"| {desc}{extra} | {unit} | {fmt(a, unit)} | {fmt(b, unit)} | {fr(r)} | {pp} | "
                   f"{fmt(a99)} | {fmt(b99)} |")
    out.append("")
    out.append(f"Above 1, {ours} takes less time or memory; for a rate (Hz), where more is better,"
               f" below 1 means {ours} keeps up with more. The latencies are upper bounds (see"
               f" above); a probe time is the guest's time of the write to `bind`.")
    svc = md.get("sim-service")
    out.append("")
    if svc:
        out.append("The simulator's own service time per request (its `stats`): " + "; ".join(
            f"{lab} {svc[d]['service_mean_us']} us mean, {svc[d]['service_max_us']} us max"
            for d, lab in (("peer", peer), ("ours", ours)) if d in svc) + ".")
    else:
        out.append("The simulator's own service time per request was not reported by the"
                   " simulator of this run.")
    out.append("")
    out.append("| target (issue 12) | wanted | measured | |")
    out.append("| --- | --- | --- | --- |")
    for t in run["targets"]:
        st = "not measured" if t["met"] is None else ("met" if t["met"] else "**not met**")
        out.append(f"| {t['target']} | {t['wanted']} | {t['detail']} | {st} |")
    return "\n".join(out)


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
    if m == "module" or p == "all":
        return
    if "med" in d:
        s = f"median {num(d['med']) / 1000:.1f} us, p99 {num(d['p99']) / 1000:.1f} us (n={d['n']})"
        if "svc_n" in d and num(d["svc_n"]):
            s += f"; simulator {num(d['svc_total_ns']) / num(d['svc_n']) / 1000:.2f} us/request"
    elif "lossless_hz" in d:
        s = f"lossless up to {d['lossless_hz']} Hz (first loss at {d['first_lossy_hz']} Hz)"
    elif "ns" in d:
        s = f"{num(d['ns']) / 1e6:.1f} ms, err={d.get('err')}, slab {d.get('slab')} kB, " \
            f"vmalloc {d.get('vmalloc')} kB{', ' + d['chip'] if 'chip' in d else ''}"
    else:
        s = line
    print(f"[bench]     pass {p} {drv} {m}{' try ' + d['try'] if 'try' in d else ''}: {s}")


def main(argv):
    if argv[:1] == ["--brief"]:
        brief(argv[1])
        return 0
    out = readme = from_json = None
    runs = []
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
        elif argv[i] == "--run":
            runs.append((argv[i + 1], argv[i + 2]))
            i += 3
        else:
            print(f"bench-report: unknown argument {argv[i]}", file=sys.stderr)
            return 2
    if from_json:
        with open(from_json) as f:
            doc = json.load(f)
        if readme:
            update_readme(readme, doc)
        return 0
    bad_re = os.environ.get("BAD_RE", r"BUG:|WARNING:|Oops|Call Trace:|KASAN|UBSAN|Kernel panic")
    doc = {"generated_by": "make bench (scripts/bench.sh, scripts/bench-report.py)",
           "note": "QEMU TCG: only the ratios carry over to real machines. ratio = peer / ours of "
                   "the medians (peer: the in-tree driver unless PEER_KO named another module); "
                   "times in us, rates in Hz (higher is better), memory in kB.",
           "runs": []}
    broken = False
    for meta, console in runs:
        run = Run(meta, console, bad_re)
        m = run.meta
        labels = (m.get("peer_label", "in-tree"), m.get("ours_label", "ours"))
        metrics = run.metrics()
        tg = targets(metrics, labels)
        print_table(run, metrics, tg, labels)
        r = {
            "date": m.get("date"),
            "command": m.get("command"),
            "host": {"kernel": m.get("host_kernel"), "os": m.get("host_os"),
                     "cpus": num(m.get("cpus")), "cpu_model": m.get("cpu_model"),
                     "mem_total_kb": num(m.get("mem_total_kb")),
                     "load_before": m.get("load_before"), "load_during": m.get("load_during"),
                     "load_after": m.get("load_after")},
            "qemu": m.get("qemu"), "qemu_setup": m.get("qemu_args"),
            "guest": {"kver": m.get("kver"), "kernel": run.guest_kernel or m.get("krelease"),
                      "packages": m.get("kpkgs")},
            "tree": m.get("tree"),
            "labels": {"peer": labels[0], "ours": labels[1]},
            "modules": {d: {"source": m.get(f"{d}_source"), "name": m.get(f"{d}_name"),
                            "vermagic": m.get(f"{d}_vermagic"),
                            "srcversion": m.get(f"{d}_srcversion"),
                            "sha256_16": m.get(f"{d}_sha256")} for d in ("peer", "ours")},
            "settings": m.get("settings"),
            "boot_seconds": num(m.get("boot_seconds")),
            "metrics": metrics,
            "targets": tg,
            "peer_kernel_reports": run.peer_reports,
            "problems": run.problems,
        }
        if run.peer_reports:
            print(f"\n{labels[0]}: {len(run.peer_reports)} kernel report line(s) while binding "
                  "the 65535-line device (recorded in the JSON): " + run.peer_reports[0]["line"])
        if run.problems:
            broken = True
            print("\nTHE RUN IS BROKEN:")
            for p in run.problems[:20]:
                print(f"  {p}")
        doc["runs"].append(r)
    if out:
        with open(out + ".tmp", "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        os.replace(out + ".tmp", out)
        print(f"\n[bench] figures: {out}")
    if readme and not broken:
        update_readme(readme, doc)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
