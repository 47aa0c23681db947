"""benchmarks/dag_scaling.py: its configs, arithmetic and table, and one small dry run (no timing asserts)."""

import importlib.util
import math

import pytest
from conftest import ROOT

spec = importlib.util.spec_from_file_location("dag_scaling", ROOT / "benchmarks" / "dag_scaling.py")
dag_scaling = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dag_scaling)


def test_sweep_config_has_the_asked_number_of_valid_runs():
    from tinyscale.config import validate_config
    from tinyscale.studies import run_table

    for n in (10, 1000):
        cfg = validate_config(dag_scaling.sweep_config(n, seeds=5))
        assert len(run_table(cfg)) == n
        assert cfg["device"] == "cpu" and cfg["data"]["dataset"] == "digits"


def test_growth_exponent_and_table():
    assert dag_scaling.growth_exponent(100, 1.0, 1000, 10.0) == pytest.approx(1.0)
    assert dag_scaling.growth_exponent(100, 1.0, 1000, 100.0) == pytest.approx(2.0)
    assert dag_scaling.growth_exponent(100, None, 1000, 1.0) is None
    results = dag_scaling.add_growth([
        {"runs": 100, "jobs": 215, "median_s": 2.0, "median_cpu_s": 1.5, "timed_out": False},
        {"runs": 1000, "jobs": None, "median_s": 300.0, "median_cpu_s": None, "timed_out": True},
        {"runs": 10000, "jobs": None, "median_s": 300.0, "median_cpu_s": None, "timed_out": True},
    ])
    assert results[0]["exponent"] is None and results[0]["s_per_1000_runs"] == pytest.approx(20.0)
    assert results[1]["exponent"] == pytest.approx(math.log(150) / math.log(10))  # a lower bound
    assert results[2]["exponent"] is None  # nothing known after a capped size
    table = dag_scaling.format_table(results).splitlines()
    assert len(table) == 4 and ">300.00" in table[2]


def test_planned_jobs_reads_the_job_stats_total():
    assert dag_scaling.planned_jobs("job   count\n-----  -----\ntrain     8\ntotal    31\n") == 31
    assert dag_scaling.planned_jobs("Nothing to be done.") is None


@pytest.mark.workflow
def test_a_small_dry_run_plans_one_job_per_run():
    result = dag_scaling.measure(10, seeds=5, repeats=1, extra=[], timeout=300)
    assert result["runs"] == 10 and not result["timed_out"]
    # one training job per run (it also predicts), then prepare_data, reference, environment,
    # aggregate, analyse_width_sweep, 8 figures (the forecast's backtest among them), numbers,
    # render, compile, the arXiv archive, the report's captions and all: 19
    assert result["jobs"] == 10 + 19
