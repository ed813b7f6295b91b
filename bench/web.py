"""bench/web.sh's body (see there)."""
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from test_toolstack import Toolstack, XENKVM, XTEST  # noqa: E402
from web_client import Web  # noqa: E402

N_DOMAINS = int(os.environ.get("BENCH_WEB_DOMAINS", 50))
RUNS = 30


def median_ms(f, runs=RUNS):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


ts = Toolstack()
web = None
try:
    for i in range(N_DOMAINS):
        ts.xk("create", "-q", ts.cfg(f"b{i}", "echo", memory=16))
    web = Web(ts)
    conn = web.conn()
    hdr = {"Authorization": f"Bearer {web.token}"}

    def api():
        conn.request("GET", "/api/domains", headers=hdr)
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == 200 and len(body["domains"]) == N_DOMAINS

    def cli():
        r = subprocess.run([str(XENKVM), "list", "-l"], env=ts.env, capture_output=True)
        assert r.returncode == 0 and len(json.loads(r.stdout)) == N_DOMAINS

    api()
    cli()
    a, c = median_ms(api), median_ms(cli)
    print(f"web API GET /api/domains, {N_DOMAINS} domains (ms): {a:.2f}   "
          f"CLI `xenkvm list -l` (ms): {c:.2f}   ratio {a / c:.2f}")
    # The page with one domain: the 49 others' vCPUs would weigh on chromium.
    for i in range(1, N_DOMAINS):
        ts.xk("destroy", f"b{i}")
    root = os.path.join(os.path.dirname(__file__), "..", "web")
    r = subprocess.run(["node", os.path.join(root, "test", "paint.mjs")],
                       env=dict(os.environ, URL=web.origin, TOKEN=web.token, RUNS="5"),
                       capture_output=True, text=True, timeout=300)
    if r.returncode:
        print(f"first paint: chromium run failed: {r.stdout}{r.stderr}")
    else:
        p = json.loads(r.stdout.strip().splitlines()[-1])
        print(f"web page first paint (ms): {p['page_fp']:.0f} (first contentful "
              f"{p['page_fcp']:.0f})   login page (ms): {p['login_fp']:.0f} (first contentful "
              f"{p['login_fcp']:.0f})   ratio {p['page_fcp'] / p['login_fcp']:.2f}; "
              f"domains listed after (ms): {p['page_rows_ms']:.0f}")
finally:
    if web:
        web.stop()
    ts.close()
