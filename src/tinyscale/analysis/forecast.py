"""Forecast the error of sizes not trained, with a prediction interval and a training cost, and
measure how well such forecasts would have done by backtesting on the sizes that were trained.

Three forms of error against parameters N, each fitted to seed-mean errors:

- `power_law`   E = C·N^−α: the paper's OLS of log10(error) on log10(N) (scaling.fit_power_law).
- `saturating`  E = E∞ + a·N^−α, E∞ ≥ 0, a ≥ 0: least squares on relative residuals (E − Ê)/E,
                which are the log residuals to first order, solved by profiling over α (for a
                fixed α the model is linear in E∞ and a): the global minimum, no starting point.
- `broken`      a smoothly broken power law with one break (Caballero et al. 2022, arXiv
                2210.14891, with its floor at 0): log10 E = b − c0·x − c1·f·log10(1 + 10^((x−d)/f)),
                x = log10 N; slope −c0 below the break d and −(c0 + c1) above. The smoothness f is
                fixed (BROKEN_SMOOTHNESS): fitting it as well needs more sizes than a sweep has. For a
                fixed d the model is linear in (b, c0, c1), so d is profiled over the fitted range.

`auto` picks a form by leaving the largest fitted sizes out and predicting them from the rest,
never by in-sample fit. Intervals are prediction intervals for the seed-mean error at a new size:
the spread of refits to seeds resampled per size, plus the fit's residual scatter (Student t).
Everything random draws from a seeded numpy Generator, so a forecast is deterministic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import families
from . import scaling

FORMS = ("power_law", "saturating", "broken")
# Free parameters of each form; a fit needs one size more, so that it can miss (scaling.MIN_SIZES).
N_PARAMS = {"power_law": 2, "saturating": 3, "broken": 4}
MIN_SIZES = {form: k + 1 for form, k in N_PARAMS.items()}
LEVEL = 0.9  # nominal coverage of a prediction interval
BOOTSTRAP = 400  # seed resamples per interval: ±1.5% on a 90% quantile's coverage, a few ms per fit
BROKEN_SMOOTHNESS = 0.3  # decades of N over which the broken power law turns from one slope to the other
HOLDOUT = 3  # the paper's headline split holds out this many of a family's largest sizes
NEXT_FACTORS = (2, 4)  # the build's next sizes: the largest width doubled, and doubled again
_ALPHAS = np.geomspace(0.005, 4.0, 120)  # the saturating form's α grid, refined around its best point
_FINE = 11  # points of each refining grid, one step of the grid before either side of the best
_LEVELS = 4  # refinements: each narrows the step fivefold, to 1/625 of the coarse grid's
_MIN_SPREAD = 1e-9  # dex: an interval is never empty, even on noiseless data

READER_FIELDS = ("arch", "size_param", "seed", "num_params", "top1_acc")
ALIASES = {"mobilenet": "mobilenetv2"}  # the original's name for MobileNetV2


# --- reading runs --------------------------------------------------------------------------------

def family_name(name: str) -> str:
    """A registered family from its name or the original's alias for it; the error names both."""
    name = ALIASES.get(name, name)
    families.get(name)  # raises, naming the registered families
    return name


def read_reference_runs(path: str | Path) -> pd.DataFrame:
    """Runs in the reference format (JSON Lines, one run an object): only `arch`, `size_param`,
    `seed`, `num_params` and `top1_acc` are needed; `mean_epoch_time_s` and `epochs` are used where present."""
    rows = []
    for i, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}, line {i}: not a JSON object ({exc})") from exc
        missing = [k for k in READER_FIELDS if k not in r]
        if missing:
            raise ValueError(f"{path}, line {i}: missing {', '.join(missing)}; a run in the reference format needs "
                             f"{', '.join(READER_FIELDS)}")
        arch = ALIASES.get(r["arch"], r["arch"])
        rows.append({
            "arch": arch, "width": float(r["size_param"]), "seed": int(r["seed"]), "params": int(r["num_params"]),
            "error": 1.0 - float(r["top1_acc"]),
            "seconds_per_epoch": float(r["mean_epoch_time_s"]) if r.get("mean_epoch_time_s") is not None else np.nan,
            "epochs": float(r["epochs"]) if r.get("epochs") is not None else np.nan,
            "device": r.get("device", "the original's GPU (unstated)" if "mean_epoch_time_s" in r else ""),
        })
    if not rows:
        raise ValueError(f"{path}: no runs in it")
    return pd.DataFrame(rows)


