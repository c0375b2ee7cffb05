#!/usr/bin/env python3
"""tools/bench_report.py — the benchmark suite's results and report.

    bench_report.py target <logdir> <out.json>   BENCH/SLABINFO lines of the
                                                 target runs -> results JSON
    bench_report.py host <gbench.json> <out.json>  Google Benchmark JSON of
                                                 bench_compare -> results JSON
    bench_report.py callgrind <log> <host.json>  tests/bench/slab_instructions.sh
                                                 output -> its entries in the
                                                 host results JSON (replaced)
    bench_report.py check <results dir>         exit 1 naming every figure
                                                the report needs but the JSON
                                                files lack (./test.sh bench)
    bench_report.py report [results dir] [docs dir]
                                                 tests/bench/results/*.json ->
                                                 docs/PERFORMANCE.md and
                                                 docs/img/bench-*.png (gnuplot)

Results files: {"platform", "generated", "method", "entries": [{workload,
allocator, metric, value, ...}]}. Only the standard library is used; plots
are drawn by gnuplot (Debian gnuplot-nox).
"""
import datetime
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

ALLOCS_TARGET = ["kmm", "newlib", "newlib-nano"]
# kmm images with smaller pages, run for the utilisation only
UTIL_VARIANTS = [("kmm-p1k", "kmm, 1 KiB pages"), ("kmm-p256", "kmm, 256 B pages")]
ALLOCS_HOST = ["kmm", "kmm-kmem_cache", "glibc", "jemalloc", "tcmalloc", "mimalloc"]
PENDING = "pending a clean ThreadSanitizer run"


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# ---------------------------------------------------------------- target
def parse_target(logdir, out):
    entries = []
    for path in sorted(glob.glob(os.path.join(logdir, "*.log"))):
        for line in open(path, errors="replace"):
            line = line.strip()
            if line.startswith("BENCH "):
                entries.append(json.loads(line[6:]))
            elif line.startswith("SLABINFO ") and not line.startswith("SLABINFO #") and "version" not in line:
                f = line.split()
                name, objsize, perslab, pages = f[1], int(f[4]), int(f[5]), int(f[6])
                for metric, value in (("stride", objsize), ("objects_per_slab", perslab), ("pages_per_slab", pages)):
                    entries.append({"workload": "memory", "allocator": "kmm", "metric": "cache:%s:%s" % (name, metric),
                                    "value": value})
    doc = {"platform": "mps2-an385", "generated": now(),
           "method": "QEMU mps2-an385 (Cortex-M3), -icount shift=7: CMSDK timer0 ticks 3.2 times per instruction, "
                     "so each bracketed operation is counted exactly (calibrated on every boot); "
                     "instructions; empty bracket subtracted",
           "entries": entries}
    json.dump(doc, open(out, "w"), indent=1)
    print("bench_report: %d entries -> %s" % (len(entries), out))


# ---------------------------------------------------------------- host
def parse_host(src, out):
    data = json.load(open(src))
    entries = []
    for b in data["benchmarks"]:
        name = b.get("run_name", b["name"])
        m = re.match(r"([^/]+)/([^/]+)/real_time/threads:(\d+)", name)
        if not m:
            continue
        workload, alloc, threads = m.group(1), m.group(2), int(m.group(3))
        if b.get("error_occurred"):
            if any(e["workload"] == workload and e["allocator"] == alloc and e["threads"] == threads
                   for e in entries):
                continue
            entries.append({"workload": workload, "allocator": alloc, "threads": threads, "metric": "ns_per_op",
                            "value": None, "note": b.get("error_message", "")})
            continue
        if b.get("aggregate_name", "median") != "median":
            continue
        ips = b.get("items_per_second", 0.0)
        # real time per iteration is wall time / all threads' iterations:
        # ns per op and thread = threads * 1e9 / ops per second.
        entries.append({"workload": workload, "allocator": alloc, "threads": threads, "metric": "ns_per_op",
                        "value": round(threads * 1e9 / ips, 3) if ips else None})
        entries.append({"workload": workload, "allocator": alloc, "threads": threads, "metric": "mops_per_s",
                        "value": round(ips / 1e6, 2)})
    ctx = data.get("context", {})
    # the repetitions the run made (bench_host.sh: 3; the smoke run fewer)
    reps = sorted({str(b["repetitions"]) for b in data["benchmarks"] if "repetitions" in b}) or ["?"]
    doc = {"platform": "host-x86_64", "generated": now(),
           "method": "Google Benchmark %s, median of %s repetitions, real time; %d CPUs at %s MHz; %s" % (
               ctx.get("library_version", "1.7"), "/".join(reps), ctx.get("num_cpus", 0), ctx.get("mhz_per_cpu", "?"),
               "load %s" % ctx.get("load_avg", "?")),
           "entries": entries}
    json.dump(doc, open(out, "w"), indent=1)
    print("bench_report: %d entries -> %s" % (len(entries), out))


