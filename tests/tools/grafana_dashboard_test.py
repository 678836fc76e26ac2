#!/usr/bin/python3
"""The Grafana dashboard (packaging/grafana/dove.json) against the real /metrics pages.

Starts a dove-controller and a dove-switch connected to it (dove_pages.py: loopback, temp dirs,
free ports), reads both /metrics pages, and checks that every metric family the dashboard's
queries name exists on one of them (a _bucket/_sum/_count name by its histogram), that every panel has a
query, and that the JSON is a dashboard Grafana imports (title, uid, panels, the datasource
variable). Usage: grafana_dashboard_test.py DASHBOARD CONTROLLER_BIN SWITCH_BIN
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dove_pages import running_pages  # noqa: E402


def families(page):
    names = set()
    for line in page.splitlines():
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
    return names


def main():
    dashboard_path, controller_bin, switch_bin = sys.argv[1:4]
    with open(dashboard_path) as f:
        dashboard = json.load(f)
    problems = []
    for key in ("title", "uid", "panels", "templating"):
        if key not in dashboard:
            problems.append(f"no {key}")
    variables = {v["name"] for v in dashboard.get("templating", {}).get("list", [])}
    if "datasource" not in variables:
        problems.append("no datasource variable")
    queries = []
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            continue
        targets = [t.get("expr", "") for t in panel.get("targets", [])]
        if not any(targets):
            problems.append(f"panel {panel.get('title')!r} has no query")
        queries += [(panel.get("title"), e) for e in targets]

    controller_page, switch_page = running_pages(controller_bin, switch_bin)
    known = families(controller_page) | families(switch_page)

    used = set()
    for title, expr in queries:
        for name in re.findall(r"\b((?:dove|process)_[a-z0-9_]+)", expr):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            family = name if name in known else base
            used.add(family)
            if family not in known:
                problems.append(f"panel {title!r}: {name} is on neither /metrics page")
    print(f"grafana dashboard: {len(queries)} queries, {len(used)} metric families, "
          f"all on the pages of a running controller and switch ({len(known)} families there)"
          if not problems else "grafana dashboard: problems:")
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
