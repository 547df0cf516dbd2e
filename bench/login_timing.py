"""Sign-in time for a wrong password, an unknown user name and the right password
(issue 13: an unknown name must cost the same as a wrong password, so the time tells no
one which names exist). In process, on a fresh SQLite demo database: ``authenticate_staff``
``--repeat`` times per case; prints the median and max in ms with the load average."""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from server.db import Database
from server.demo import DEMO_PASSWORD, seed_demo
from server.migrations import upgrade
from server.services.accounts import authenticate_staff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'login.db'}"
    upgrade(url)
    db = Database(url)
    seed_demo(db, tmp)
    cases = (("wrong password", "fo1", "not-the-password"), ("unknown user name", "nobody", "not-the-password"),
             ("right password", "fo1", DEMO_PASSWORD))
    for label, name, password in cases:
        times = []
        for _ in range(args.repeat):
            with db.session() as s:
                start = time.perf_counter()
                authenticate_staff(s, name, password)
                times.append((time.perf_counter() - start) * 1000)
        print(f"{label:18s} median {statistics.median(times):6.1f} ms  max {max(times):6.1f} ms")
    print(f"load average {os.getloadavg()[0]:.1f}")
    db.dispose()


if __name__ == "__main__":
    main()