def runs_from_table(runs: pd.DataFrame) -> pd.DataFrame:
    """This build's runs table (analysis.aggregate.RUN_COLUMNS) in the forecast's columns: the seconds
    per epoch are run.json's wall time over the epochs it trained."""
    epochs = runs["epochs"].astype(float)
    per_epoch = runs["wall_time_s"].astype(float) / epochs.where(epochs > 0)
    return pd.DataFrame({
        "arch": runs["arch"].map(lambda a: ALIASES.get(a, a)), "width": runs["width"].astype(float),
        "seed": runs["seed"].astype(int), "params": runs["params"].astype(int), "error": runs["error"].astype(float),
        "seconds_per_epoch": per_epoch, "epochs": epochs, "device": runs["device"].astype(str),
    })


def read_runs(path: str | Path) -> pd.DataFrame:
    """A results folder (its tables/runs.csv), a runs table (.csv) or a runs file in the reference format (.jsonl)."""
    path = Path(path)
    if path.is_dir():
        table = path / "tables" / "runs.csv"
        if not table.exists():
            raise FileNotFoundError(f"{table} does not exist: build the sweep's runs table first "
                                    f"(snakemake {table}), or pass a runs file in the reference format")
        path = table
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: pass results/<name> or a runs file (.jsonl or .csv)")
    if path.suffix == ".csv":
        return runs_from_table(pd.read_csv(path))
    return read_reference_runs(path)


# --- the three forms, fitted to many error vectors at once ----------------------------------------

def _solve_saturating(e: np.ndarray, lx: np.ndarray, alphas: np.ndarray):
    """For each row of `e` (B×K errors) and each of its α (B×G): the E∞ ≥ 0, a ≥ 0 that minimise
    Σ((e − E∞ − a·z)/e)², z = exp(−α·lx); returns (loss, E∞, a), each B×G."""
    w = 1.0 / e**2
    z = np.exp(-alphas[:, :, None] * lx[None, None, :])  # B×G×K
    W, Se, See = w.sum(1)[:, None], (w * e).sum(1)[:, None], (w * e * e).sum(1)[:, None]
    Sz, Szz, Sze = (w[:, None] * z).sum(2), (w[:, None] * z * z).sum(2), (w[:, None] * z * e[:, None]).sum(2)
    det = W * Szz - Sz**2
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = (Szz * Se - Sz * Sze) / det
        a = (W * Sze - Sz * Se) / det
        no_floor = ~(floor >= 0)  # also where det = 0 (z constant): fit a alone
        a = np.where(no_floor, Sze / Szz, a)
        floor = np.where(no_floor, 0.0, floor)
    flat = ~(a >= 0)  # error rising with N: the best a ≥ 0 is 0, a constant
    a = np.where(flat, 0.0, a)
    floor = np.where(flat, Se / W, floor)
    loss = See - 2 * floor * Se - 2 * a * Sze + floor**2 * W + 2 * floor * a * Sz + a**2 * Szz
    return loss, floor, a


