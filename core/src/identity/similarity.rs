//! String similarity for comparison levels, allocation-free for the short ASCII strings that
//! names, dates and ids nearly always are; other strings go through `strsim`.

/// Strings longer than this (or non-ASCII) take the general path.
const FAST_MAX: usize = 64;

/// Jaro-Winkler similarity in [0, 1]: the prefix bonus (scale 0.1, up to 4 characters) applies
/// above a Jaro similarity of 0.7, as in `strsim`.
pub(crate) fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !a.is_ascii() || !b.is_ascii() || x.len() > FAST_MAX || y.len() > FAST_MAX {
        return strsim::jaro_winkler(a, b);
    }
    let jaro = jaro_ascii(x, y);
    if jaro <= 0.7 {
        return jaro;
    }
    let prefix = x.iter().zip(y).take(4).take_while(|(p, q)| p == q).count() as f64;
    jaro + 0.1 * prefix * (1.0 - jaro)
}

fn jaro_ascii(x: &[u8], y: &[u8]) -> f64 {
    if x.is_empty() && y.is_empty() {
        return 1.0;
    }
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let window = (x.len().max(y.len()) / 2).saturating_sub(1);
    let (mut x_flags, mut y_flags) = (0u64, 0u64);
    let mut matches = 0usize;
    for (i, &c) in x.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(y.len());
        for (j, &d) in y.iter().enumerate().take(hi).skip(lo) {
            if y_flags & (1 << j) == 0 && d == c {
                x_flags |= 1 << i;
                y_flags |= 1 << j;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0usize;
    for (i, &c) in x.iter().enumerate() {
        if x_flags & (1 << i) != 0 {
            while y_flags & (1 << j) == 0 {
                j += 1;
            }
            if c != y[j] {
                transpositions += 1;
            }
            j += 1;
        }
    }
    let m = matches as f64;
    (m / x.len() as f64 + m / y.len() as f64 + (m - (transpositions / 2) as f64) / m) / 3.0
}

/// The optimal-string-alignment distance (edits, adjacent transpositions counting one) when it
/// is at most `limit`, else `limit + 1`.
pub(crate) fn edits_up_to(a: &str, b: &str, limit: usize) -> usize {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if x.len().abs_diff(y.len()) > limit {
        return limit + 1;
    }
    if !a.is_ascii() || !b.is_ascii() || y.len() >= FAST_MAX {
        return strsim::osa_distance(a, b).min(limit + 1);
    }
    let width = y.len() + 1;
    let mut rows = [[0usize; FAST_MAX + 1]; 3];
    for (j, cell) in rows[0][..width].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=x.len() {
        let (cur, prev, prev2) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        rows[cur][0] = i;
        let mut row_min = i;
        for j in 1..width {
            let cost = usize::from(x[i - 1] != y[j - 1]);
            let mut d = (rows[prev][j] + 1).min(rows[cur][j - 1] + 1).min(rows[prev][j - 1] + cost);
            if i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] {
                d = d.min(rows[prev2][j - 2] + 1);
            }
            rows[cur][j] = d;
            row_min = row_min.min(d);
        }
        if row_min > limit {
            return limit + 1;
        }
    }
    rows[x.len() % 3][y.len()].min(limit + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaro_winkler_matches_strsim() {
        let words = ["martha", "marhta", "dwayne", "duane", "dixon", "dicksonx", "", "a", "smith", "smyth", "jonathan"];
        for a in words {
            for b in words {
                let (fast, reference) = (jaro_winkler(a, b), strsim::jaro_winkler(a, b));
                assert!((fast - reference).abs() < 1e-12, "{a} {b}: {fast} vs {reference}");
            }
        }
        assert!((jaro_winkler("josé", "jose") - strsim::jaro_winkler("josé", "jose")).abs() < 1e-12);
    }

    #[test]
    fn bounded_edits_match_strsim() {
        let words = ["19800312", "19800321", "19800412", "1980312", "19080312", "", "ab", "ba", "abc", "7364009"];
        for a in words {
            for b in words {
                let expected = strsim::osa_distance(a, b).min(3);
                assert_eq!(edits_up_to(a, b, 2), expected, "{a} {b}");
            }
        }
        assert_eq!(edits_up_to("müller", "muller", 2), 1);
    }
}
