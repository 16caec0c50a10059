//! The two statistics the monitors use: an expected range from a metric's own history (a
//! modified z-score over a trailing window) and the population stability index of a
//! distribution against a baseline.

use std::collections::{BTreeMap, BTreeSet};

/// The expected range of a detection window's mean, from the daily values of the training
/// window: the training median, plus or minus `sensitivity` times the larger of the days' robust
/// standard deviation (1.4826 times the median absolute deviation) and the sampling noise of a
/// mean of `days` days (`noise`, one day's, e.g. the square root of a count, over the square
/// root of `days`). Day-to-day variation (a trend, a campaign, a weekday) does not average out
/// over a window, sampling noise does; so a metric that never moved does not fail on its first
/// wobble, and a week's share is judged by a week's records. `None` without `min_training` days
/// of history.
pub fn expected_range(
    training: &[f64],
    days: usize,
    sensitivity: f64,
    noise: f64,
    min_training: usize,
) -> Option<(f64, f64)> {
    if training.len() < min_training.max(1) || days == 0 {
        return None;
    }
    let median = median(training);
    let deviations: Vec<f64> = training.iter().map(|v| (v - median).abs()).collect();
    let half = sensitivity * (1.4826 * self::median(&deviations)).max(noise / (days as f64).sqrt());
    Some((median - half, median + half))
}

/// The median of `values` (not empty).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

/// The sampling noise of one day's share `p` over `n` records: the binomial standard deviation,
/// with `p` smoothed away from 0 and 1 (a share that was always 0 can still move by one record).
pub fn share_noise(p: f64, n: f64) -> f64 {
    if n <= 0.0 {
        return 0.0;
    }
    let smoothed = (p * n + 1.0) / (n + 2.0);
    (smoothed * (1.0 - smoothed) / n).sqrt()
}

/// A distribution's stability against a baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Stability {
    /// The population stability index, less what two samples of these sizes from one
    /// distribution differ by on average (never below 0).
    pub psi: f64,
    /// The index as computed, before that correction.
    pub raw: f64,
    /// The categories that moved most, with their baseline and current shares.
    pub movers: Vec<(String, f64, f64)>,
    /// Whether the difference is beyond chance: the index's chi-square statistic (`raw` times
    /// `n * m / (n + m)`) above the 99.9th percentile of chi-square with `k - 1` degrees of freedom.
    pub significant: bool,
}

/// The population stability index of `current` against `baseline` (counts per category):
/// `sum((a - e) * ln(a / e))` over the categories of either, each share smoothed by half a count
/// (a category one side never saw does not divide by zero). Small samples differ by chance, by
/// about `(k - 1) * (1/n + 1/m)` for `k` categories and samples of `n` and `m`: that much is
/// subtracted, so a week of 200 conversations over 30 intents does not read as drift; and the
/// difference must be [`Stability::significant`]. `None` when either is empty.
pub fn stability(baseline: &BTreeMap<String, f64>, current: &BTreeMap<String, f64>) -> Option<Stability> {
    let (m, n) = (baseline.values().sum::<f64>(), current.values().sum::<f64>());
    if m <= 0.0 || n <= 0.0 {
        return None;
    }
    let categories: BTreeSet<&String> = baseline.keys().chain(current.keys()).collect();
    let k = categories.len() as f64;
    let share = |counts: &BTreeMap<String, f64>, total: f64, c: &String| {
        (counts.get(c).copied().unwrap_or(0.0) + 0.5) / (total + 0.5 * k)
    };
    let mut movers = Vec::new();
    let mut raw = 0.0;
    for c in &categories {
        let (e, a) = (share(baseline, m, c), share(current, n, c));
        raw += (a - e) * (a / e).ln();
        movers.push(((*c).clone(), e, a));
    }
    movers.sort_by(|x, y| (y.2 - y.1).abs().total_cmp(&(x.2 - x.1).abs()).then_with(|| x.0.cmp(&y.0)));
    movers.truncate(3);
    let dof = (k - 1.0).max(1.0);
    let chance = (k - 1.0).max(0.0) * (1.0 / n + 1.0 / m);
    let significant = k > 1.0 && raw * n * m / (n + m) > chi_square_999(dof);
    Some(Stability { psi: (raw - chance).max(0.0), raw, movers, significant })
}

