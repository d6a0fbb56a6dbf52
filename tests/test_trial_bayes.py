"""The Bayesian posterior against references: a brute-force integral over every parameter,
and the exact Student t when rho is known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from mgsleep.evidence import load_evidence
from mgsleep.trial import ar1
from mgsleep.trial.bayes import Prior, pooled_prior, posterior, sceptical_prior
from mgsleep.trial.kinds import Outcome
from mgsleep.trial.power import ar1_noise

SMALLEST = 10.0


def _series(seed: int, effect: float, rho: float = 0.5):
    """24 logged nights (10 baseline, 14 magnesium) of 27, sleep latency in minutes."""
    rng = np.random.default_rng(seed)
    day = np.array([d for d in range(27) if d not in (4, 15, 16)], dtype=float)
    magnesium = (day >= 11).astype(float)
    values = 35 + 10 * ar1_noise(rng, 1, 27, rho)[0, day.astype(int)] + effect * magnesium
    return values, magnesium, day


def _brute_force(values, magnesium, day, prior: Prior | None):
    """P(effect <= c) on a grid over (rho, sigma, effect), the correlation matrix built in
    full and inverted, the intercept integrated as a Gaussian, sigma the marginal SD: none of
    the whitening or the REML sums of ar1."""
    design = np.column_stack([np.ones_like(day), magnesium])
    ols = np.linalg.lstsq(design, values, rcond=None)[0]
    rhos = np.arange(-0.98, 0.99 + 1e-9, 0.0025)
    # Marginal SDs up to 500: at rho 0.99 one night's SD is seven times the innovations'.
    log_sigmas = np.linspace(np.log(2.0), np.log(500.0), 160)
    effects = np.linspace(ols[1] - 80, ols[1] + 80, 1601)
    log_post = np.empty((len(rhos), len(effects)))
    gaps = np.abs(day[:, None] - day[None, :])
    n = len(values)
    for i, rho in enumerate(rhos):
        correlation = rho**gaps
        _, log_det = np.linalg.slogdet(correlation)
        inv = np.linalg.inv(correlation)
        xr = design.T @ inv
        xx = xr @ design
        xy = xr @ values
        yy = values @ inv @ values
        # Q(b0) = a - 2 b0 u + b0^2 xx00 for each effect b1; integrate b0 out exactly
        a = yy - 2 * effects * xy[1] + effects**2 * xx[1, 1]
        u = xy[0] - effects * xx[0, 1]
        rest = a - u**2 / xx[0, 0]
        sigma = np.exp(log_sigmas)[:, None]
        log_joint = (
            -0.5 * log_det
            - 0.5 * np.log(xx[0, 0])
            - (n - 1) * np.log(sigma)
            - rest[None, :] / (2 * sigma**2)
            - 0.5 * np.log(1 - rho**2)
        )
        log_post[i] = special.logsumexp(log_joint, axis=0)  # over sigma, flat in log sigma
    if prior is not None:
        log_post += stats.norm.logpdf(effects, -prior.improvement_mean, prior.improvement_sd)
    marginal = special.logsumexp(log_post, axis=0)
    density = np.exp(marginal - marginal.max())
    cdf = np.cumsum(density) / density.sum()
    mean = float((effects * density).sum() / density.sum())
    return effects, cdf, mean


def _below(effects, cdf, c):
    return float(np.interp(c, effects, cdf))


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "effect"), [(1, -15.0), (2, 0.0)])
def test_posterior_matches_a_brute_force_integral(seed, effect):
    values, magnesium, day = _series(seed, effect)
    nights = ar1.mixture(values, ar1.design_matrix(magnesium, day, with_trend=False), day)
    assert nights is not None
    ev = load_evidence()
    priors = [
        sceptical_prior(SMALLEST, ["mgsleep_conventions"]),
        pooled_prior(ev, Outcome.sleep_latency_min),
    ]
    for prior in [None, *priors]:
        effects, cdf, mean = _brute_force(values, magnesium, day, prior)
        if prior is None:  # the nights alone: the t mixture itself
            ours_meaningful = 1 - float(nights.prob_above(-SMALLEST))
            ours_any = 1 - float(nights.prob_above(0.0))
            ours_harm = float(nights.prob_above(SMALLEST))
            ours_mean = float(nights.mean())
        else:
            post = posterior(nights, prior, lower_is_better=True, smallest_change=SMALLEST)
            ours_meaningful, ours_any, ours_harm = (
                post.prob_meaningful,
                post.prob_any_benefit,
                post.prob_harm,
            )
            ours_mean = post.difference
        assert ours_meaningful == pytest.approx(_below(effects, cdf, -SMALLEST), abs=0.01)
        assert ours_any == pytest.approx(_below(effects, cdf, 0.0), abs=0.01)
        assert ours_harm == pytest.approx(1 - _below(effects, cdf, SMALLEST), abs=0.01)
        assert ours_mean == pytest.approx(mean, abs=0.3)


def test_with_rho_known_the_interval_is_the_exact_t_interval():
    values, magnesium, day = _series(3, -10.0, rho=0.0)
    keep = np.arange(len(day), dtype=float)  # consecutive nights: rho 0 means plain OLS
    design = ar1.design_matrix(magnesium, keep, with_trend=False)
    nights = ar1.mixture(values, design, keep, grid=np.array([0.0]))
    assert nights is not None
    fitted = np.linalg.lstsq(design, values, rcond=None)
    beta = fitted[0]
    residual = values - design @ beta
    df = len(values) - 2
    se = np.sqrt(residual @ residual / df * np.linalg.inv(design.T @ design)[1, 1])
    q = stats.t.ppf(0.975, df)
    assert nights.quantile(0.025) == pytest.approx(beta[1] - q * se, abs=1e-3)
    assert nights.quantile(0.975) == pytest.approx(beta[1] + q * se, abs=1e-3)
    assert float(nights.mean()) == pytest.approx(beta[1], abs=1e-9)


def test_the_sceptical_prior_gives_a_change_that_matters_a_five_percent_chance():
    prior = sceptical_prior(SMALLEST, ["mgsleep_conventions"])
    assert stats.norm.sf(SMALLEST, prior.improvement_mean, prior.improvement_sd) == pytest.approx(
        0.05
    )


def test_the_pooled_prior_comes_from_the_evidence():
    prior = pooled_prior(load_evidence(), Outcome.sleep_latency_min)
    assert prior is not None
    assert prior.improvement_mean == pytest.approx(17.36)
    # the pooled 95 % interval 7.44-27.27 min, widened twice for low certainty
    assert prior.improvement_sd == pytest.approx((27.27 - 7.44) / (2 * 1.96) * 2, rel=1e-3)
    assert pooled_prior(load_evidence(), Outcome.waso_min) is None


def test_a_strong_prior_dominates_few_nights_and_many_nights_dominate_it():
    strong = Prior(key="test", improvement_mean=30.0, improvement_sd=1.0, cite=[])
    few = _series(4, 0.0)
    nights = ar1.mixture(few[0], ar1.design_matrix(few[1], few[2], with_trend=False), few[2])
    assert nights is not None
    post = posterior(nights, strong, lower_is_better=True, smallest_change=SMALLEST)
    assert post.difference == pytest.approx(-30, abs=2)
    rng = np.random.default_rng(5)
    day = np.arange(400, dtype=float)
    magnesium = (day >= 200).astype(float)
    values = 35 + 10 * ar1_noise(rng, 1, 400, 0.3)[0]
    many = ar1.mixture(values, ar1.design_matrix(magnesium, day, with_trend=False), day)
    assert many is not None
    weak = Prior(key="test", improvement_mean=30.0, improvement_sd=30.0, cite=[])
    post = posterior(many, weak, lower_is_better=True, smallest_change=SMALLEST)
    assert post.difference == pytest.approx(float(many.mean()), abs=0.3)
