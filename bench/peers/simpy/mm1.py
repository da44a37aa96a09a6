#!/usr/bin/python3
"""M/M/1 queue in SimPy -- peer benchmark for sbmpsim (bench/peers).

Model (identical in the sbmpsim and ns-3 versions):
  * one FIFO server, Poisson arrivals with rate lambda = 0.9,
    exponential service times with rate mu = 1.0 (rho = 0.9);
  * exactly N customers arrive; the run ends when all N have departed,
    so the model has 2 events per customer (arrival, departure);
  * Wq = mean time a customer waits in the queue before service starts;
    theory: rho / (mu - lambda) = 9.0.

Written the idiomatic SimPy way: a source process that spawns one process
per customer, and a simpy.Resource(capacity=1) as the server.
Only env.run() is timed (not interpreter start-up or imports).

Run with Debian's python (it sees python3-simpy3 in dist-packages):
  /usr/bin/python3 mm1.py --customers 1000000 --seed 1
Prints one JSON line on stdout.
"""
import argparse
import json
import random
import time

import simpy

LAMBDA = 0.9  # arrival rate
MU = 1.0      # service rate


class Stats:
    def __init__(self):
        self.departed = 0
        self.wait_sum = 0.0


def customer(env, server, rng, stats):
    arrived = env.now
    with server.request() as req:
        yield req                                   # wait for the server
        stats.wait_sum += env.now - arrived
        yield env.timeout(rng.expovariate(MU))      # service
    stats.departed += 1


def source(env, server, rng, n, stats):
    for _ in range(n):
        yield env.timeout(rng.expovariate(LAMBDA))  # inter-arrival time
        env.process(customer(env, server, rng, stats))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    stats = Stats()
    env.process(source(env, server, rng, args.customers, stats))

    t0 = time.perf_counter()
    env.run()                      # runs until no events are left
    wall = time.perf_counter() - t0

    n = stats.departed
    events = 2 * n  # model-level events: one arrival + one departure each
    # SimPy itself schedules more events than that (process start, request,
    # timeouts, release, process end); count them via its private event-id
    # counter, for information only.
    internal = next(env._eid) if hasattr(env, "_eid") else None
    print(json.dumps({
        "sim": "simpy",
        "customers": n,
        "events": events,
        "wall_s": wall,
        "customers_per_s": n / wall,
        "events_per_s": events / wall,
        "wq_mean": stats.wait_sum / n if n else 0.0,
        "simpy_scheduled_events": internal,
    }))


if __name__ == "__main__":
    main()