def _fit_saturating(e: np.ndarray, lx: np.ndarray):
    """(E∞, a, α) per row of e (B×K), lx = ln(N/N0); the coarse grid's best α, then a finer grid around it."""
    coarse = np.broadcast_to(_ALPHAS, (len(e), len(_ALPHAS)))
    loss, _, _ = _solve_saturating(e, lx, coarse)
    best = _ALPHAS[np.argmin(loss, axis=1)]
    step = np.log(_ALPHAS[1] / _ALPHAS[0])
    rows = np.arange(len(e))
    for _ in range(_LEVELS):
        fine = best[:, None] * np.exp(np.linspace(-step, step, _FINE))[None, :]
        loss, floor, a = _solve_saturating(e, lx, fine)
        i = np.argmin(loss, axis=1)
        best, step = fine[rows, i], step / (_FINE // 2)
    return floor[rows, i], a[rows, i], best


def _softplus10(x, d, f):
    """f·log10(1 + 10^((x − d)/f)), overflow-free."""
    t = (x - d) / f
    return f * (np.maximum(t, 0) + np.log10(1 + 10 ** -np.abs(t)))


def _solve_broken(y: np.ndarray, x: np.ndarray, breaks: np.ndarray, f: float):
    """For each row of y (B×K log10 errors) and each of its breaks (B×G): OLS of y on
    [1, −x, −h(x; d)]; returns (loss B×G, coefficients B×G×3)."""
    X = np.stack(np.broadcast_arrays(np.ones_like(x)[None, None, :], -x[None, None, :],
                                     -_softplus10(x[None, None, :], breaks[:, :, None], f)), axis=-1)  # B×G×K×3
    XtX = np.einsum("bgki,bgkj->bgij", X, X) + 1e-12 * np.eye(3)
    Xty = np.einsum("bgki,bk->bgi", X, y)
    coef = np.linalg.solve(XtX, Xty[..., None])[..., 0]
    resid = y[:, None, :] - np.einsum("bgki,bgi->bgk", X, coef)
    return (resid**2).sum(-1), coef


def _fit_broken(y: np.ndarray, x: np.ndarray, f: float = BROKEN_SMOOTHNESS):
    """(b, c0, c1, d) per row of y (B×K); the break lies between the second smallest and the
    second largest size, where both slopes are seen by data."""
    xs = np.sort(x)
    grid = np.linspace(xs[1], xs[-2], 40)
    loss, _ = _solve_broken(y, x, np.broadcast_to(grid, (len(y), len(grid))), f)
    best = grid[np.argmin(loss, axis=1)]
    step = grid[1] - grid[0]
    rows = np.arange(len(y))
    for _ in range(_LEVELS):
        fine = np.clip(best[:, None] + np.linspace(-step, step, _FINE)[None, :], xs[1], xs[-2])
        loss, coef = _solve_broken(y, x, fine, f)
        i = np.argmin(loss, axis=1)
        best, step = fine[rows, i], step / (_FINE // 2)
    return coef[rows, i, 0], coef[rows, i, 1], coef[rows, i, 2], best


@dataclass(frozen=True)
class Fit:
    """One form fitted to errors at sizes N; `curves(n)` gives log10 error, one row per fitted vector."""
    form: str
    coef: dict  # name → array, one entry per fitted error vector
    centre: float = 0.0  # the fit's reference point in log10 N (the saturating form's N0)

    def log10_error(self, n) -> np.ndarray:
        x = np.log10(np.asarray(n, dtype=np.float64))[None, :]
        c = {k: np.asarray(v, dtype=np.float64)[:, None] for k, v in self.coef.items()}
        if self.form == "power_law":
            return c["log10_C"] - c["alpha"] * x
        if self.form == "saturating":
            with np.errstate(divide="ignore"):
                return np.log10(c["E_inf"] + c["a"] * 10 ** (-c["alpha"] * (x - self.centre)))
        return c["b"] - c["c0"] * x - c["c1"] * _softplus10(x, c["log10_break"], BROKEN_SMOOTHNESS)

    def predict(self, n) -> np.ndarray:
        """Error (fraction) at sizes n for the first fitted vector."""
        return 10 ** self.log10_error(n)[0]

    def summary(self) -> dict:
        """The first vector's coefficients as plain floats (and what they mean), for JSON."""
        c = {k: float(np.asarray(v)[0]) for k, v in self.coef.items()}
        if self.form == "power_law":
            return {"alpha": c["alpha"], "coef": 10 ** c["log10_C"]}
        if self.form == "saturating":
            return {"E_inf": c["E_inf"], "a": c["a"], "alpha": c["alpha"], "N0": 10**self.centre}
        return {"alpha_below": c["c0"], "alpha_above": c["c0"] + c["c1"], "break_params": 10 ** c["log10_break"],
                "coef": 10 ** c["b"], "smoothness_decades": BROKEN_SMOOTHNESS}


def fit_many(form: str, n_params, errors) -> Fit:
    """Fit `form` to each row of `errors` (B×K seed-mean errors at the K sizes `n_params`)."""
    n = np.asarray(n_params, dtype=np.float64)
    e = np.atleast_2d(np.asarray(errors, dtype=np.float64))
    if len(np.unique(n)) < MIN_SIZES[form]:
        raise ValueError(f"the {form} form has {N_PARAMS[form]} parameters, so it needs at least "
                         f"{MIN_SIZES[form]} sizes; got {len(np.unique(n))}")
    x, y = np.log10(n), np.log10(e)
    if form == "power_law":
        xc = x - x.mean()
        slope = (y - y.mean(1, keepdims=True)) @ xc / (xc @ xc)
        return Fit(form, {"alpha": -slope, "log10_C": y.mean(1) - slope * x.mean()})
    if form == "saturating":
        centre = float(x.mean())
        floor, a, alpha = _fit_saturating(e, (x - centre) * np.log(10))
        # ln-space α·(x − centre)·ln10 = α·ln(N/N0): the same α as E = E∞ + a·(N/N0)^−α
        return Fit(form, {"E_inf": floor, "a": a, "alpha": alpha}, centre)
    if form == "broken":
        b, c0, c1, d = _fit_broken(y, x)
        return Fit(form, {"b": b, "c0": c0, "c1": c1, "log10_break": d})
    raise ValueError(f"unknown form {form!r}; choose one of {', '.join(FORMS)} or auto")


def fit_form(form: str, n_params, errors) -> Fit:
    """Fit `form` to one vector of seed-mean errors; the power law is exactly the paper's fit."""
    if form == "power_law":
        pl = scaling.fit_power_law(n_params, errors)
        return Fit(form, {"alpha": np.array([pl.alpha]), "log10_C": np.array([np.log10(pl.coef)])})
    return fit_many(form, n_params, errors)


# --- choosing a form ------------------------------------------------------------------------------

@dataclass
class Choice:
    form: str
    reason: str
    scores: dict = field(default_factory=dict)  # form → mean absolute error (points) over the inner splits
    holdouts: list = field(default_factory=list)  # how many of the largest sizes each inner split left out


def choose_form(n_params, errors, forms=FORMS) -> Choice:
    """The form whose fits to the smaller sizes best predict the larger ones, among the fitted sizes.

    Inner splits leave out the largest 1, 2, … sizes in turn and predict them from the rest; every
    candidate is scored on the same splits (mean absolute error in points over all predictions), so
    a form needing more sizes than the smallest split has is dropped first. Ties go to the simpler form.
    """
    n = np.asarray(n_params, dtype=np.float64)
    e = np.asarray(errors, dtype=np.float64)
    order = np.argsort(n)
    n, e = n[order], e[order]
    k = len(n)
    candidates = [f for f in FORMS if f in forms and k >= MIN_SIZES[f]]
    dropped = []
    while candidates and k - max(MIN_SIZES[f] for f in candidates) < 1:
        dropped.append(candidates.pop())  # FORMS is ordered simplest first
    if len(candidates) < 2:
        form = candidates[0] if candidates else "power_law"
        return Choice(form, f"{k} fitted sizes leave too few to backtest one form against another "
                            f"(each needs one size more than its parameters, plus one to predict), so the simplest")
    holdouts = list(range(1, k - max(MIN_SIZES[f] for f in candidates) + 1))
    scores = {}
    for form in candidates:
        misses = []
        for m in holdouts:
            fit = fit_form(form, n[:-m], e[:-m])
            misses.extend(np.abs(fit.predict(n[-m:]) - e[-m:]) * 100)
        scores[form] = float(np.mean(misses))
    best = min(candidates, key=lambda f: (scores[f], candidates.index(f)))
    others = ", ".join(f"{f.replace('_', ' ')} {scores[f]:.2f}" for f in candidates if f != best)
    split = f"the largest {holdouts[0]}" if len(holdouts) == 1 else f"the largest {holdouts[0]} to {holdouts[-1]}"
    why = (f"the lowest mean absolute error ({scores[best]:.2f} points) when {split} of the "
           f"{k} fitted sizes are left out in turn and predicted from the rest ({others})")
    if dropped:
        why += f"; {', '.join(d.replace('_', ' ') for d in dropped)} not tried, as too few sizes remain to backtest it"
    return Choice(best, why, scores, holdouts)


# --- prediction intervals -------------------------------------------------------------------------

@dataclass
class Forecast:
    form: str
    fit: Fit
    params: np.ndarray  # the predicted sizes
    error: np.ndarray  # point predictions (fractions)
    lo: np.ndarray
    hi: np.ndarray
    scatter: float  # the fit's residual scatter, log10 (ddof = its parameters)
    level: float


def seed_matrix(fam: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(params per size, all-seed mean error per size, errors sizes × the seeds every size has)."""
    means = fam.groupby("params")["error"].mean()
    table = fam.pivot_table(index="params", columns="seed", values="error").dropna(axis=1)
    return means.index.to_numpy(float), means.to_numpy(float), table.loc[means.index].to_numpy(float)


def forecast(form: str, n_params, mean_errors, seed_errors, targets, level: float = LEVEL,
             samples: int = BOOTSTRAP, rng: np.random.Generator | None = None) -> Forecast:
    """Point predictions of `form` fitted to `mean_errors` at `n_params`, with prediction intervals.

    The interval adds two things in log10 error: how the fitted curve moves when each size's seeds
    are resampled with replacement and the form refitted (scaled by √(S/(S−1)), the bootstrap's
    shrinkage of a mean's variance over S seeds), and a new size's own scatter about the curve,
    the fit's residual scatter times a Student t on its residual degrees of freedom. The interval is
    centred on the point prediction, so that lo < error < hi always.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    n = np.asarray(n_params, dtype=np.float64)
    means = np.asarray(mean_errors, dtype=np.float64)
    seeds = np.asarray(seed_errors, dtype=np.float64)
    t = np.asarray(targets, dtype=np.float64)
    fit = fit_form(form, n, means)
    point = fit.log10_error(t)[0]
    resid = np.log10(means) - fit.log10_error(n)[0]
    dof = len(n) - N_PARAMS[form]
    scatter = float(np.sqrt((resid**2).sum() / dof))
    spread = np.zeros((samples, len(t)))
    s = seeds.shape[1] if seeds.ndim == 2 else 0
    if s >= 2:
        picks = rng.integers(0, s, size=(samples, len(n), s))
        resampled = np.take_along_axis(seeds[None, :, :], picks, axis=2).mean(axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            curves = fit_many(form, n, resampled).log10_error(t)
        spread = (curves - np.nanmedian(curves, axis=0)) * np.sqrt(s / (s - 1))
    total = spread + scatter * rng.standard_t(dof, size=spread.shape)
    total -= np.nanmedian(total, axis=0)
    tail = (1 - level) / 2
    q_lo = np.minimum(np.nanquantile(total, tail, axis=0), -_MIN_SPREAD)
    q_hi = np.maximum(np.nanquantile(total, 1 - tail, axis=0), _MIN_SPREAD)
    return Forecast(form, fit, t, 10**point, 10 ** (point + q_lo), 10 ** (point + q_hi), scatter, level)


# --- cost -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CostModel:
    """Seconds per epoch = C·N^β, an OLS line in log10–log10 over runs with a measured time."""
    beta: float
    coef: float
    scatter: float  # residual std of log10(seconds), ddof 2
    epochs: float | None  # the sweep's epochs per run (their median)
    seeds: int  # seeds per size (the most any size has)
    device: str
    n_runs: int

    def seconds_per_epoch(self, n) -> np.ndarray:
        return self.coef * np.asarray(n, dtype=np.float64) ** self.beta

    def device_hours(self, n) -> np.ndarray | None:
        """One size's training: its epochs times its seeds, on the device the times were measured on."""
        if self.epochs is None:
            return None
        return self.seconds_per_epoch(n) * self.epochs * self.seeds / 3600


def fit_cost(fam: pd.DataFrame) -> CostModel | None:
    """The family's cost model from runs with a measured time, or None without two timed sizes."""
    timed = fam[np.isfinite(fam["seconds_per_epoch"]) & (fam["seconds_per_epoch"] > 0)]
    if timed["params"].nunique() < 2:
        return None
    x, y = np.log10(timed["params"].to_numpy(float)), np.log10(timed["seconds_per_epoch"].to_numpy(float))
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (intercept + slope * x)
    epochs = timed["epochs"].dropna()
    return CostModel(
        beta=float(slope), coef=float(10**intercept), scatter=float(np.sqrt((resid**2).sum() / max(len(x) - 2, 1))),
        epochs=float(epochs.median()) if len(epochs) else None, seeds=int(fam.groupby("params")["seed"].nunique().max()),
        device="; ".join(sorted({str(d) for d in timed["device"] if str(d) not in ("", "nan")})), n_runs=len(timed),
    )


# --- one family's forecast, and its backtest ------------------------------------------------------

def family_runs(runs: pd.DataFrame, family: str) -> pd.DataFrame:
    family = family_name(family)
    fam = runs[runs["arch"] == family]
    if fam.empty:
        have = ", ".join(sorted(runs["arch"].unique()))
        raise ValueError(f"no runs of {family} in these runs (they hold: {have})")
    return fam


def _refusal(n, e, form: str) -> str | None:
    if len(np.unique(n)) < MIN_SIZES[form]:
        return f"{len(np.unique(n))} size(s) fitted; the {form.replace('_', ' ')} form needs at least {MIN_SIZES[form]}"
    if not (np.all(e > 0) and np.all(e < 1)):
        return "every seed-mean error must lie strictly between 0 and 1"
    return None


def predict_family(fam: pd.DataFrame, fit_max_params: float | None = None, extra_params=(), form: str = "auto",
                   level: float = LEVEL, samples: int = BOOTSTRAP, seed: int = 0, backtest: bool = True) -> dict:
    """Fit one family's runs with at most `fit_max_params` parameters and predict each larger size the
    runs hold (observed error beside it) and each of `extra_params`; JSON-ready."""
    rng = np.random.default_rng(seed)
    inside = fam if fit_max_params is None else fam[fam["params"] <= fit_max_params]
    n, means, seeds = seed_matrix(inside)
    chosen_form, reason = form, "as asked"
    if form == "auto":
        choice = choose_form(n, means)
        chosen_form, reason = choice.form, choice.reason
    refusal = _refusal(n, means, chosen_form)
    if refusal:
        raise ValueError(f"cannot fit {chosen_form}: {refusal}")
    held = fam[fam["params"] > n.max()].groupby("params").agg(width=("width", "first"), observed=("error", "mean"))
    targets = sorted(set(held.index.astype(float)) | {float(p) for p in extra_params})
    fc = forecast(chosen_form, n, means, seeds, targets, level, samples, rng) if targets else None
    cost = fit_cost(inside)
    widths = inside.groupby("params")["width"].first()
    predictions = []
    for i, p in enumerate(targets):
        row = {"params": int(p), "width": float(held.loc[p, "width"]) if p in held.index else None,
               "error": float(fc.error[i]), "lo": float(fc.lo[i]), "hi": float(fc.hi[i]),
               "observed": float(held.loc[p, "observed"]) if p in held.index else None}
        if row["observed"] is not None:
            row["abs_error_points"] = abs(row["error"] - row["observed"]) * 100
            row["covered"] = bool(row["lo"] < row["observed"] < row["hi"])
        if cost:
            row["seconds_per_epoch"] = float(cost.seconds_per_epoch(p))
            hours = cost.device_hours(p)
            row["device_hours"] = None if hours is None else float(hours)
        predictions.append(row)
    fit = fc.fit if fc else fit_form(chosen_form, n, means)
    resid = np.log10(means) - fit.log10_error(n)[0]
    out = {
        "family": fam["arch"].iloc[0], "form": chosen_form, "reason": reason, "level": level,
        "fit": {**fit.summary(), "n_sizes": len(n), "fit_max_params": int(n.max()),
                "fitted": [{"params": int(p), "width": float(widths[p]), "error": float(m)} for p, m in zip(n, means)],
                "scatter_log10": float(np.sqrt((resid**2).sum() / (len(n) - N_PARAMS[chosen_form])))},
        "predictions": predictions,
        "cost": None if cost is None else {"seconds_per_epoch_exponent": cost.beta, "seconds_per_epoch_coef": cost.coef,
                                            "scatter_log10": cost.scatter, "epochs": cost.epochs, "seeds": cost.seeds,
                                            "device": cost.device, "n_runs": cost.n_runs},
        "backtest": None,
    }
    if backtest:
        bt = backtest_family(inside, forms=(chosen_form,), level=level, samples=samples, seed=seed, auto=False)
        out["backtest"] = backtest_summary(bt, chosen_form) if len(bt) else None
    return out


BACKTEST_COLUMNS = ["arch", "form", "chosen", "k", "fit_max_params", "fit_max_width", "params", "width",
                    "observed", "error", "lo", "hi", "covered", "abs_error_points"]


def backtest_family(fam: pd.DataFrame, forms=FORMS, level: float = LEVEL, samples: int = BOOTSTRAP, seed: int = 0,
                    auto: bool = True) -> pd.DataFrame:
    """For every split k (fit the k smallest sizes, predict the rest) and every form that k sizes can
    fit (and `auto`): each held-out size's prediction, interval, observed seed-mean error, whether the
    interval covered it and the absolute error in points."""
    n_all, means_all, seeds_all = seed_matrix(fam)
    widths = fam.groupby("params")["width"].first()
    rows = []
    for k in range(MIN_SIZES["power_law"], len(n_all)):
        n, means, seeds = n_all[:k], means_all[:k], seeds_all[:k]
        targets, observed = n_all[k:], means_all[k:]
        choice = choose_form(n, means) if auto else None
        todo = [(f, f) for f in forms] + ([("auto", choice.form)] if auto else [])
        for name, form in todo:
            if _refusal(n, means, form):
                continue
            fc = forecast(form, n, means, seeds, targets, level, samples, np.random.default_rng([seed, k]))
            for p, obs, err, lo, hi in zip(targets, observed, fc.error, fc.lo, fc.hi):
                rows.append({"arch": fam["arch"].iloc[0], "form": name, "chosen": form, "k": k,
                             "fit_max_params": int(n[-1]), "fit_max_width": float(widths[n[-1]]), "params": int(p),
                             "width": float(widths[p]), "observed": float(obs), "error": float(err), "lo": float(lo),
                             "hi": float(hi), "covered": bool(lo < obs < hi), "abs_error_points": abs(err - obs) * 100})
    return pd.DataFrame(rows, columns=BACKTEST_COLUMNS)


def backtest_summary(bt: pd.DataFrame, form: str | None = None) -> dict:
    """Predictions, how many the intervals covered, and the mean absolute error in points."""
    rows = bt if form is None else bt[bt["form"] == form]
    if rows.empty:
        return None
    return {"n": len(rows), "n_covered": int(rows["covered"].sum()), "coverage": float(rows["covered"].mean()),
            "mae_points": float(rows["abs_error_points"].mean()), "max_points": float(rows["abs_error_points"].max()),
            "splits": sorted(int(k) for k in rows["k"].unique())}


# --- the paper's numbers --------------------------------------------------------------------------

def next_sizes(fam: pd.DataFrame, factors=NEXT_FACTORS) -> list[tuple[float, float]]:
    """(width, estimated N) of the largest width times each factor. N is extrapolated from a quadratic
    in width through the trained sizes (exact for ScaleCNN, whose count is quadratic in c; close for
    MobileNetV2, whose channel rounding bends it slightly); fewer sizes give a lower degree."""
    sizes = fam.groupby("width")["params"].first().sort_index()
    w, p = sizes.index.to_numpy(float), sizes.to_numpy(float)
    if len(w) == 1:
        return [(w[0] * f, p[0] * f**2) for f in factors]
    poly = np.polyfit(w, p, min(2, len(w) - 1))
    return [(w[-1] * f, float(np.polyval(poly, w[-1] * f))) for f in factors]


def _family_backtest_numbers(bt: pd.DataFrame, n_sizes: int) -> dict:
    forms = [*FORMS, "auto"]
    splits = []
    for k, g in bt.groupby("k"):
        auto = g[g["form"] == "auto"]
        splits.append({"k": int(k), "fit_max_width": float(g["fit_max_width"].iloc[0]),
                       "fit_max_params": int(g["fit_max_params"].iloc[0]), "n_predicted": int(g["params"].nunique()),
                       "auto_chose": auto["chosen"].iloc[0] if len(auto) else None,
                       "forms": {f: backtest_summary(g, f) for f in forms}})
    head_k = n_sizes - HOLDOUT
    head = bt[bt["k"] == head_k]
    return {
        "n_sizes": n_sizes, "splits": splits, "forms": {f: backtest_summary(bt, f) for f in forms},
        "headline": None if head.empty else {
            "k": head_k, "n_predicted": int(head["params"].nunique()),
            "fit_max_width": float(head["fit_max_width"].iloc[0]), "fit_max_params": int(head["fit_max_params"].iloc[0]),
            "auto_chose": head.loc[head["form"] == "auto", "chosen"].iloc[0] if (head["form"] == "auto").any() else None,
            "forms": {f: backtest_summary(head, f) for f in forms},
        },
    }


def reference_backtest(runs: pd.DataFrame, level: float = LEVEL, samples: int = BOOTSTRAP, seed: int = 0):
    """(backtest table, numbers) of every family in `runs` (the forecast's columns; runs_from_table);
    the numbers are None when no family has more sizes than a fit needs."""
    tables, out = [], {}
    for arch in [a for a in families.FAMILIES if a in set(runs["arch"])]:
        fam = runs[runs["arch"] == arch]
        bt = backtest_family(fam, level=level, samples=samples, seed=seed)
        if bt.empty:
            continue
        tables.append(bt)
        out[arch] = {"label": families.get(arch).label, **_family_backtest_numbers(bt, fam["params"].nunique())}
    if not tables:  # no family has a size more than a fit needs: nothing to backtest
        return pd.DataFrame(columns=BACKTEST_COLUMNS), None
    table = pd.concat(tables, ignore_index=True)
    return table, {"families": out, "forms": {f: backtest_summary(table, f) for f in [*FORMS, "auto"]}}


NEXT_COLUMNS = ["arch", "form", "width", "params", "error", "lo", "hi", "seconds_per_epoch", "device_hours"]


def next_forecast(runs: pd.DataFrame, level: float = LEVEL, samples: int = BOOTSTRAP, seed: int = 0, num_classes=None):
    """(table, numbers): each family's next sizes (next_sizes) forecast from all its trained sizes by
    the chosen form, with its training cost. A family that cannot be fitted says why."""
    rows, out = [], {}
    for arch in [a for a in families.FAMILIES if a in set(runs["arch"])]:
        fam = runs[runs["arch"] == arch]
        n, means, _ = seed_matrix(fam)
        why = scaling.fit_refusal(n, means, num_classes) if num_classes else _refusal(n, means, "power_law")
        if why:
            out[arch] = {"label": families.get(arch).label, "skipped": why}
            continue
        sizes = next_sizes(fam)
        fc = predict_family(fam, None, [p for _, p in sizes], "auto", level, samples, seed, backtest=False)
        by_params = {p["params"]: p for p in fc["predictions"]}
        table = []
        for width, p in sizes:
            pred = by_params[int(p)]
            table.append({"arch": arch, "form": fc["form"], "width": width, "params": int(p), "error": pred["error"],
                          "lo": pred["lo"], "hi": pred["hi"], "seconds_per_epoch": pred.get("seconds_per_epoch"),
                          "device_hours": pred.get("device_hours")})
        rows += table
        out[arch] = {"label": families.get(arch).label, "skipped": None, "form": fc["form"], "reason": fc["reason"],
                     "n_sizes": fc["fit"]["n_sizes"], "cost": fc["cost"], "rows": table}
    return pd.DataFrame(rows, columns=NEXT_COLUMNS), out


def format_forecast(result: dict) -> str:
    """The forecast as a reader wants it: the fit, one line per predicted size, the backtest."""
    fam = families.get(result["family"])
    fit = result["fit"]
    coefs = ", ".join(f"{k} {v:.4g}" for k, v in fit.items() if isinstance(v, float) and k != "scatter_log10")
    lines = [f"{fam.label}: {fit['n_sizes']} sizes fitted (N ≤ {fit['fit_max_params']:,}), form {result['form']}",
             f"  why: {result['reason']}", f"  fit: {coefs}; residual scatter {fit['scatter_log10']:.4f} in log10",
             f"  {'width':>7} {'params':>12} {'error':>7} {int(result['level'] * 100)}% interval"
             f"{'':>7}{'observed':>9} {'s/epoch':>8} {'device-h':>9}"]
    for p in result["predictions"]:
        width = "" if p["width"] is None else fam.width_label(fam.cast_width(p["width"]))
        observed = "" if p["observed"] is None else f"{p['observed']:.4f}" + (" ✓" if p["covered"] else " ✗")
        sec = f"{p['seconds_per_epoch']:.3g}" if p.get("seconds_per_epoch") is not None else "--"
        hours = f"{p['device_hours']:.3g}" if p.get("device_hours") is not None else "--"
        lines.append(f"  {width:>7} {p['params']:>12,} {p['error']:7.4f} [{p['lo']:.4f}, {p['hi']:.4f}]"
                     f"  {observed:>9} {sec:>8} {hours:>9}")
    if result["cost"]:
        c = result["cost"]
        lines.append(f"  cost: seconds per epoch ∝ N^{c['seconds_per_epoch_exponent']:.3f} over {c['n_runs']} timed runs"
                     f" on {c['device'] or 'an unnamed device'}; device-hours for {c['epochs']:g} epochs × {c['seeds']} seeds"
                     if c["epochs"] else f"  cost: seconds per epoch ∝ N^{c['seconds_per_epoch_exponent']:.3f}; epochs unknown")
    bt = result["backtest"]
    lines.append("  backtest: no split of the fitted sizes leaves enough to fit" if not bt else
                 f"  backtest (fit the k smallest fitted sizes, predict the rest; k = {', '.join(map(str, bt['splits']))}): "
                 f"{bt['n_covered']} of {bt['n']} intervals covered, mean absolute error {bt['mae_points']:.2f} points")
    return "\n".join(lines)


def study_forecast(runs: pd.DataFrame, reference_runs: pd.DataFrame | None, num_classes: int,
                   samples: int = BOOTSTRAP, seed: int = 0) -> tuple[dict[str, pd.DataFrame], dict]:
    """The width sweep's forecast: its own next sizes, and the backtest on the original's released
    runs (None without them). Both take runs tables (aggregate.RUN_COLUMNS); returns (tables, numbers)."""
    from .width_sweep import _clean  # numbers.json never holds a NaN

    next_table, next_numbers = next_forecast(runs_from_table(runs), LEVEL, samples, seed, num_classes)
    numbers = {"level": LEVEL, "bootstrap": samples, "holdout": HOLDOUT, "next_factors": list(NEXT_FACTORS),
               "smoothness": BROKEN_SMOOTHNESS, "forms": list(FORMS), "next": next_numbers, "backtest": None}
    backtest = pd.DataFrame(columns=BACKTEST_COLUMNS)
    if reference_runs is not None:
        backtest, numbers["backtest"] = reference_backtest(runs_from_table(reference_runs), LEVEL, samples, seed)
    return {"forecast_next": next_table, "forecast_backtest": backtest}, _clean(numbers)
