"""`python -m tinyscale …` (or the `tinyscale` command): tools for a build in progress.

    tinyscale status results/quick            one line per configuration, then totals and an ETA
    tinyscale status results/quick --json     the same for scripts
    tinyscale forecast results/quick --family scalecnn --params 1e6    the error and cost of an untrained size
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
    fc = commands.add_parser(
        "forecast", help="predict the error of sizes not trained, with an interval and a cost",
        description="Fit one family's runs with at most P parameters and predict each larger size the runs hold "
                    "(its observed error beside it) and each --params size: seed-mean error (a fraction) with a "
                    "prediction interval (seeds resampled per size and refitted, plus the fit's residual scatter) and, "
                    "where run times are known, seconds per epoch and device-hours for the runs' epochs and seeds. "
                    "'auto' picks the form that best predicts the largest fitted sizes from the smaller ones. The "
                    "backtest reports how often such intervals covered the fitted sizes held out in turn.",
    )
    fc.add_argument("runs", help="a results folder (results/<name>, its tables/runs.csv) or a runs file in the "
                                 "reference format (.jsonl)")
    fc.add_argument("--family", required=True, help="the model family, e.g. scalecnn, mobilenetv2 (alias mobilenet)")
    fc.add_argument("--fit-max-params", type=float, metavar="P", help="fit only sizes with at most P parameters "
                                                                       "(default: every size)")
    fc.add_argument("--params", type=float, nargs="+", default=[], metavar="N", help="further sizes to predict")
    fc.add_argument("--form", default="auto", choices=["auto", "power_law", "saturating", "broken"])
    fc.add_argument("--level", type=float, default=0.9, help="nominal coverage of the intervals (default 0.9)")
    fc.add_argument("--samples", type=int, default=400, help="seed resamples per interval (default 400)")
    fc.add_argument("--seed", type=int, default=0, help="seed of the resampling (default 0)")
    fc.add_argument("--json", action="store_true", help="print the forecast as JSON")
    args = parser.parse_args(argv)
    if args.command == "forecast":
        return _forecast(args)
    try:
        result = status.sweep_status(args.results, stale=args.stale)
    except (FileNotFoundError, status.CorruptFile) as exc:
        print(f"tinyscale status: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else status.format_status(result))
    return 0


def _forecast(args) -> int:
    from .analysis import forecast  # numpy and pandas: loaded only for this command, so status stays quick

    if not 0 < args.level < 1:
        print(f"tinyscale forecast: --level must lie between 0 and 1, got {args.level}", file=sys.stderr)
        return 2
    try:
        fam = forecast.family_runs(forecast.read_runs(args.runs), args.family)
        result = forecast.predict_family(fam, args.fit_max_params, args.params, args.form, args.level, args.samples,
                                         args.seed)
    except (FileNotFoundError, ValueError) as exc:
        print(f"tinyscale forecast: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else forecast.format_forecast(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
