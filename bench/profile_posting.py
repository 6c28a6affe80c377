"""Profile the posting service on one thread: cProfile, sorted by own time.

    python bench/profile_posting.py --db sqlite --lines 1 --n 2000
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import time
from datetime import UTC, datetime

import benchlib
from post_throughput import ServicePoster


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--lines", type=int, default=1)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--top", type=int, default=35)
    ap.add_argument("--sort", default="tottime")
    args = ap.parse_args()
    app, _ = benchlib.open_book(args.db, "jxc_bench_profile")
    try:
        world = benchlib.seed_world(app, 1000)
        poster, rng = ServicePoster(app), random.Random(1)
        docs = [benchlib.make_doc(rng, world, args.lines, None) for _ in range(args.n)]
        for d in docs[:50]:
            poster.post(d, datetime.now(UTC))
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        for d in docs[50:]:
            poster.post(d, datetime.now(UTC))
        prof.disable()
        print(f"{(args.n - 50) / (time.perf_counter() - t0):.0f} postings/s under the profiler")
        pstats.Stats(prof).sort_stats(args.sort).print_stats(args.top)
    finally:
        app.dispose()
        if args.db == "postgresql":
            benchlib.drop_pg_database("jxc_bench_profile")


if __name__ == "__main__":
    main()