# ---------------------------------------------------------------- callgrind
# slab_instructions.sh mode -> (workload, allocator); metrics
# callgrind_incl_loop and callgrind_allocator (instructions per operation).
CALLGRIND_MODES = {"kmem_cache": ("x86-pair-kmem_cache-64", "kmm"),
                   "slot_kmm": ("x86-slot1024-step", "kmm"), "slot_glibc": ("x86-slot1024-step", "glibc"),
                   "slot_harness": ("x86-slot1024-step", "harness")}
for _n in (16, 64, 256, 1024):
    CALLGRIND_MODES["kmalloc%d" % _n] = ("x86-pair-%d" % _n, "kmm")
    CALLGRIND_MODES["malloc%d" % _n] = ("x86-pair-%d" % _n, "glibc")
CALLGRIND_METHOD = ("valgrind --tool=callgrind, tests/bench/slab_instructions.sh: bench_slab --count <mode> n at "
                    "n = 1M and 2M, the instruction delta over the 1M extra operations (set-up cancels); "
                    "allocator = inclusive instructions inside kmem_cache_alloc/free, kmalloc/kfree, malloc/free; "
                    "kmm's one-CPU build, Release (host-release preset)")


def parse_callgrind(src, out):
    doc = json.load(open(out))
    entries = [e for e in doc["entries"] if not e["metric"].startswith("callgrind_")]
    n = 0
    for line in open(src):
        f = line.split()
        if len(f) == 3 and f[0] in CALLGRIND_MODES:
            workload, alloc = CALLGRIND_MODES[f[0]]
            if alloc != "harness" and not float(f[2]) > 0:  # no allocator function found: a broken count
                sys.exit("bench_report: %s: %s: no instructions inside the allocator" % (src, f[0]))
            entries.append({"workload": workload, "allocator": alloc, "metric": "callgrind_incl_loop",
                            "value": float(f[1])})
            entries.append({"workload": workload, "allocator": alloc, "metric": "callgrind_allocator",
                            "value": float(f[2])})
            n += 1
    if n != len(CALLGRIND_MODES):
        sys.exit("bench_report: %s: %d of the %d callgrind modes" % (src, n, len(CALLGRIND_MODES)))
    doc["entries"] = entries
    doc["callgrind_method"] = CALLGRIND_METHOD
    doc["callgrind_generated"] = now()
    json.dump(doc, open(out, "w"), indent=1)
    print("bench_report: %d callgrind modes -> %s" % (n, out))


# ---------------------------------------------------------------- report
class Results:
    def __init__(self, path):
        self.doc = json.load(open(path)) if os.path.exists(path) else {"entries": []}
        self.idx = {}
        for e in self.doc["entries"]:
            key = (e["workload"], e["allocator"], e["metric"], e.get("threads"), e.get("x"))
            self.idx[key] = e

    def get(self, workload, alloc, metric, threads=None, x=None):
        e = self.idx.get((workload, alloc, metric, threads, x))
        return None if e is None else e["value"]

    def entry(self, workload, alloc, metric, threads=None):
        return self.idx.get((workload, alloc, metric, threads, None))

    def curve(self, workload, alloc):
        pts = [(e["x"], e["value"]) for e in self.doc["entries"]
               if e["workload"] == workload and e["allocator"] == alloc and e["metric"] == "live_bytes_at_op"]
        return sorted(pts)


def fmt(v, nd=0):
    if v is None:
        return "—"
    if nd == 0:
        return "%d" % round(v)
    return ("%." + str(nd) + "f") % v


def gnuplot(script, tmp):
    path = os.path.join(tmp, "plot.gp")
    open(path, "w").write(script)
    subprocess.run(["gnuplot", path], check=True)


def bars(tmp, png, title, ylabel, groups, series, values, logscale=False):
    """Clustered bars: values[(group, series)] -> number or None."""
    dat = os.path.join(tmp, os.path.basename(png) + ".dat")
    with open(dat, "w") as f:
        f.write("group " + " ".join('"%s"' % s for s in series) + "\n")
        for g in groups:
            f.write('"%s" ' % g + " ".join("NaN" if values.get((g, s)) is None else str(values[(g, s)])
                                            for s in series) + "\n")
    cols = ", ".join("'%s' using %d:xtic(1) title columnhead" % (dat, i + 2) if i == 0 else
                     "'' using %d title columnhead" % (i + 2) for i in range(len(series)))
    gnuplot("""set terminal pngcairo size 1000,520 font 'DejaVu Sans,11'
set output '%s'
set title '%s'
set ylabel '%s'
set termoption noenhanced
set xtics rotate by -25 scale 0
set bmargin 6
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top left
set yrange [0:*]
%s
plot %s
""" % (png, title, ylabel, "set logscale y\nset yrange [1:*]" if logscale else "", cols), tmp)


