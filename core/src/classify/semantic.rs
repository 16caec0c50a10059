//! The semantic side of classification: a linear softmax head over sentence embeddings, trained
//! on a taxonomy's examples and descriptions, plus nearest-example search for the confidence and
//! the evidence.
//!
//! Confidence is the mean of the head's probability for the label and the similarity of the
//! nearest example of that label: the probability separates labels, the similarity notices text
//! that resembles no example at all (out of scope).

use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::embed;

/// Logit scale of the cosine head.
const SCALE: f32 = 20.0;
/// Full-batch Adam steps, step size and pull towards the label centroids.
const STEPS: usize = 200;
const LEARNING_RATE: f32 = 0.01;
const DECAY: f32 = 0.01;
/// How many times a label's description counts among its examples.
const DESCRIPTION_WEIGHT: usize = 2;

/// A text the head learns from: which label, and whether it is an example or a description.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub label: usize,
    pub text: String,
    pub is_description: bool,
}

/// The trained head and the example vectors.
pub(crate) struct Semantic {
    samples: Vec<Sample>,
    vectors: Array2<f32>,
    head: Array2<f32>,
    bias: Array1<f32>,
    /// The indices of each label's samples.
    by_label: Vec<Vec<usize>>,
}

/// How one text scores: every label's probability, and the text's embedding for similarities.
pub(crate) struct Scores {
    /// Softmax probability per label.
    pub probability: Vec<f32>,
    query: Vec<f32>,
}

impl Semantic {
    /// Trains on `samples` whose vectors are `vectors` (one row each), for `labels` labels.
    pub(crate) fn train(samples: Vec<Sample>, vectors: Array2<f32>, labels: usize) -> Self {
        let mut centroid = Array2::<f32>::zeros((labels, vectors.ncols()));
        for (s, v) in samples.iter().zip(vectors.rows()) {
            let mut row = centroid.row_mut(s.label);
            row += &v;
        }
        for mut row in centroid.rows_mut() {
            embed::normalize(row.as_slice_mut().expect("rows are contiguous"));
        }
        let (head, bias) = adam(&samples, vectors.view(), centroid);
        Self::new(samples, vectors, head, bias)
    }

    fn new(samples: Vec<Sample>, vectors: Array2<f32>, head: Array2<f32>, bias: Array1<f32>) -> Self {
        let mut by_label = vec![Vec::new(); head.nrows()];
        for (i, s) in samples.iter().enumerate() {
            by_label[s.label].push(i);
        }
        Self { samples, vectors, head, bias, by_label }
    }

    /// A head and vectors of `dim` dimensions saved by [`Semantic::to_bytes`], when they fit
    /// `samples`.
    pub(crate) fn from_bytes(samples: Vec<Sample>, labels: usize, dim: usize, bytes: &[u8]) -> Option<Self> {
        let floats = embed::floats(bytes);
        let n = samples.len();
        if floats.len() != (n + labels) * dim + labels {
            return None;
        }
        let vectors = Array2::from_shape_vec((n, dim), floats[..n * dim].to_vec()).ok()?;
        let head = Array2::from_shape_vec((labels, dim), floats[n * dim..(n + labels) * dim].to_vec()).ok()?;
        let bias = Array1::from_vec(floats[(n + labels) * dim..].to_vec());
        Some(Self::new(samples, vectors, head, bias))
    }

