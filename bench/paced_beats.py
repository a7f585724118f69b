#!/usr/bin/env python3
"""A paced writer for bench/reads.sh: normal beats on one keep-alive connection, each one's latency recorded.

Usage: paced_beats.py PORT SECONDS RATE HOSTS INTERVAL
Sends RATE beats a second for SECONDS (at most SECONDS * RATE beats) to hosts host-0 .. host-(HOSTS-1), in the
form bench/heartbeats.lua sends them (same IP, same interval: nothing changes but the last-seen time), and prints
"beats N p50 P p99 P max M" in milliseconds. A beat that is late to start goes out at once (a slow answer
delays the next one: the worst latencies are a floor, not the whole story).
"""
import http.client
import sys
import time

port, seconds, rate, hosts, interval = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
latencies = []
errors = 0
start = time.perf_counter()
for i in range(int(seconds * rate)):
    due = start + i / rate
    now = time.perf_counter()
    if now >= start + seconds:
        break
    if due > now:
        time.sleep(due - now)
    n = (i * 7919) % hosts
    body = '{"ip":"10.%d.%d.%d","host":"host-%d","interval":%d}' % ((n // 65536) % 256, (n // 256) % 256, n % 256, n, interval)
    sent = time.perf_counter()
    try:
        connection.request("POST", "/", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            errors += 1
    except (OSError, http.client.HTTPException):
        errors += 1
        connection.close()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        continue
    latencies.append((time.perf_counter() - sent) * 1000)

latencies.sort()
def pct(p):
    return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] if latencies else float("nan")
print("beats %d p50 %.1f p99 %.1f max %.1f errors %d" % (len(latencies), pct(50), pct(99), latencies[-1] if latencies else float("nan"), errors))