/// The 99.9th percentile of chi-square with `dof` degrees of freedom (Wilson and Hilferty's
/// cube-root approximation, within 1.5% from 5 degrees of freedom up).
pub fn chi_square_999(dof: f64) -> f64 {
    const Z: f64 = 3.090_232;
    let h = 2.0 / (9.0 * dof);
    dof * (1.0 - h + Z * h.sqrt()).powi(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    #[test]
    fn the_range_is_robust_to_one_outlier_and_floored_by_noise() {
        let days = [100.0, 104.0, 96.0, 101.0, 99.0, 103.0, 97.0, 400.0];
        let (low, high) = expected_range(&days, 1, 3.5, 0.0, 7).unwrap();
        assert!((low - 84.93).abs() < 0.01 && (high - 116.07).abs() < 0.01, "{low} {high}");
        assert_eq!(expected_range(&days, 7, 3.5, 0.0, 7), Some((low, high)), "days move together");
        let (low7, high7) = expected_range(&[0.0; 8], 7, 3.5, 1.0, 7).unwrap();
        assert!((high7 - low7 - 7.0 / 7f64.sqrt()).abs() < 1e-9, "sampling noise averages out");
        let flat = [0.0; 10];
        assert_eq!(expected_range(&flat, 1, 3.0, 0.0, 7), Some((0.0, 0.0)));
        let (low, high) = expected_range(&flat, 1, 3.0, 0.1, 7).unwrap();
        assert!((low + 0.3).abs() < 1e-9 && (high - 0.3).abs() < 1e-9);
        assert_eq!(expected_range(&days[..3], 1, 3.0, 0.0, 7), None, "too little history");
    }

    #[test]
    fn share_noise_never_vanishes() {
        assert!(share_noise(0.0, 100.0) > 0.009);
        assert!((share_noise(0.5, 100.0) - 0.05).abs() < 1e-3);
        assert_eq!(share_noise(0.3, 0.0), 0.0);
    }

    #[test]
    fn stability_of_a_shifted_mix_and_of_chance() {
        let base = counts(&[("refund", 300.0), ("billing", 300.0), ("cancel", 400.0)]);
        let same = counts(&[("refund", 31.0), ("billing", 29.0), ("cancel", 40.0)]);
        let s = stability(&base, &same).unwrap();
        assert_eq!((s.psi, s.significant), (0.0, false), "{s:?}");
        let shifted = counts(&[("refund", 10.0), ("billing", 10.0), ("cancel", 80.0)]);
        let s = stability(&base, &shifted).unwrap();
        assert!(s.psi > 0.25 && s.raw > s.psi && s.significant, "{s:?}");
        assert_eq!(s.movers[0].0, "cancel");
        let new_label = counts(&[("refund", 300.0), ("billing", 300.0), ("cancel", 300.0), ("unknown", 100.0)]);
        assert!(stability(&base, &new_label).unwrap().psi > 0.25, "a label the baseline never had");
        assert_eq!(stability(&base, &BTreeMap::new()), None);
        let tiny = counts(&[("refund", 1.0), ("cancel", 3.0)]);
        assert!(!stability(&base, &tiny).unwrap().significant, "four conversations prove nothing");
    }

    #[test]
    fn chi_square_quantiles() {
        for (dof, q) in [(5.0, 20.515), (10.0, 29.588), (29.0, 58.301)] {
            assert!((chi_square_999(dof) - q).abs() / q < 0.015, "{dof}: {}", chi_square_999(dof));
        }
    }
}
