//! Scores of forecasts against what happened.

/// Mean squared error between `ln(1 + predicted)` and `ln(1 + observed)`, both given
/// already on the `log1p` scale; `None` without pairs.
pub fn mse(predicted_log1p: &[f64], observed_log1p: &[f64]) -> Option<f64> {
    let n = predicted_log1p.len().min(observed_log1p.len());
    (n > 0).then(|| {
        predicted_log1p
            .iter()
            .zip(observed_log1p)
            .map(|(p, o)| (p - o) * (p - o))
            .sum::<f64>()
            / n as f64
    })
}

/// Brier score: mean of `(p − y)²` with `y` 1 for an event and 0 otherwise; `None`
/// without pairs.
pub fn brier(probabilities: &[f64], outcomes: &[bool]) -> Option<f64> {
    let n = probabilities.len().min(outcomes.len());
    (n > 0).then(|| {
        probabilities
            .iter()
            .zip(outcomes)
            .map(|(p, &y)| {
                let d = p - if y { 1.0 } else { 0.0 };
                d * d
            })
            .sum::<f64>()
            / n as f64
    })
}

/// Area under the ROC curve: the probability that a random positive scores above a random
/// negative, ties counting one half (the Mann–Whitney statistic with mid-ranks); `None`
/// unless there are both positives and negatives.
pub fn roc_auc(scores: &[f64], outcomes: &[bool]) -> Option<f64> {
    let n = scores.len().min(outcomes.len());
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let positives = outcomes[..n].iter().filter(|&&y| y).count();
    let negatives = n - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    // Sum of the mid-ranks (1-based) of the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += mid * order[i..=j].iter().filter(|&&k| outcomes[k]).count() as f64;
        i = j + 1;
    }
    let p = positives as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

/// The median of some values; `None` when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mse_by_hand() {
        // (0.5−0)² + (1−2)² + (3−3)² = 1.25, / 3.
        let m = mse(&[0.5, 1.0, 3.0], &[0.0, 2.0, 3.0]).unwrap();
        assert!((m - 1.25 / 3.0).abs() < 1e-12);
        assert_eq!(mse(&[], &[]), None);
    }

    #[test]
    fn brier_by_hand() {
        // (0.9−1)² + (0.2−0)² + (0.6−0)² + (0.5−1)² = 0.01 + 0.04 + 0.36 + 0.25 = 0.66.
        let b = brier(&[0.9, 0.2, 0.6, 0.5], &[true, false, false, true]).unwrap();
        assert!((b - 0.165).abs() < 1e-12);
        assert_eq!(brier(&[0.0, 1.0], &[false, true]), Some(0.0));
    }

    #[test]
    fn auc_by_hand() {
        // Positives 0.9, 0.5; negatives 0.2, 0.6. Pairs: (0.9>0.2) (0.9>0.6) (0.5>0.2)
        // (0.5<0.6): 3 of 4.
        let a = roc_auc(&[0.9, 0.2, 0.6, 0.5], &[true, false, false, true]).unwrap();
        assert!((a - 0.75).abs() < 1e-12);
        // Ties count one half: positive 0.5 against negatives 0.5 and 0.1 → (0.5 + 1) / 2.
        let t = roc_auc(&[0.5, 0.5, 0.1], &[true, false, false]).unwrap();
        assert!((t - 0.75).abs() < 1e-12);
        // A constant score ranks nothing.
        assert_eq!(roc_auc(&[0.0; 4], &[true, false, true, false]), Some(0.5));
        // Perfect and reversed.
        assert_eq!(roc_auc(&[0.1, 0.9], &[false, true]), Some(1.0));
        assert_eq!(roc_auc(&[0.9, 0.1], &[false, true]), Some(0.0));
        assert_eq!(roc_auc(&[0.3, 0.4], &[true, true]), None);
    }

    #[test]
    fn median_by_hand() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}