    /// The vectors, head and bias as little-endian floats.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        self.vectors.iter().chain(self.head.iter()).chain(self.bias.iter()).flat_map(|f| f.to_le_bytes()).collect()
    }

    /// The sample behind a nearest-match index.
    pub(crate) fn sample(&self, i: usize) -> &Sample {
        &self.samples[i]
    }

    /// Whether `label` has samples (examples or a description).
    pub(crate) fn knows(&self, label: usize) -> bool {
        !self.by_label[label].is_empty()
    }

    /// Scores of each embedded text (`queries` has one row per text).
    pub(crate) fn score(&self, queries: ArrayView2<f32>) -> Vec<Scores> {
        let logits = queries.dot(&self.head.t()) * SCALE + &self.bias;
        logits
            .rows()
            .into_iter()
            .zip(queries.rows())
            .map(|(z, q)| Scores { probability: softmax(z.as_slice().expect("contiguous")), query: q.to_vec() })
            .collect()
    }

    /// The `k` samples of `label` most like the text that `scores` scored, best first (ties in
    /// sample order), each text once (a description counts twice in training but is shown once).
    pub(crate) fn nearest(&self, scores: &Scores, label: usize, k: usize) -> Vec<(f32, usize)> {
        let mut found: Vec<(f32, usize)> = Vec::with_capacity(k + 1);
        for &i in &self.by_label[label] {
            let similarity = embed::dot(&scores.query, self.vectors.row(i).as_slice().expect("contiguous"));
            if found.len() == k && found.last().is_none_or(|last| similarity <= last.0) {
                continue;
            }
            if found.iter().any(|&(_, j)| self.samples[j].text == self.samples[i].text) {
                continue;
            }
            let at = found.partition_point(|&(s, _)| s >= similarity);
            found.insert(at, (similarity, i));
            found.truncate(k);
        }
        found
    }

    /// The similarity of the text `scores` scored to the nearest sample of `label` (-1 when it
    /// has none).
    pub(crate) fn nearest_similarity(&self, scores: &Scores, label: usize) -> f32 {
        self.by_label[label]
            .iter()
            .map(|&i| embed::dot(&scores.query, self.vectors.row(i).as_slice().expect("contiguous")))
            .fold(-1.0, f32::max)
    }
}

fn softmax(z: &[f32]) -> Vec<f32> {
    let max = z.iter().copied().fold(f32::MIN, f32::max);
    let exp: Vec<f32> = z.iter().map(|x| (x - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.into_iter().map(|e| e / sum).collect()
}

/// Full-batch Adam on the cross-entropy of the cosine head, starting from (and decaying
/// towards) the label centroids.
fn adam(samples: &[Sample], x: ArrayView2<f32>, centroid: Array2<f32>) -> (Array2<f32>, Array1<f32>) {
    let (labels, n) = (centroid.nrows(), samples.len());
    let mut w = centroid.clone();
    let mut b = Array1::<f32>::zeros(labels);
    let (mut m, mut v) = (Array2::<f32>::zeros(w.raw_dim()), Array2::<f32>::zeros(w.raw_dim()));
    let (mut mb, mut vb) = (Array1::<f32>::zeros(labels), Array1::<f32>::zeros(labels));
    let (beta1, beta2, eps) = (0.9f32, 0.999f32, 1e-8f32);
    for t in 1..=STEPS {
        let mut g = x.dot(&w.t()) * SCALE + &b;
        for (mut row, sample) in g.rows_mut().into_iter().zip(samples) {
            let p = softmax(row.as_slice().expect("contiguous"));
            row.iter_mut().zip(p).for_each(|(r, p)| *r = p / n as f32);
            row[sample.label] -= 1.0 / n as f32;
        }
        let grad_w = g.t().dot(&x) * SCALE + (&w - &centroid) * DECAY;
        let grad_b = g.sum_axis(Axis(0));
        let (c1, c2) = (1.0 - beta1.powi(t as i32), 1.0 - beta2.powi(t as i32));
        ndarray::Zip::from(&mut w).and(&mut m).and(&mut v).and(&grad_w).for_each(|w, m, v, &g| {
            *m = beta1 * *m + (1.0 - beta1) * g;
            *v = beta2 * *v + (1.0 - beta2) * g * g;
            *w -= LEARNING_RATE * (*m / c1) / ((*v / c2).sqrt() + eps);
        });
        ndarray::Zip::from(&mut b).and(&mut mb).and(&mut vb).and(&grad_b).for_each(|b, m, v, &g| {
            *m = beta1 * *m + (1.0 - beta1) * g;
            *v = beta2 * *v + (1.0 - beta2) * g * g;
            *b -= LEARNING_RATE * (*m / c1) / ((*v / c2).sqrt() + eps);
        });
    }
    (w, b)
}

/// The samples of a label set: each example once, and the description `DESCRIPTION_WEIGHT`
/// times.
pub(crate) fn samples(labels: &[crate::taxonomy::Label]) -> Vec<Sample> {
    let mut out = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        for e in label.examples.iter().filter(|e| !e.trim().is_empty()) {
            out.push(Sample { label: i, text: e.clone(), is_description: false });
        }
        if let Some(d) = label.description.as_ref().filter(|d| !d.trim().is_empty()) {
            for _ in 0..DESCRIPTION_WEIGHT {
                out.push(Sample { label: i, text: d.clone(), is_description: true });
            }
        }
    }
    out
}
