import numpy as np
import pytest

from tinyscale.analysis import scaling


def test_exact_power_law_is_recovered():
    n = np.array([1e4, 1e5, 1e6, 1e7])
    fit = scaling.fit_power_law(n, 2.0 * n**-0.15)
    assert fit.alpha == pytest.approx(0.15) and fit.coef == pytest.approx(2.0)
    assert fit.r2 == pytest.approx(1.0) and np.allclose(fit.residuals, 0, atol=1e-12)
    assert fit.predict([1e5]) == pytest.approx(2.0 * 1e5**-0.15)


def test_r2_and_residuals_hand_computed():
    # log10 N = 0, 1, 2; log10 err = 0, −1, −1 → slope −0.5, intercept −1/6
    fit = scaling.fit_power_law([1, 10, 100], [1.0, 0.1, 0.1])
    assert fit.alpha == pytest.approx(0.5) and fit.coef == pytest.approx(10 ** (-1 / 6))
    assert fit.residuals == pytest.approx([1 / 6, -1 / 3, 1 / 6])
    assert fit.r2 == pytest.approx(1 - (1 / 36 + 1 / 9 + 1 / 36) / (4 / 9 + 1 / 9 + 1 / 9))


def test_fit_needs_two_sizes():
    with pytest.raises(ValueError, match="two distinct sizes"):
        scaling.fit_power_law([10], [0.5])


def test_local_exponents():
    le = scaling.local_exponents([100, 10, 1000], [0.4, 0.8, 0.2])
    assert le["n_mid"].tolist() == pytest.approx([np.sqrt(1000), np.sqrt(1e5)])
    assert le["exponent"].tolist() == pytest.approx([np.log10(2)] * 2)


def test_per_seed_alphas_and_bootstrap():
    n = np.array([1e3, 1e4, 1e5])
    m = np.stack([n**-0.1, n**-0.2], axis=1)
    assert scaling.per_seed_alphas(n, m) == pytest.approx([0.1, 0.2])
    lo, hi = scaling.bootstrap_alpha_ci(n, m, samples=200, seed=0)
    assert 0.1 - 1e-9 <= lo <= hi <= 0.2 + 1e-9
    assert scaling.bootstrap_alpha_ci(n, m, samples=200, seed=0) == (lo, hi)  # seeded


@pytest.mark.parametrize("errors,reason", [
    ([0.5, 0.4, 0.3], None),
    ([0.899, 0.5, 0.3], None),  # just under chance (10 classes)
    ([0.9, 0.5, 0.3], "1 of 3 sizes are at or above chance error (0.900 for 10 classes)"),
    ([0.95, 0.91, 0.9], "3 of 3 sizes are at or above chance error"),  # a diverged sweep
    ([float("nan"), 0.5, 0.3], "1 of 3 sizes are at or above chance"),
    ([0.5, 0.2, 0.0], "1 of 3 sizes have an error of 0, which has no logarithm"),
    ([0.9, 0.2, 0.0], "at or above chance error (0.900 for 10 classes), so they learned nothing to fit; 1 of 3 sizes have an error of 0"),
])
def test_a_fit_needs_errors_strictly_between_zero_and_chance(errors, reason):
    refusal = scaling.fit_refusal([1e3, 1e4, 1e5], errors, num_classes=10)
    assert refusal is None if reason is None else reason in refusal


def test_a_fit_needs_three_sizes_and_chance_follows_the_classes():
    assert scaling.fit_refusal([1e3, 1e4], [0.5, 0.4], 10) == "2 size(s) in the sweep; a power-law fit needs at least 3"
    assert scaling.fit_refusal([1e3, 1e3, 1e4], [0.5, 0.45, 0.4], 10).startswith("2 size(s)")  # distinct sizes
    assert scaling.fit_refusal([1e3, 1e4, 1e5], [0.95, 0.9, 0.8], 100) is None  # chance is 0.99 of 100 classes
    assert "0.500 for 2 classes" in scaling.fit_refusal([1e3, 1e4, 1e5], [0.5, 0.4, 0.3], 2)
