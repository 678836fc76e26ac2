"""Both daemons' /metrics pages, from a dove-controller and a dove-switch connected to it.

running_pages(controller_bin, switch_bin) starts both on loopback (temp dirs, free ports), waits
until the controller shows the switch's first statistics summary (so the controller's page has
its dove_switch_* series), reads both pages and stops both, cleaning up even when it fails.
Used by grafana_dashboard_test.py and metrics_exposition_test.py.
"""
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url, deadline):
    last = None
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                return reply.read().decode()
        except OSError as error:
            last = error
            time.sleep(0.2)
    raise SystemExit(f"no answer from {url}: {last}")


def running_pages(controller_bin, switch_bin, summary_timeout=15):
    """(controller page, switch page) of a controller and a switch "g1" connected to it."""
    work = tempfile.mkdtemp(prefix="dove-pages-")
    api, south, metrics, vxlan = free_port(), free_port(), free_port(), free_port()
    processes = []
    try:
        processes.append(subprocess.Popen(
            [controller_bin, "--data-dir", os.path.join(work, "data"),
             "--listen", f"127.0.0.1:{api}", "--southbound", f"127.0.0.1:{south}",
             "--southbound-plaintext"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "controller.log"), "w")))
        deadline = time.time() + 20
        fetch(f"http://127.0.0.1:{api}/healthz", deadline)
        processes.append(subprocess.Popen(
            [switch_bin, "--name", "g1", "--tunnel-ip", "127.0.0.1",
             "--controller", f"127.0.0.1:{south}", "--southbound-plaintext",
             "--control-socket", os.path.join(work, "switch.sock"),
             "--metrics-listen", f"127.0.0.1:{metrics}", "--vxlan-port", str(vxlan)],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "switch.log"), "w")))
        switch_page = fetch(f"http://127.0.0.1:{metrics}/metrics", deadline)
        # The switch sends its first summary one stats interval (5 s) after connecting.
        summary_deadline = time.time() + summary_timeout
        while True:
            controller_page = fetch(f"http://127.0.0.1:{api}/metrics", deadline + summary_timeout)
            if 'dove_switch_summary_ports{switch="g1"}' in controller_page:
                break
            if time.time() > summary_deadline:
                raise SystemExit("the controller's /metrics never showed g1's summary:\n" +
                                 controller_page)
            time.sleep(0.5)
        return controller_page, switch_page
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run(["rm", "-rf", work], check=False)
