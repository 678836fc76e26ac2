#!/usr/bin/python3
"""Both daemons' whole /metrics pages, parsed by a parser nobody here wrote.

Starts a dove-controller and a dove-switch connected to it (dove_pages.py) and parses both
/metrics pages with the Prometheus project's Python client (Debian's python3-prometheus-client,
prometheus_client.parser.text_string_to_metric_families), which refuses what the text format
0.0.4 does not allow. Then checks what the parser lets through but the conventions do not:
each family's TYPE once, every counter family's samples named *_total, no sample outside a
family of its own, histograms with cumulative buckets ending in le="+Inf" equal to _count, and
the families this change promises (counters as counter families, bytes counters).
Usage: metrics_exposition_test.py CONTROLLER_BIN SWITCH_BIN
"""
import math
import os
import sys

from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dove_pages import running_pages  # noqa: E402

# Families each page must have, with their type (a dashboard and the docs rely on them).
EXPECTED = {
    "controller": {
        "dove_build_info": "gauge",
        "process_cpu_seconds": "counter",
        "dove_http_requests": "counter",
        "dove_http_request_duration_seconds": "histogram",
        "dove_switch_drops": "counter",
        "dove_switch_port_frames": "counter",
        "dove_switch_port_bytes": "counter",
        "dove_switch_tunnel_frames": "counter",
        "dove_switch_tunnel_bytes": "counter",
        "dove_switch_summary_ports": "gauge",
    },
    "switch": {
        "dove_build_info": "gauge",
        "process_resident_memory_bytes": "gauge",
        "dove_switch_drops": "counter",
        "dove_switch_port_frames": "counter",
        "dove_switch_port_bytes": "counter",
        "dove_switch_tunnel_frames": "counter",
        "dove_switch_tunnel_bytes": "counter",
        "dove_switch_routed_packets": "counter",
        "dove_switch_ports": "gauge",
    },
}


def check(name, page):
    problems = []
    types = [line.split()[2] for line in page.splitlines() if line.startswith("# TYPE ")]
    for family in sorted({t for t in types if types.count(t) > 1}):
        problems.append(f"{name}: # TYPE {family} more than once")
    try:
        parsed = list(text_string_to_metric_families(page))
    except Exception as error:  # the parser's refusal, whatever its type
        return problems + [f"{name}: the parser refused the page: {error!r}"]
    found = {}
    for family in parsed:
        found[family.name] = family.type
        if family.type == "unknown":
            problems.append(f"{name}: samples outside a declared family: {family.name}")
        for sample in family.samples:
            if family.type == "counter" and not sample.name.endswith(("_total", "_created")):
                problems.append(f"{name}: counter sample {sample.name} is not *_total")
        if family.type == "histogram":
            series = {}
            for sample in family.samples:
                key = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
                series.setdefault(key, {"buckets": [], "count": None})
                if sample.name.endswith("_bucket"):
                    series[key]["buckets"].append((float(sample.labels["le"]), sample.value))
                elif sample.name.endswith("_count"):
                    series[key]["count"] = sample.value
            for key, s in series.items():
                bounds = [b for b, _ in s["buckets"]]
                values = [v for _, v in s["buckets"]]
                if not bounds or bounds[-1] != math.inf or bounds != sorted(bounds):
                    problems.append(f"{name}: {family.name}{dict(key)} buckets {bounds}")
                elif values != sorted(values) or values[-1] != s["count"]:
                    problems.append(f"{name}: {family.name}{dict(key)} not cumulative: {values}"
                                    f", count {s['count']}")
    for family, kind in EXPECTED[name].items():
        if found.get(family) != kind:
            problems.append(f"{name}: {family} is {found.get(family)!r}, not {kind}")
    print(f"{name} /metrics: {len(parsed)} families, "
          f"{sum(len(f.samples) for f in parsed)} samples parsed")
    return problems


def main():
    controller_bin, switch_bin = sys.argv[1:3]
    controller_page, switch_page = running_pages(controller_bin, switch_bin)
    problems = check("controller", controller_page) + check("switch", switch_page)
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
