#!/usr/bin/env python3
"""Table and chart of bench/kv-routing.sh (standard library only, so the script runs anywhere).

Reads <out>/<workload>-<policy>-<rate>.json (vLLM result files written by PdApp.Bench) and
<out>/<workload>-<policy>-<rate>.cache ("<hit tokens> <queried tokens>" of the prefill instances),
prints the Markdown summary with issue 13's targets checked at the rate where round robin
saturates, and writes <out>/kv-routing.svg.
"""
import argparse
import json
import math
import os

TARGETS = {"vs_round_robin_ttft_p90": 5.0, "vs_prefix_hash_ttft_p90": 1.5, "vs_round_robin_output": 1.5}
COLORS = {"RoundRobin": "#d62728", "PrefixAffinity": "#1f77b4", "KvAware": "#2ca02c", "KvAware+PD": "#9467bd"}
# KvAware with the cache-aware PD decision (bench/kv-routing.sh): checked against the same targets, after KvAware.
KV_PD = "KvAware+PD"
WORKLOAD_TITLES = {"prefix": "shared prefixes (prefix_repetition)", "multi": "multi-turn conversations"}


def load(out, workload, policy, rate):
    name = f"{workload}-{policy}-{rate}"
    path = os.path.join(out, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        run = json.load(f)
    hit_rate = read_hit_rate(os.path.join(out, name + ".cache"))
    return {
        "p50": run.get("median_ttft_ms", 0.0), "p90": run.get("p90_ttft_ms", 0.0), "p99": run.get("p99_ttft_ms", 0.0),
        "tpot": run.get("median_tpot_ms", 0.0), "output": run.get("output_throughput", 0.0),
        "goodput": run.get("request_goodput") or 0.0, "rps": run.get("request_throughput", 0.0),
        "completed": run.get("completed", 0), "failed": run.get("failed", 0), "hit": hit_rate,
        "aborted": (run.get("pdapp") or {}).get("aborted", False), "duration": run.get("duration", 0.0),
        "decode_alone": read_count(os.path.join(out, name + ".pd")),
        "decode_hit": read_hit_rate(os.path.join(out, name + ".dcache")),
    }


def read_hit_rate(path):
    """Hit tokens / queried tokens from "<hits> <queries>" in <path>, or None."""
    if not os.path.exists(path):
        return None
    hits, queries = (int(x) for x in open(path).read().split())
    return hits / queries if queries else None


def read_count(path):
    """The integer in <path> (requests sent to a decode instance alone during a run), or None."""
    if not os.path.exists(path):
        return None
    text = open(path).read().strip()
    return int(text) if text else None


def kept_up(run, duration):
    """Completed requests per second (over the run, the drain included) against the offered rate (the
    requests that arrived over `duration` s): 1 while a policy's throughput follows the offered rate."""
    return duration / run["duration"] if run and run["duration"] else None


def saturation_rate(results, rates, duration):
    """The rate where round robin saturates: the lowest rate at which its throughput stops following the
    offered rate (it completes under 90% of what arrives, kept_up < 0.9); from there its queue grows for as
    long as arrivals last, so its TTFT grows with the run length. Else the highest rate."""
    rr = results.get("RoundRobin", {})
    for rate in rates:
        k = kept_up(rr.get(rate), duration)
        if k is not None and k < 0.9:
            return rate
    return rates[-1] if rates else None


def capacity(runs):
    """The most requests per second a policy completed at any rate of the sweep."""
    return max((r["rps"] for r in runs.values() if r), default=0.0)


def fmt(value, digits=0):
    return "-" if value is None else f"{value:,.{digits}f}"


def table(workload, results, policies, rates, duration):
    lines = [f"#### {WORKLOAD_TITLES.get(workload, workload)}", "",
             "| rate (req/s) | policy | TTFT p50 (ms) | TTFT p90 (ms) | TTFT p99 (ms) | TPOT p50 (ms) | output (tok/s) | goodput (req/s) | prefix cache hit rate | failed |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for rate in rates:
        for policy in policies:
            r = results.get(policy, {}).get(rate)
            if r is None:
                continue
            hit = "-" if r["hit"] is None else f"{100 * r['hit']:.0f}%"
            lines.append(f"| {rate} | {policy} | {fmt(r['p50'])} | {fmt(r['p90'])} | {fmt(r['p99'])} | {fmt(r['tpot'], 1)} | "
                         f"{fmt(r['output'])} | {fmt(r['goodput'], 2)} | {hit} | {r['failed']}{' (aborted)' if r['aborted'] else ''} |")
    lines.append("")
    kv_all, rr_all, pa_all = (results.get(p, {}) for p in ("KvAware", "RoundRobin", "PrefixAffinity"))
    ratios = []
    for rate in rates:
        kv, rr, pa = kv_all.get(rate), rr_all.get(rate), pa_all.get(rate)
        if kv and rr and kv["p90"]:
            # Round robin's completions per second against the offered rate: the saturation test
            # (under 90%), and the cap on the throughput ratio (no policy delivers more than offered).
            k = kept_up(rr, duration)
            kept = "-" if k is None else f"{100 * k:.0f}%"
            ratios.append(f"| {rate} | {fmt(rr['p90'] / kv['p90'], 1)}x | {fmt(pa['p90'] / kv['p90'], 1) + 'x' if pa else '-'} | "
                          f"{fmt(kv['output'] / rr['output'], 2) + 'x' if rr['output'] else '-'} | {fmt(rr['duration'], 1)} s | {kept} |")
    if ratios:
        lines += ["| rate | TTFT p90 RR / KV (>= 5x) | TTFT p90 prefix hash / KV (>= 1.5x) | output KV / RR (>= 1.5x) | RR run length | RR kept up (arrivals / run length) |",
                  "|---:|---:|---:|---:|---:|---:|"] + ratios + [""]
    rate = saturation_rate(results, rates, duration)
    kv, rr, pa = kv_all.get(rate), rr_all.get(rate), pa_all.get(rate)
    if kv and rr:
        lines.append(f"Targets at {rate} req/s (round robin's saturation: the lowest rate where its throughput falls under 90% of the offered rate, else the highest):")
        lines.append("")
        cap, k = capacity(rr_all), kept_up(rr, duration)
        if cap and k:
            lines.append(f"- round robin completed {100 * k:.0f}% of the offered rate here (its most at any rate: {cap:.2f} req/s); a policy that "
                         f"keeps up completes at most the offered rate, so the output ratio to round robin is capped near {1 / k:.2f}x at this rate")

        def check(name, ratio, target):
            met = ratio is not None and ratio >= target
            return f"- {name}: {fmt(ratio, 2)}x (target >= {target}x): {'met' if met else 'NOT met'}"

        lines.append(check("TTFT p90, round robin / kv-aware", rr["p90"] / kv["p90"] if kv["p90"] else None, TARGETS["vs_round_robin_ttft_p90"]))
        if pa:
            lines.append(check("TTFT p90, prefix hash / kv-aware", pa["p90"] / kv["p90"] if kv["p90"] else None, TARGETS["vs_prefix_hash_ttft_p90"]))
        lines.append(check("output throughput, kv-aware / round robin", kv["output"] / rr["output"] if rr["output"] else None, TARGETS["vs_round_robin_output"]))
        lines.append("")
    lines += pd_lines(results, rates, duration, rate)
    lines += measurable_lines(results, rates, duration)
    lines += capacity_lines(results, policies, rates, duration)
    return lines


def measurable_rate(results, rates, duration):
    """The lowest rate at which round robin completes at most 1 / the output target of the offered rate (67% for
    1.5x): round robin is saturated there and a policy that keeps up is not capped below the throughput target, as it
    is at the onset of round robin's saturation (where it completes 80-90% and no router can exceed ~1.2x)."""
    rr = results.get("RoundRobin", {})
    for rate in rates:
        k = kept_up(rr.get(rate), duration)
        if k is not None and k <= 1 / TARGETS["vs_round_robin_output"]:
            return rate
    return None


def measurable_lines(results, rates, duration):
    """All three targets for KvAware and KvAware+PD at measurable_rate, printed beside (not instead of) the
    onset reading above."""
    rate = measurable_rate(results, rates, duration)
    rr, pa = results.get("RoundRobin", {}).get(rate), results.get("PrefixAffinity", {}).get(rate)
    if rate is None or not rr:
        return []
    lines = [f"Targets at {rate} req/s (the lowest swept rate where round robin completes at most "
             f"{100 / TARGETS['vs_round_robin_output']:.0f}% of the offered rate, {100 * kept_up(rr, duration):.0f}% here: "
             "saturated, and the throughput ratio is not capped below its target):", ""]
    for policy, label in (("KvAware", "kv-aware"), (KV_PD, "kv-aware+PD")):
        r = results.get(policy, {}).get(rate)
        if not r or not r["p90"]:
            continue
        for name, ratio, target in [
                (f"TTFT p90, round robin / {label}", rr["p90"] / r["p90"], TARGETS["vs_round_robin_ttft_p90"]),
                (f"TTFT p90, prefix hash / {label}", pa["p90"] / r["p90"] if pa else None, TARGETS["vs_prefix_hash_ttft_p90"]),
                (f"output throughput, {label} / round robin", r["output"] / rr["output"] if rr["output"] else None, TARGETS["vs_round_robin_output"])]:
            if ratio is not None:
                lines.append(f"- {name}: {fmt(ratio, 2)}x (target >= {target}x): {'met' if ratio >= target else 'NOT met'}")
    return lines + [""]


def pd_lines(results, rates, duration, saturation):
    """KvAware+PD (KvAware with the cache-aware PD decision): its share of decode-alone requests, its ratios
    per rate, and the same targets at round robin's saturation rate."""
    pd_all, rr_all, pa_all = (results.get(p, {}) for p in (KV_PD, "RoundRobin", "PrefixAffinity"))
    if not pd_all:
        return []
    lines = [f"{KV_PD} (KvAware plus the cache-aware PD decision), per rate (the table's prefix cache hit rate is the prefill "
             "instances'; requests sent to decode alone are looked up on the decode instances, whose rate is shown here; it also "
             "counts the decode's own lookups of prefilled requests before their KV arrives):", "",
             "| rate | requests sent to decode alone | decode instances' prefix cache hit rate | TTFT p90 RR / KV+PD (>= 5x) | TTFT p90 prefix hash / KV+PD (>= 1.5x) | output KV+PD / RR (>= 1.5x) |",
             "|---:|---:|---:|---:|---:|---:|"]
    for rate in rates:
        pd, rr, pa = pd_all.get(rate), rr_all.get(rate), pa_all.get(rate)
        if not pd:
            continue
        done = pd["completed"] + pd["failed"]
        alone = "-" if pd["decode_alone"] is None else f"{pd['decode_alone']} ({100 * pd['decode_alone'] / done:.0f}%)" if done else str(pd["decode_alone"])
        dhit = "-" if pd["decode_hit"] is None else f"{100 * pd['decode_hit']:.0f}%"
        lines.append(f"| {rate} | {alone} | {dhit} | {fmt(rr['p90'] / pd['p90'], 1) + 'x' if rr and pd['p90'] else '-'} | "
                     f"{fmt(pa['p90'] / pd['p90'], 1) + 'x' if pa and pd['p90'] else '-'} | "
                     f"{fmt(pd['output'] / rr['output'], 2) + 'x' if rr and rr['output'] else '-'} |")
    lines.append("")
    pd, rr, pa = pd_all.get(saturation), rr_all.get(saturation), pa_all.get(saturation)
    if pd and rr and pd["p90"]:
        lines.append(f"Targets for {KV_PD} at {saturation} req/s (the same saturation rate):")
        lines.append("")
        for name, ratio, target in [
                ("TTFT p90, round robin / kv-aware+PD", rr["p90"] / pd["p90"], TARGETS["vs_round_robin_ttft_p90"]),
                ("TTFT p90, prefix hash / kv-aware+PD", pa["p90"] / pd["p90"] if pa else None, TARGETS["vs_prefix_hash_ttft_p90"]),
                ("output throughput, kv-aware+PD / round robin", pd["output"] / rr["output"] if rr["output"] else None, TARGETS["vs_round_robin_output"])]:
            if ratio is not None:
                lines.append(f"- {name}: {fmt(ratio, 2)}x (target >= {target}x): {'met' if ratio >= target else 'NOT met'}")
        lines.append("")
    return lines


def capacity_lines(results, policies, rates, duration):
    """Each policy's capacity: its output throughput at the highest swept rate (offered more than it serves,
    when it completes under 90% of the offered rate there), with the ratio to round robin's: how llm-d
    states its "2.3x throughput" against round robin."""
    top = rates[-1] if rates else None
    rr = results.get("RoundRobin", {}).get(top)
    rows = []
    for policy in policies:
        r = results.get(policy, {}).get(top)
        if not r:
            continue
        k = kept_up(r, duration)
        most = max((x["output"] for x in results.get(policy, {}).values() if x), default=0.0)
        rows.append(f"| {policy} | {fmt(r['output'])} | {'-' if k is None else f'{100 * k:.0f}%'}{'' if k is None or k < 0.9 else ' (not saturated)'} | "
                    f"{fmt(r['output'] / rr['output'], 2) + 'x' if rr and rr['output'] else '-'} | {fmt(r['rps'], 2)} | {fmt(most)} |")
    if not rows:
        return []
    return [f"Capacity: output throughput at {top} req/s, the highest swept rate (offered more than a policy serves when it completes "
            f"under 90% of the offered rate there), and its ratio to round robin's (llm-d's \"x throughput against round robin\"); "
            f"for a policy not saturated there the ratio is a lower bound of its capacity's:", "",
            f"| policy | output at {top} req/s (tok/s) | completed / offered | output / round robin's | requests completed (req/s) | most output at any rate (tok/s) |",
            "|---|---:|---:|---:|---:|---:|"] + rows + [""]


def svg(path, all_results, policies, workloads, rates):
    panel_w, panel_h, margin = 420, 260, 60
    width, height = margin + len(workloads) * (panel_w + margin), 2 * (panel_h + margin) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    metrics = [("p90", "TTFT p90 (ms, log scale)", True), ("output", "output throughput (tok/s)", False)]
    xs = [float(r) for r in rates]
    x_lo, x_hi = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    for col, workload in enumerate(workloads):
        results = all_results[workload]
        for row, (key, label, log) in enumerate(metrics):
            ox, oy = margin + col * (panel_w + margin), 30 + row * (panel_h + margin)
            values = [r[key] for p in policies for r in results.get(p, {}).values() if r and r[key] > 0]
            if not values:
                continue
            lo, hi = min(values), max(values)
            if log:
                lo, hi = 10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi))
                scale = lambda v: (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
                ticks = [10 ** e for e in range(int(math.log10(lo)), int(math.log10(hi)) + 1)]
            else:
                lo, hi = 0.0, hi * 1.1
                scale = lambda v: (v - lo) / (hi - lo)
                ticks = [hi * i / 4 for i in range(5)]
            px = lambda x: ox + (x - x_lo) / (x_hi - x_lo) * panel_w
            py = lambda v: oy + panel_h - scale(v) * panel_h
            parts.append(f'<rect x="{ox}" y="{oy}" width="{panel_w}" height="{panel_h}" fill="none" stroke="#888"/>')
            parts.append(f'<text x="{ox + panel_w / 2}" y="{oy - 8}" text-anchor="middle" font-weight="bold">{WORKLOAD_TITLES.get(workload, workload)}: {label}</text>')
            for t in ticks:
                parts.append(f'<line x1="{ox}" x2="{ox + panel_w}" y1="{py(t):.1f}" y2="{py(t):.1f}" stroke="#eee"/>')
                parts.append(f'<text x="{ox - 4}" y="{py(t) + 4:.1f}" text-anchor="end">{t:,.0f}</text>')
            for x in xs:
                parts.append(f'<text x="{px(x):.1f}" y="{oy + panel_h + 14}" text-anchor="middle">{x:g}</text>')
            parts.append(f'<text x="{ox + panel_w / 2}" y="{oy + panel_h + 30}" text-anchor="middle">request rate (req/s)</text>')
            for policy in policies:
                points = [(float(rate), results[policy][rate][key]) for rate in rates
                          if results.get(policy, {}).get(rate) and results[policy][rate][key] > 0]
                if not points:
                    continue
                color = COLORS.get(policy, "#555")
                parts.append('<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>'.format(
                    color, " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in points)))
                for x, v in points:
                    parts.append(f'<circle cx="{px(x):.1f}" cy="{py(v):.1f}" r="3" fill="{color}"/>')
    for i, policy in enumerate(policies):
        x = margin + i * 140
        parts.append(f'<rect x="{x}" y="{height - 22}" width="12" height="12" fill="{COLORS.get(policy, "#555")}"/>')
        parts.append(f'<text x="{x + 16}" y="{height - 12}">{policy}</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--policies", nargs="+", required=True)
    parser.add_argument("--workloads", nargs="+", required=True)
    parser.add_argument("--rates", nargs="+", required=True)
    parser.add_argument("--duration", type=float, required=True, help="seconds of arrivals per run")
    args = parser.parse_args()
    rates = sorted(args.rates, key=float)
    all_results = {}
    lines = []
    for workload in args.workloads:
        results = {p: {r: load(args.out, workload, p, r) for r in rates} for p in args.policies}
        results = {p: {r: v for r, v in rs.items() if v} for p, rs in results.items()}
        all_results[workload] = results
        lines += table(workload, results, args.policies, rates, args.duration)
    svg(os.path.join(args.out, "kv-routing.svg"), all_results, args.policies, args.workloads, rates)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
