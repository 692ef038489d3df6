#!/usr/bin/python3
"""dask_work.py: the scenarios of bench_work.c, run on Dask distributed, for comparison.

    /usr/bin/python3 bench/dask_work.py [SCENARIO] [N]

Debian's python3-distributed (apt-get install python3-distributed), Debian's python3. Each
scenario starts a LocalCluster of worker processes on 127.0.0.1 (tcp), shaped as bench_work's
zmeshd workers are (workers x threads = zmesh's workers x slots), runs the same tasks from one
client, and prints one line in the same words. Task durations of `mixed` use bench_work's
formula, so both run the same 2000 durations.
"""
import os
import signal
import sys
import time

from dask.distributed import Client, LocalCluster, get_worker, wait


def noop(x=None):
    return x


def sleep_ms(ms):
    time.sleep(ms / 1000.0)
    return get_worker().address


def mixed_ms(index):
    mask = (1 << 64) - 1
    x = (index * 0x9E3779B97F4A7C15 + 12345) & mask
    x ^= x >> 31
    x = (x * 0xBF58476D1CE4E5B9) & mask
    x ^= x >> 27
    return 1 + x % 50


def cluster(workers, threads):
    c = LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True,
                     host="127.0.0.1", dashboard_address=None, protocol="tcp://")
    return c, Client(c)


def per_node(addresses, durations, makespan_s, slots):
    busy = {}
    for a, d in zip(addresses, durations):
        busy[a] = busy.get(a, 0.0) + d
    total = sum(busy.values())
    util = total / 1000.0 / (makespan_s * slots)
    mean = total / len(busy)
    spread = (max(busy.values()) - min(busy.values())) / mean if busy else 0
    return util, spread, busy


def s_noop(n):
    c, client = cluster(2, 2)
    wait(client.map(noop, range(200), pure=False))
    start = time.time()
    futures = client.map(noop, range(n), pure=False)
    wait(futures)
    us = time.time() - start
    print("noop:   %d no-op tasks, 1 client -> 2 workers: %.0f tasks/s (%.2f s)" % (n, n / us, us))
    client.close(); c.close()


def s_rtt(n):
    c, client = cluster(2, 2)
    for i in range(50):
        client.submit(noop, i, pure=False).result()
    samples = []
    for i in range(n):
        start = time.time()
        client.submit(noop, i, pure=False).result()
        samples.append((time.time() - start) * 1e6)
    samples.sort()
    print("rtt:    %d tasks one at a time: p50 %.0f us, p99 %.0f us, max %.0f us"
          % (n, samples[n // 2], samples[n * 99 // 100], samples[-1]))
    client.close(); c.close()


def s_sleep():
    c, client = cluster(2, 2)
    start = time.time()
    wait(client.map(sleep_ms, [10] * 2000, pure=False))
    us = time.time() - start
    print("sleep:  2000 x sleep 10 ms on 2 workers x 2 threads: makespan %.3f s, ideal 5.000 s, "
          "%.1f%% of ideal" % (us, 500 / us))
    client.close(); c.close()


def s_steal():
    c, client = cluster(4, 1)
    target = list(client.scheduler_info()["workers"])[0]
    start = time.time()
    futures = client.map(sleep_ms, [10] * 2000, pure=False, workers=[target],
                         allow_other_workers=True)
    addresses = client.gather(futures)
    us = time.time() - start
    stolen = sum(1 for a in addresses if a != target)
    print("steal:  2000 x sleep 10 ms aimed at 1 of 4 workers: %.1f%% stolen, makespan %.3f s "
          "(ideal 5.000 s)" % (100.0 * stolen / 2000, us))
    client.close(); c.close()


def s_mixed():
    c, client = cluster(4, 1)
    durations = [mixed_ms(i) for i in range(2000)]
    start = time.time()
    addresses = client.gather(client.map(sleep_ms, durations, pure=False))
    us = time.time() - start
    util, spread, _ = per_node(addresses, durations, us, 4)
    print("mixed:  2000 x sleep 1..50 ms on 4 workers x 1 thread: utilisation %.1f%%, busy spread "
          "%.1f%%, makespan %.3f s" % (100 * util, 100 * spread, us))
    client.close(); c.close()


def s_fault(sig):
    c, client = cluster(4, 2)
    pids = [w.process.pid for w in c.workers.values()]
    futures = client.map(sleep_ms, [20] * 2000, pure=False)
    start = time.time()
    done = 0
    signalled = None
    pending = set(futures)
    while pending:
        try:
            finished, pending = wait(list(pending), timeout=0.2, return_when="FIRST_COMPLETED")
        except TimeoutError:
            finished = set()
        done += len(finished)
        if signalled is None and done >= 500:
            os.kill(pids[1], sig)
            signalled = time.time()
        if signalled and sig == signal.SIGSTOP and time.time() - signalled > 10 and pending:
            break
    if pending:
        print("stop: 2000 x sleep 20 ms on 4 workers x 2 threads, worker 2 SIGSTOPped after 500 "
              "results: %d tasks still not done 10 s after the signal (stuck with the frozen "
              "worker)" % len(pending))
        os.kill(pids[1], signal.SIGCONT)
        try:
            wait(list(pending), timeout=30)
        except TimeoutError:
            pass
    else:
        us = time.time() - start
        errors = sum(1 for f in futures if f.status != "finished")
        print("%s: 2000 x sleep 20 ms on 4 workers x 2 threads, worker 2 %s after 500 results: "
              "%d not finished; makespan %.3f s"
              % ("kill" if sig == signal.SIGKILL else "stop",
                 "SIGKILLed" if sig == signal.SIGKILL else "SIGSTOPped", errors, us))
    try:
        client.close(); c.close()
    except Exception:
        pass


def main():
    scenario = sys.argv[1] if len(sys.argv) > 1 else "all"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    run = lambda name: scenario in ("all", name)
    if run("noop"):
        s_noop(n)
    if run("rtt"):
        s_rtt(min(n, 2000))
    if run("sleep"):
        s_sleep()
    if run("steal"):
        s_steal()
    if run("mixed"):
        s_mixed()
    if run("kill"):
        s_fault(signal.SIGKILL)
    if run("stop"):
        s_fault(signal.SIGSTOP)


if __name__ == "__main__":
    main()