def lines(tmp, png, title, xlabel, ylabel, curves, yrange="[0:100]", xlog=False, mark_last=False):
    """curves: list of (label, [(x, y)...])."""
    plots = []
    inline = []
    for i, (label, pts) in enumerate(curves):
        dat = os.path.join(tmp, "%s.%d.dat" % (os.path.basename(png), i))
        with open(dat, "w") as f:
            for x, y in pts:
                f.write("%s %s\n" % (x, y))
        # the first curve is drawn widest: equal curves (same seed) stay visible
        plots.append("'%s' using 1:2 with linespoints lw %d pt 7 ps 0.6 lc %d title '%s'" % (
            dat, 2 + (3 if mark_last else 1) * (len(curves) - 1 - i), i + 1, label))
        if mark_last and pts:  # where the curve ends: the first failure
            plots.append("'-' using 1:2 with points pt 2 ps 3 lw 3 lc %d notitle" % (i + 1))
            inline.append("%s %s\ne" % pts[-1])
    gnuplot("""set terminal pngcairo size 1000,520 font 'DejaVu Sans,11'
set output '%s'
set title '%s'
set xlabel '%s'
set ylabel '%s'
set termoption noenhanced
set grid
set key bottom right
set yrange %s
%s
plot %s
%s
""" % (png, title, xlabel, ylabel, yrange, "set logscale x 2" if xlog else "", ", ".join(plots), "\n".join(inline)), tmp)


def goal_line(name, measured, goal, met, how):
    return "| %s | %s | %s | %s |" % (name, measured, goal, ("met" if met else "**missed** (%s)" % how))


