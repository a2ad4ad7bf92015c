"""Times accord's feed (full and 304) and Radicale's collection of the same
events: sequential requests on one keep-alive connection (median, p99), then
wrk at 4 connections for requests/s. Prints lines for BENCHMARKS.md."""
import base64
import http.client
import statistics
import subprocess
import sys
import time
from urllib.parse import urlsplit

name, accord_url, radicale_url, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
# A shell command that writes to a table the feed reads (a no-op UPDATE):
# every feed's ETag moves, so the next GET renders the 10,000 events again
# instead of answering from the cache of rendered feeds.
bump = sys.argv[5] if len(sys.argv) > 5 else None
RADICALE_AUTH = "Basic " + base64.b64encode(b"bench:bench").decode()


def timed(url, count, headers):
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    times, status, etag = [], None, None
    for _ in range(count):
        t = time.perf_counter()
        conn.request("GET", u.path + (f"?{u.query}" if u.query else ""), headers=headers)
        res = conn.getresponse()
        res.read()
        times.append((time.perf_counter() - t) * 1000)
        status, etag = res.status, res.getheader("etag")
    conn.close()
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return statistics.median(times), p99, status, etag


def wrk(url, headers):
    args = ["wrk", "-c4", "-t2", "-d10s"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return float("nan")


def ms(x):
    return f"{x:.1f} ms" if x >= 10 else f"{x:.2f} ms"


# Warm both (accord renders once per change; Radicale reads its files).
def rendered(url, count):
    times = []
    for _ in range(count):
        subprocess.run(bump, shell=True, check=True)
        times.append(timed(url, 1, {})[0])
    times.sort()
    return statistics.median(times), times[-1]


render = rendered(accord_url, 15) if bump else None
_, _, _, etag = timed(accord_url, 3, {})
full = timed(accord_url, n, {})
not_modified = timed(accord_url, n, {"If-None-Match": etag})
assert not_modified[2] == 304, not_modified
rad_n = max(5, min(n, 20))
_, _, _, rad_etag = timed(radicale_url, 2, {"Authorization": RADICALE_AUTH})
rad_full = timed(radicale_url, rad_n, {"Authorization": RADICALE_AUTH})
rad_cond = timed(radicale_url, rad_n, {"Authorization": RADICALE_AUTH, "If-None-Match": rad_etag or '"x"'})
rps = {
    "full": wrk(accord_url, {}),
    "304": wrk(accord_url, {"If-None-Match": etag}),
    "radicale": wrk(radicale_url, {"Authorization": RADICALE_AUTH}),
}

print(
    f"# {name}: accord full median {ms(full[0])} p99 {ms(full[1])} {rps['full']:.0f} req/s; "
    f"304 median {ms(not_modified[0])} p99 {ms(not_modified[1])} {rps['304']:.0f} req/s; "
    f"Radicale full median {ms(rad_full[0])} p99 {ms(rad_full[1])} {rps['radicale']:.1f} req/s, "
    f"conditional: {rad_cond[2]} median {ms(rad_cond[0])}",
    file=sys.stderr,
)
ratio_full = rad_full[0] / full[0]
if render:
    ratio_render = rad_full[0] / render[0]
    print(
        f"feed of 10,000 events, full GET after a change, rendered ({name}) | {ms(render[0])} "
        f"(max {ms(render[1])} of 15) | Radicale {ms(rad_full[0])} | {ratio_render:.0f}x faster | "
        f"<= 100 ms and >= 20x | {'yes' if render[0] <= 100 and ratio_render >= 20 else 'no'}"
    )
print(
    f"feed of 10,000 events, full GET median, unchanged feed ({name}) | {ms(full[0])} (p99 {ms(full[1])}, "
    f"{rps['full']:.0f} req/s) | Radicale {ms(rad_full[0])} (p99 {ms(rad_full[1])}, "
    f"{rps['radicale']:.1f} req/s) | {ratio_full:.0f}x faster | <= 100 ms and >= 20x | "
    f"{'yes' if full[0] <= 100 and ratio_full >= 20 else 'no'}"
)
print(
    f"feed of 10,000 events, 304 GET median ({name}) | {ms(not_modified[0])} (p99 "
    f"{ms(not_modified[1])}, {rps['304']:.0f} req/s) | Radicale conditional GET "
    f"({rad_cond[2]}) {ms(rad_cond[0])} | {rad_cond[0] / not_modified[0]:.0f}x faster | "
    f"<= 5 ms | {'yes' if not_modified[0] <= 5 else 'no'}"
)
