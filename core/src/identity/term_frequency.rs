//! Term-frequency adjustments: an exact match on a rare value is stronger evidence than one on a
//! common value. The exact level's weight log2(m/u) assumes the average value; for value v the
//! adjustment log2(u / tf(v)) replaces that average by v's own frequency tf(v) (its share of the
//! column's non-null values), as in Splink.

use super::model::{level, Model};
use super::stitch::Normalized;

/// Per adjusted compared column: its position in the pattern, its values, and the adjustment in
/// bits of an exact match on each value code.
pub(crate) struct TermFrequencies<'a>(Vec<(usize, &'a Normalized, Vec<f64>)>);

impl<'a> TermFrequencies<'a> {
    /// Adjustments for the compared columns at pattern positions `adjusted`.
    pub(crate) fn new(compared: &[&'a Normalized], adjusted: &[usize], model: &Model) -> Self {
        let columns = adjusted
            .iter()
            .map(|&k| {
                let column = compared[k];
                let mut counts = vec![0u32; column.dict.len()];
                for &code in &column.codes {
                    counts[code as usize] += 1;
                }
                let present = (column.codes.len() as u32 - counts[0]).max(1) as f64;
                let u_exact = model.columns[k].levels[0].u;
                let bits = counts.iter().map(|&c| (u_exact * present / f64::from(c.max(1))).log2()).collect();
                (k, column, bits)
            })
            .collect();
        Self(columns)
    }

    /// The adjustment for records `a` and `b` compared with `pattern`: the sum over adjusted
    /// columns where they match exactly.
    pub(crate) fn adjustment(&self, pattern: u64, a: u32) -> f64 {
        self.0
            .iter()
            .filter(|(k, _, _)| level(pattern, *k) == 0)
            .map(|(_, column, bits)| bits[column.codes[a as usize] as usize])
            .sum()
    }
}