def report(resdir, docdir):
    t = Results(os.path.join(resdir, "mps2-an385.json"))
    h = Results(os.path.join(resdir, "host-x86_64.json"))
    imgdir = os.path.join(docdir, "img")
    os.makedirs(imgdir, exist_ok=True)
    out = []
    w = out.append

    w("# kmm performance — against what firmware engineers use today")
    w("")
    w("Generated by `./run.sh bench` (tools/bench_suite.sh, tools/bench_host.sh, tools/bench_report.py) "
      "from `tests/bench/results/mps2-an385.json` (%s) and `tests/bench/results/host-x86_64.json` (%s). "
      "Benchmarks print figures; nothing here is a timed test. `./test.sh bench` runs a seconds-long smoke "
      "version so the suite cannot rot." % (t.doc.get("generated", "—"), h.doc.get("generated", "—")))
    w("")

    # ---- goals
    # workload (a) is both slot counts; the kmem_cache goal, both churn caches
    cache_allocs = [(t.get(wl, "kmm", "alloc_mean"), wl) for wl in ("b-churn32", "b-churn200")]
    cache_allocs = [(v, wl) for v, wl in cache_allocs if v is not None]
    worst = []
    for wl in ("a-slot256", "a-slot1024"):
        for op, ex in (("alloc", "alloc_worst_excl_new_slab"), ("free", "free_worst")):
            v = t.get(wl, "kmm", ex)
            if v is not None:
                worst.append((v, "%s %s" % (wl, op)))
    worst_v, worst_at = max(worst) if worst else (None, "")
    util = {}
    for e in t.doc["entries"]:
        m = re.match(r"c-util-(\d+)k$", e["workload"])
        if m and e["metric"] == "utilization_pct":
            util.setdefault(int(m.group(1)), {})[e["allocator"]] = e["value"]
    rams = sorted(util)
    w("## Goals, as measured")
    w("")
    w("| goal | measured | target | verdict |")
    w("| --- | ---: | ---: | --- |")
    for slot, nslots in (("a-slot256", 256), ("a-slot1024", 1024)):
        kmm_loop = t.get(slot, "kmm", "per_op_incl_loop")
        nl_loop = t.get(slot, "newlib", "per_op_incl_loop")
        nano_loop = t.get(slot, "newlib-nano", "per_op_incl_loop")
        if kmm_loop is not None:
            w(goal_line("(a) %d slots: kmm mean instructions per op incl. the loop" % nslots, fmt(kmm_loop, 1),
                        "≤ 40", kmm_loop <= 40,
                        "by %.1f, %.0f %% over; newlib %s, newlib-nano %s measured the same way" % (
                            kmm_loop - 40, (kmm_loop / 40 - 1) * 100, fmt(nl_loop, 1), fmt(nano_loop, 1))))
    if cache_allocs:
        cache_alloc, at = max(cache_allocs)
        w(goal_line("kmem_cache alloc, mean instructions (the higher of b-churn32, b-churn200)",
                    "%s (%s)" % (fmt(cache_alloc, 1), at), "≤ 20", cache_alloc <= 20, "by %.1f" % (cache_alloc - 20)))
    if worst_v is not None:
        w(goal_line("(a) worst op except new-slab creation", "%s (%s)" % (fmt(worst_v), worst_at), "≤ 150",
                    worst_v <= 150, "by %d, %.1f×" % (worst_v - 150, worst_v / 150)))
    for r in rams:
        k, n = util[r].get("kmm"), util[r].get("newlib")
        if k is not None and n is not None:
            w(goal_line("utilisation at first failure, %d KiB: kmm vs newlib" % r, "%s %% vs %s %%" % (
                fmt(k, 1), fmt(n, 1)), "kmm higher", k > n, "by %.1f points" % (n - k)))
    # issue #5's two host goals, from the same side-by-side run (throughput)
    for wl in ("a-slot256", "a-slot1024"):
        k1, k2 = h.get(wl, "kmm", "mops_per_s", 1), h.get(wl, "kmm", "mops_per_s", 2)
        g2 = h.get(wl, "glibc", "mops_per_s", 2)
        if k1 and k2:
            w(goal_line("(host) %s: kmm 2 threads over 1 thread, throughput" % wl, "%.2f×" % (k2 / k1),
                        "≥ 1.8×", k2 / k1 >= 1.8, "by %.2f" % (1.8 - k2 / k1)))
        if k2 and g2:
            w(goal_line("(host) %s: kmm over glibc at 2 threads, throughput" % wl, "%.2f×" % (k2 / g2),
                        "≥ 3×", k2 / g2 >= 3, "by %.2f" % (3 - k2 / g2)))
    # issue #3's x86-64 goals, from the callgrind counts (exact)
    pair = h.get("x86-pair-kmem_cache-64", "kmm", "callgrind_allocator")
    if pair is not None:
        w(goal_line("(x86-64) kmem_cache alloc+free pair, allocator instructions (callgrind)",
                    "%s (%s incl. the loop)" % (fmt(pair, 1), fmt(h.get("x86-pair-kmem_cache-64", "kmm",
                                                                       "callgrind_incl_loop"), 1)),
                    "≤ 20", pair <= 20, "by %.1f" % (pair - 20)))
    kpairs = [(h.get("x86-pair-%d" % n, "kmm", "callgrind_allocator"), n) for n in (16, 64, 256, 1024)]
    kpairs = [(v, n) for v, n in kpairs if v is not None]
    if kpairs:
        v, n = max(kpairs)
        w(goal_line("(x86-64) kmalloc+kfree pair at 16/64/256/1024 B, allocator instructions, the most",
                    "%s (at %d B)" % (fmt(v, 1), n), "≤ 30", v <= 30, "by %.1f" % (v - 30)))
    sk, sg = (h.get("x86-slot1024-step", a, "callgrind_incl_loop") for a in ("kmm", "glibc"))
    if sk and sg:
        w(goal_line("(x86-64) slot workload, glibc over kmm per step incl. the loop, instructions "
                    "(time: docs/SLAB.md)", "%.2f×" % (sg / sk), "≥ 2× (faster)", sg / sk >= 2,
                    "by %.2f; allocator instructions alone %.2f×" % (
                        2 - sg / sk, (h.get("x86-slot1024-step", "glibc", "callgrind_allocator") or 0) /
                        (h.get("x86-slot1024-step", "kmm", "callgrind_allocator") or 1))))
    w("")

    # ---- target
    w("## On the target: mps2-an385 under QEMU, instructions")
    w("")
    w("Method: %s. Three images identical but for the allocator the workload calls "
      "(`tests/cross/bench/bench_suite.cpp`): kmm (kmalloc/kfree, kmem_cache, alloc_pages; mm at -O2), "
      "newlib's `malloc` (libc.a) and newlib-nano's (libc_nano.a, what `--specs=nano.specs` links), "
      "all -O2, each over the same 8 MiB arena at 0x21000000 (newlib through `_sbrk`). "
      "Each workload runs three times from the same seed: with a null allocator (the harness), plainly "
      "(instructions per op incl. the loop), and with every op bracketed by two counter reads around the call "
      "alone, one asm statement (per-op mean and worst: the call instruction, the allocator, its return; the "
      "empty bracket, %s instruction, subtracted; only the ops of the counted loop, the same ones "
      "\"per op incl. the loop\" covers: not the churn pool's fill before it, nor the freeing of what is "
      "left after it). Before each run the allocator gives back "
      "what it caches (kmm: `kmm_slab_shrink_all` + `kmm_drain_pages`; newlib: `malloc_trim(0)`; newlib-nano "
      "has no working `malloc_trim`, so its heap stays as grown by the runs before), so the "
      "bracketed run also sees the page-level operations, which are counted apart: kmm's *new slab* (an "
      "alloc that took pages) and *slab release* (a free that gave a slab back), newlib's *heap growth* "
      "(an op that called `_sbrk`)." % (t.doc.get("method", "?"), fmt(t.get("bracket", "kmm",
                                                                          "empty_bracket_instructions"))))
    w("")
    w("Workloads: **a-slot256 / a-slot1024** — slots of 8…512 B, each step frees the slot's block or "
      "allocates one (random free order, touching the first and last byte); **b-churn32 / b-churn200** — "
      "a pool of 256 objects of one size, free a random one and allocate its successor (kmm as a "
      "`kmem_cache` of that size, and as kmalloc: `-kmalloc`); **c-frag** — 16 B…4 KiB log-uniform, one "
      "step in eight on 256 long-lived slots, the rest on a 64-slot ring of short-lived objects; "
      "**d-pages** — orders 0…4 on 64 slots (kmm `alloc_pages`/`__free_pages`; newlib "
      "`memalign(4096, 4096 << order)`/`free`).")
    w("")
    workloads = ["a-slot256", "a-slot1024", "b-churn32", "b-churn32-kmalloc", "b-churn200", "b-churn200-kmalloc",
                 "c-frag", "d-pages"]
    w("| workload | allocator | per op incl. loop | harness | allocator part | alloc mean | alloc worst¹ | "
      "free mean | free worst¹ | page-level ops: alloc / free | page-level worst: alloc / free |")
    w("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for wl in workloads:
        for a in ALLOCS_TARGET:
            if t.get(wl, a, "per_op_incl_loop") is None:
                continue
            sa = "new_slab" if a == "kmm" else "heap_growth"
            sf = "slab_release" if a == "kmm" else "heap_trim"
            paged = wl == "d-pages" and a == "kmm"
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                wl, a, fmt(t.get(wl, a, "per_op_incl_loop"), 1), fmt(t.get(wl, a, "per_op_harness"), 1),
                fmt(t.get(wl, a, "per_op_allocator"), 1), fmt(t.get(wl, a, "alloc_mean"), 1),
                fmt(t.get(wl, a, "alloc_worst_excl_" + sa)), fmt(t.get(wl, a, "free_mean"), 1),
                fmt(t.get(wl, a, "free_worst_excl_" + sf)),
                "(all)" if paged else "%s / %s" % (fmt(t.get(wl, a, "alloc_%s_ops" % sa)),
                                                   fmt(t.get(wl, a, "free_%s_ops" % sf))),
                "—" if paged else "%s / %s" % (fmt(t.get(wl, a, "alloc_%s_worst" % sa)),
                                               fmt(t.get(wl, a, "free_%s_worst" % sf)))))
    w("")
    w("¹ worst excluding the page-level ops of the last two columns (kmm: new slab / slab release; newlib: "
      "heap growth / trim). All figures are instructions; \"allocator part\" = incl. loop − harness.")
    w("")
    w("**kmm's new-slab creation, worst case:** " + ", ".join(
        "%s %s (%s new slabs, mean %s)" % (wl, fmt(t.get(wl, "kmm", "alloc_new_slab_worst")),
                                          fmt(t.get(wl, "kmm", "alloc_new_slab_ops")),
                                          fmt(t.get(wl, "kmm", "alloc_new_slab_mean")))
        for wl in workloads if t.get(wl, "kmm", "alloc_new_slab_worst") is not None) + " instructions.")
    w("")
    w("![instructions per op](img/bench-target-per-op.png)")
    w("")
    w("![alloc and free means](img/bench-target-alloc-free.png)")
    w("")

    # ---- memory
    w("## Memory")
    w("")
    ps = t.get("memory", "kmm", "page_size")
    w("**Metadata per managed page:** %s bytes of page descriptor per %s-byte page (%s %%): %s bytes for %s "
      "pages of the 8 MiB arena, carved from the arena itself. The slab layer's own start-up (its boot cache "
      "and the `kmem_cache` of every kmalloc class) takes %s bytes of pages." % (
          fmt(t.get("memory", "kmm", "memmap_bytes_per_page"), 1), fmt(ps),
          fmt(100.0 * (t.get("memory", "kmm", "memmap_bytes_per_page") or 0) / (ps or 1), 2),
          fmt(t.get("memory", "kmm", "memmap_bytes")), fmt(t.get("memory", "kmm", "managed_pages")),
          fmt(t.get("memory", "kmm", "slab_boot_bytes"))))
    w("")
    w("**Waste per kmalloc class and per cache** (4 KiB pages; slabinfo of the run). *Tail* is what a slab "
      "leaves after its last object; *rounding* is the mean internal waste of a request drawn uniformly from "
      "the sizes the class serves (previous class + 1 … class), as a share of the object.")
    w("")
    w("| cache | stride | objects / slab | pages / slab | tail per slab | tail share | rounding (uniform requests) |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    caches = []
    for e in t.doc["entries"]:
        m = re.match(r"cache:(.+):stride$", e["metric"])
        if m:
            caches.append((m.group(1), e["value"]))
    prev = 0
    for name, stride in caches:
        per = t.get("memory", "kmm", "cache:%s:objects_per_slab" % name)
        pages = t.get("memory", "kmm", "cache:%s:pages_per_slab" % name)
        slab = pages * (ps or 4096)
        tail = slab - per * stride
        rounding = "—"
        if name.startswith("kmalloc-"):
            lo = prev + 1
            rounding = "%.1f %%" % (100.0 * (stride - (lo + stride) / 2.0) / stride)
            prev = stride
        w("| %s | %d | %d | %d | %d B | %.1f %% | %s |" % (name, stride, per, pages, tail, 100.0 * tail / slab,
                                                         rounding))
    for wl in ("b-churn32", "b-churn200"):
        if t.get(wl, "kmm", "cache_stride") is not None:
            stride, per, pages = (t.get(wl, "kmm", m) for m in ("cache_stride", "cache_objects_per_slab",
                                                                "cache_pages_per_slab"))
            slab = pages * (ps or 4096)
            w("| %s (kmem_cache of %s B) | %d | %d | %d | %d B | %.1f %% | %.1f %% (stride) |" % (
                wl, fmt(t.get(wl, "kmm", "cache_object_size")), stride, per, pages, slab - per * stride,
                100.0 * (slab - per * stride) / slab,
                100.0 * (stride - t.get(wl, "kmm", "cache_object_size")) / stride))
    w("")
    w("**Bytes one object takes** (smallest address distance between 24 consecutive allocations of that size: "
      "header, rounding, class):")
    w("")
    sizes = sorted({int(e["metric"].rsplit("_", 1)[1]) for e in t.doc["entries"] if e["workload"] == "footprint"})
    w("| request | " + " | ".join(ALLOCS_TARGET) + " |")
    w("| ---: | " + " | ".join("---:" for _ in ALLOCS_TARGET) + " |")
    for n in sizes:
        w("| %d | " % n + " | ".join(fmt(t.get("footprint", a, "bytes_per_object_%d" % n)) for a in ALLOCS_TARGET)
          + " |")
    w("")
    w("**Utilisation at first failure** (workload c with the long-lived objects never freed — one allocation in "
      "four is long-lived, the rest live one lap of a 64-slot ring — run on a fixed RAM size until the first "
      "allocation fails; live = bytes requested by the live objects, as a share of the RAM; kmm's RAM "
      "includes its page descriptors and slab metadata, newlib's `_sbrk` gets exactly that RAM; neither "
      "allocator's static data (.data/.bss) counts: about 2.2 KiB for kmm, 1.1 KiB for newlib). kmm is the "
      "board's configuration (4 KiB pages); the two columns after newlib-nano are the same kmm image with "
      "1 KiB pages (max order 8) and with 256 B pages (max order 7, lm3s6965evb's setting): more page "
      "descriptors, but slabs and large kmallocs in smaller steps:")
    w("")
    variants = [(a, label) for a, label in UTIL_VARIANTS if any(util[r].get(a) is not None for r in rams)]
    w("| RAM | " + " | ".join(ALLOCS_TARGET + [label for _, label in variants]) +
      " | kmm: usable bytes of live objects (ksize) | ops to failure: kmm / newlib |")
    w("| ---: | " + " | ".join("---:" for _ in ALLOCS_TARGET + variants) + " | ---: | ---: |")
    for r in rams:
        wl = "c-util-%dk" % r
        w("| %d KiB | " % r + " | ".join("%s %%" % fmt(util[r].get(a), 1)
                                        for a in ALLOCS_TARGET + [a for a, _ in variants]) +
          " | %s %% | %s / %s |" % (
              fmt(100.0 * (t.get(wl, "kmm", "usable_bytes_at_first_failure") or 0) / (r * 1024), 1),
              fmt(t.get(wl, "kmm", "ops_to_first_failure")), fmt(t.get(wl, "newlib", "ops_to_first_failure"))))
    w("")
    w("![utilisation at first failure](img/bench-utilization.png)")
    w("")
    w("![live bytes until the first failure](img/bench-utilization-curve.png)")
    w("")

    # ---- host
    w("## On the host: kmm against glibc, jemalloc, tcmalloc, mimalloc")
    w("")
    w("`tests/bench/bench_compare.cpp`, one binary, all side by side; %s. glibc is called as "
      "`__libc_malloc`/`__libc_free`; jemalloc (`mallocx`/`dallocx`), tcmalloc (`tc_malloc`/`tc_free`, "
      "libtcmalloc_minimal) and mimalloc (`mi_malloc`/`mi_free`) are `dlopen`ed `RTLD_LOCAL`, so the "
      "process's own `malloc` stays glibc's (checked at start; jemalloc's initial-exec TLS needs "
      "`GLIBC_TUNABLES=glibc.rtld.optional_static_tls`, which the binary sets by re-executing itself). "
      "Every allocator is called through a function pointer. kmm is the `KMM_NR_CPUS=2` build. One op = "
      "one alloc or one free; ns per op and thread (lower is better). Workloads as on the target "
      "(b-churn64: 64-byte objects), plus **e-remote** (2 threads only): thread 0 allocates 8…512 B blocks "
      "and hands them through a 1024-entry ring to thread 1, which frees them — every free is a remote "
      "free (kmm: an object of another CPU's slab, into the freeing CPU's magazine)." % h.doc.get("method", "?"))
    w("")
    hw = ["a-slot256", "a-slot1024", "b-churn64", "c-frag"]
    w("| workload | threads | " + " | ".join(ALLOCS_HOST) + " |")
    w("| --- | ---: | " + " | ".join("---:" for _ in ALLOCS_HOST) + " |")
    pending = False
    for wl in hw + ["e-remote"]:
        for th in ((2,) if wl == "e-remote" else (1, 2)):
            cells = []
            for a in ALLOCS_HOST:
                e = h.entry(wl, a, "ns_per_op", th)
                if e is None:
                    cells.append("—")
                elif e["value"] is None:
                    cells.append("*%s*" % (e.get("note") or "error"))
                    pending = pending or PENDING in (e.get("note") or "")
                else:
                    cells.append("%.2f" % e["value"])
            w("| %s | %d | %s |" % (wl, th, " | ".join(cells)))
    w("")
    w("Scaling, 2-thread throughput over 1-thread (ops per second of both threads together; 2.00 is "
      "perfect on these 2 CPUs):")
    w("")
    w("| workload | " + " | ".join(ALLOCS_HOST) + " |")
    w("| --- | " + " | ".join("---:" for _ in ALLOCS_HOST) + " |")
    for wl in hw:
        cells = []
        for a in ALLOCS_HOST:
            one, two = h.get(wl, a, "mops_per_s", 1), h.get(wl, a, "mops_per_s", 2)
            cells.append("%.2f×" % (two / one) if one and two else "—")
        w("| %s | %s |" % (wl, " | ".join(cells)))
    w("")
    w("Read the 2-thread rows with care: the machine is a 2-vCPU VM shared with other builds (load in the "
      "method line). With perfect scaling a 2-thread figure equals the 1-thread one; where every allocator "
      "doubles, the two threads effectively shared one CPU during the run, and the row says nothing about "
      "the allocators.")
    w("")
    if pending:
        w("kmm with 2 threads: **%s**. `tools/bench_host.sh` runs kmm's 2-thread benchmarks under "
          "ThreadSanitizer first (`build/bench-tsan`) and includes them only when that run is clean; in this "
          "run it was not, so the 2-thread kmm figures are left out until the race it reports (see that "
          "build's log) is fixed." % PENDING)
        w("")
    w("![host ns per op](img/bench-host.png)")
    w("")
    w("Instructions per operation on x86-64 (%s; %s): exact, so unlike the times above they do not move "
      "with the machine's load." % (h.doc.get("callgrind_method", "?"), h.doc.get("callgrind_generated", "—")))
    w("")
    w("| operation | kmm: allocator | kmm: incl. the loop | glibc: allocator | glibc: incl. the loop |")
    w("| --- | ---: | ---: | ---: | ---: |")
    for wl, label in (("x86-pair-kmem_cache-64", "kmem_cache alloc+free pair (64 B; glibc: no such API)"),
                      ("x86-pair-16", "kmalloc+kfree / malloc+free pair, 16 B"),
                      ("x86-pair-64", "kmalloc+kfree / malloc+free pair, 64 B"),
                      ("x86-pair-256", "kmalloc+kfree / malloc+free pair, 256 B"),
                      ("x86-pair-1024", "kmalloc+kfree / malloc+free pair, 1024 B"),
                      ("x86-slot1024-step", "slot step (1024 slots, 8…512 B; harness alone: %s)" % fmt(
                          h.get("x86-slot1024-step", "harness", "callgrind_incl_loop"), 2))):
        w("| %s | %s | %s | %s | %s |" % (label, fmt(h.get(wl, "kmm", "callgrind_allocator"), 2),
                                          fmt(h.get(wl, "kmm", "callgrind_incl_loop"), 2),
                                          fmt(h.get(wl, "glibc", "callgrind_allocator"), 2),
                                          fmt(h.get(wl, "glibc", "callgrind_incl_loop"), 2)))
    w("")
    w("## Reproduce")
    w("")
    w("```sh")
    w("./run.sh bench            # everything: target images, host binary, JSON, this page and its plots")
    w("tools/bench_suite.sh      # target only -> tests/bench/results/mps2-an385.json")
    w("tools/bench_host.sh       # host only   -> tests/bench/results/host-x86_64.json (incl. callgrind)")
    w("tools/bench_report.py report   # JSON -> docs/PERFORMANCE.md, docs/img/bench-*.png")
    w("./test.sh bench           # the smoke version (seconds)")
    w("```")
    w("")
    open(os.path.join(docdir, "PERFORMANCE.md"), "w").write("\n".join(out))

    # ---- plots
    with tempfile.TemporaryDirectory() as tmp:
        groups = [wl for wl in workloads if any(t.get(wl, a, "per_op_incl_loop") is not None for a in ALLOCS_TARGET)]
        vals = {(wl, a): t.get(wl, a, "per_op_incl_loop") for wl in groups for a in ALLOCS_TARGET}
        vals.update({(wl, "harness"): t.get(wl, "kmm", "per_op_harness") for wl in groups})
        bars(tmp, os.path.join(imgdir, "bench-target-per-op.png"),
             "mps2-an385: instructions per op incl. the loop (lower is better)", "instructions", groups,
             ALLOCS_TARGET + ["harness"], vals)
        series = ["%s %s" % (a, op) for a in ALLOCS_TARGET for op in ("alloc", "free")]
        vals = {(wl, "%s %s" % (a, op)): t.get(wl, a, op + "_mean") for wl in groups for a in ALLOCS_TARGET
                for op in ("alloc", "free")}
        bars(tmp, os.path.join(imgdir, "bench-target-alloc-free.png"),
             "mps2-an385: mean instructions per alloc and per free, bracketed (log scale)", "instructions",
             groups, series, vals, logscale=True)
        if rams:
            lines(tmp, os.path.join(imgdir, "bench-utilization.png"),
                  "Utilisation at first failure (workload c) by RAM size (higher is better)", "RAM (KiB)",
                  "live bytes / RAM (%)",
                  [(a, [(r, util[r][a]) for r in rams if util[r].get(a) is not None])
                   for a in ALLOCS_TARGET + [a for a, _ in UTIL_VARIANTS]
                   if any(util[r].get(a) is not None for r in rams)],
                  xlog=True)
            r = 256 if 256 in rams else rams[len(rams) // 2]
            lines(tmp, os.path.join(imgdir, "bench-utilization-curve.png"),
                  "Live bytes until the first failure, %d KiB of RAM (same seed: curves coincide; x = first failure)" % r,
                  "operations", "live bytes / RAM (%)",
                  [(a, [(x, 100.0 * y / (r * 1024)) for x, y in t.curve("c-util-%dk" % r, a)])
                   for a in reversed(ALLOCS_TARGET)], mark_last=True)
        hgroups = ["%s %dT" % (wl, th) for wl in hw for th in (1, 2)]
        vals = {("%s %dT" % (wl, th), a): h.get(wl, a, "ns_per_op", th) for wl in hw for th in (1, 2)
                for a in ALLOCS_HOST}
        bars(tmp, os.path.join(imgdir, "bench-host.png"),
             "host x86-64: ns per op and thread (lower is better; a gap = not run)", "ns", hgroups,
             ALLOCS_HOST, vals)
    print("bench_report: wrote %s and %s/bench-*.png" % (os.path.join(docdir, "PERFORMANCE.md"), imgdir))


def check(resdir):
    """Fails (exit 1, one line per gap) unless both JSON files hold every
    figure the report is built from: each target workload for kmm, newlib
    and newlib-nano, a utilisation run for each (and for kmm's smaller-page
    images), and each host workload
    for every allocator at 1 and 2 threads (kmm's 2-thread ones too)."""
    t = Results(os.path.join(resdir, "mps2-an385.json"))
    h = Results(os.path.join(resdir, "host-x86_64.json"))
    gaps = []
    for wl in ("a-slot256", "a-slot1024", "b-churn32", "b-churn200", "c-frag", "d-pages"):
        for a in ("kmm", "newlib", "newlib-nano"):
            for m in ("per_op_incl_loop", "alloc_mean", "alloc_worst", "free_mean", "free_worst"):
                if t.get(wl, a, m) is None:
                    gaps.append("target %s %s %s" % (wl, a, m))
    for a in ["kmm", "newlib", "newlib-nano"] + [a for a, _ in UTIL_VARIANTS]:
        if not any(e["workload"].startswith("c-util-") and e["allocator"] == a and e["metric"] == "utilization_pct"
                   for e in t.doc["entries"]):
            gaps.append("target c-util %s utilization_pct" % a)
    for wl in ("a-slot256", "a-slot1024", "b-churn64", "c-frag", "e-remote"):
        for a in ALLOCS_HOST:
            if a == "kmm-kmem_cache" and not wl.startswith("b-"):
                continue
            for th in ((2,) if wl == "e-remote" else (1, 2)):
                for m in ("ns_per_op", "mops_per_s"):
                    if h.get(wl, a, m, th) is None:
                        gaps.append("host %s %s threads %d %s" % (wl, a, th, m))
    for workload, alloc in CALLGRIND_MODES.values():
        for m in ("callgrind_incl_loop", "callgrind_allocator"):
            if h.get(workload, alloc, m) is None:
                gaps.append("host %s %s %s" % (workload, alloc, m))
    for g in gaps:
        print("bench_report check: missing %s" % g, file=sys.stderr)
    if gaps:
        sys.exit(1)
    print("bench_report check: %s complete" % resdir)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "target":
        parse_target(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 4 and sys.argv[1] == "host":
        parse_host(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 4 and sys.argv[1] == "callgrind":
        parse_callgrind(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    elif len(sys.argv) >= 2 and sys.argv[1] == "report":
        report(sys.argv[2] if len(sys.argv) > 2 else "tests/bench/results", sys.argv[3] if len(sys.argv) > 3 else "docs")
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
