"""`python -m tinyscale …` (or the `tinyscale` command): tools for a build in progress.

    tinyscale status results/quick            one line per configuration, then totals and an ETA
    tinyscale status results/quick --json     the same for scripts
"""

from __future__ import annotations

import argparse
import json
import sys

from . import status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tinyscale", description=__doc__.split("\n")[0].split(": ", 1)[1])
    commands = parser.add_subparsers(dest="command", required=True)
    st = commands.add_parser(
        "status", help="where a sweep stands, from the files its runs write",
        description="Where a sweep stands, read from the files its runs write (not from the scheduler), so it "
                    "works on a local build and on a SLURM build on a shared file system alike. One line per "
                    "configuration (family × width × recipe; its seeds are its runs): runs done, running, "
                    "interrupted, failed and pending, seconds per run-epoch (measured; '~' estimated from the "
                    "family's cost model, scaled to the measured ones) and the remaining epochs' time; beneath it "
                    "each running run's epoch, step, speed and ETA, and each stopped one's resume point and the "
                    "log's last error line. The overall ETA is the remaining epochs × seconds per epoch, divided "
                    "by the number of training jobs running now (at least one): it assumes the build keeps "
                    "running as many at once.",
    )
    st.add_argument("results", help="the build's results folder, results/<name>, which holds plan.json")
    st.add_argument("--json", action="store_true", help="print the status as JSON")
    st.add_argument("--stale", type=float, default=status.STALE_S, metavar="SECONDS",
                    help="a run whose job wrote neither heartbeat nor log for this long is not running "
                         f"(default {status.STALE_S:.0f})")
    args = parser.parse_args(argv)
    try:
        result = status.sweep_status(args.results, stale=args.stale)
    except (FileNotFoundError, status.CorruptFile) as exc:
        print(f"tinyscale status: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else status.format_status(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
