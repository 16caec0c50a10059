//! The static embedding, distilled from the encoder the model2vec way (Tulkens and van Dongen,
//! 2024): every vocabulary token goes through the encoder once, between `[CLS]` and `[SEP]`, and
//! the sum of its last hidden state over the three (not normalized) is the token's vector; PCA
//! keeps the `STATIC_DIM` directions of most variance; each token vector is weighted down the
//! more frequent the token (SIF weighting, with frequency read from the vocabulary's order, which
//! WordPiece builds most frequent first). A text's embedding is the normalized sum of its
//! tokens' vectors.
//!
//! The table (vocabulary x `STATIC_DIM` floats) is distilled on first use, which takes the
//! encoder some seconds, and kept in the cache (`CONVLYTICS_CACHE_DIR`, default
//! `~/.cache/convlytics`, folder `static`), keyed by the encoder; later processes read it and need
//! only the tokenizer.

use std::collections::HashSet;
use std::path::Path;
use std::sync::OnceLock;

use ndarray::Array2;
use sha2::{Digest, Sha256};
use tokenizers::Tokenizer;

use super::encoder::{self, encoded_prefix};
use super::pca::Pca;
use super::{cache_dir, config, floats, normalize, save_to_cache, with_encoder, DIM, STATIC_DIM};
use crate::ModelError;

/// Format of the saved table; bumped when distillation changes.
const FORMAT: &str = "static-1";
/// The SIF coefficient: a token's weight is `SIF / (SIF + p)` for its estimated probability `p`.
const SIF: f64 = 1e-4;

/// The distilled table and the tokenizer that indexes it.
pub(super) struct Distilled {
    tokenizer: Tokenizer,
    /// `STATIC_DIM` floats per vocabulary id; special tokens' rows are zero.
    table: Vec<f32>,
    /// What identifies the table (for caches of embeddings): a hash of its content.
    pub id: String,
}

static DISTILLED: OnceLock<Result<Distilled, ModelError>> = OnceLock::new();

/// The static embedding: read from the cache, or distilled and saved, once per process.
pub(super) fn get() -> Result<&'static Distilled, ModelError> {
    DISTILLED.get_or_init(|| Distilled::load(&config().dir)).as_ref().map_err(Clone::clone)
}

impl Distilled {
    fn load(dir: &Path) -> Result<Self, ModelError> {
        let file = dir.join("tokenizer.json");
        let model = dir.join("model.onnx");
        for f in [&file, &model] {
            if !f.is_file() {
                return Err(ModelError::Missing(f.clone()));
            }
        }
        let mut tokenizer = Tokenizer::from_file(&file)
            .map_err(|e| ModelError::Load { file: file.clone(), problem: format!("not a tokenizer: {e}") })?;
        tokenizer.with_padding(None);
        tokenizer.with_truncation(None).map_err(|e| ModelError::Load { file: file.clone(), problem: e.to_string() })?;
        let path = cache_dir("static").join(format!("{FORMAT}-{STATIC_DIM}-{}.bin", encoder::id(&model)));
        let size = tokenizer.get_vocab_size(true) * STATIC_DIM * 4;
        // Checked in place: a copy of the table's floats just to look at them would double the
        // memory of loading it.
        let finite = |b: &[u8]| b.chunks_exact(4).all(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]).is_finite());
        let usable = |b: &Vec<u8>| b.len() == size && finite(b);
        let bytes = match std::fs::read(&path).ok().filter(usable) {
            Some(bytes) => bytes,
            None => {
                let bytes: Vec<u8> = distill(&tokenizer)?.iter().flat_map(|f| f.to_le_bytes()).collect();
                save_to_cache(&path, &bytes);
                bytes
            }
        };
        // Named by content: heads trained on one table are never read with another (a table
        // distilled on another CPU differs in the last digits).
        let hex: String = Sha256::digest(&bytes).iter().take(8).map(|b| format!("{b:02x}")).collect();
        let table = floats(&bytes);
        Ok(Self { tokenizer, table, id: format!("{FORMAT}-{STATIC_DIM}-{hex}") })
    }

    /// Embeddings of `texts`, `STATIC_DIM` floats each, in order: the normalized sum of the
    /// vectors of the tokens of each text's first `MAX_TOKENS` pre-tokens.
    pub(super) fn embed(&self, texts: &[&str]) -> Result<Vec<f32>, ModelError> {
        let mut out = vec![0f32; texts.len() * STATIC_DIM];
        for (text, v) in texts.iter().zip(out.chunks_exact_mut(STATIC_DIM)) {
            let encoding = self
                .tokenizer
                .encode_fast(encoded_prefix(text), false)
                .map_err(|e| ModelError::Run(format!("tokenizer: {e}")))?;
            for &id in encoding.get_ids() {
                let start = id as usize * STATIC_DIM;
                if let Some(row) = self.table.get(start..start + STATIC_DIM) {
                    v.iter_mut().zip(row).for_each(|(a, b)| *a += b);
                }
            }
            normalize(v);
        }
        Ok(out)
    }
}

/// The table of `tokenizer`'s vocabulary: each token's encoder embedding, projected on the
/// principal components and weighted by [`sif_weights`].
fn distill(tokenizer: &Tokenizer) -> Result<Vec<f32>, ModelError> {
    let vocabulary = tokenizer.get_vocab_size(true);
    let wrapping = tokenizer.encode_fast("", true).map_err(|e| ModelError::Distill(format!("tokenizer: {e}")))?;
    let wrapping: Vec<i64> = wrapping.get_ids().iter().map(|&i| i64::from(i)).collect();
    let first = wrapping.len().min(1);
    let special: HashSet<u32> =
        tokenizer.get_added_tokens_decoder().iter().filter(|(_, t)| t.special).map(|(&id, _)| id).collect();
    let ids: Vec<u32> = (0..vocabulary as u32).filter(|id| !special.contains(id)).collect();
    let sequences: Vec<Vec<i64>> =
        ids.iter().map(|&id| [&wrapping[..first], &[i64::from(id)], &wrapping[first..]].concat()).collect();
    let pooled = with_encoder(|m| m.pool(&sequences))?;
    let x = Array2::from_shape_vec((ids.len(), DIM), pooled).map_err(|e| ModelError::Distill(e.to_string()))?;
    let pca = Pca::fit(x.view(), STATIC_DIM).ok_or_else(|| {
        ModelError::Distill(format!("{} token vectors do not give {STATIC_DIM} principal components", ids.len()))
    })?;
    let projected = pca.transform(x.view());
    let weights = sif_weights(vocabulary);
    let mut table = vec![0f32; vocabulary * STATIC_DIM];
    for (&id, row) in ids.iter().zip(projected.rows()) {
        let weight = weights[id as usize] as f32;
        let out = &mut table[id as usize * STATIC_DIM..][..STATIC_DIM];
        out.iter_mut().zip(row).for_each(|(o, v)| *o = v * weight);
    }
    Ok(table)
}

/// The weight of each token of a vocabulary of `size` ordered most frequent first: the token at
/// `rank` has the probability `p = 1 / (rank + 2)` under Zipf's law, normalized, and the weight
/// `SIF / (SIF + p)`, so rare tokens count fully and the most common ones little.
fn sif_weights(size: usize) -> Vec<f64> {
    let harmonic: f64 = (0..size).map(|r| 1.0 / (r as f64 + 2.0)).sum();
    (0..size).map(|rank| SIF / (SIF + 1.0 / (rank as f64 + 2.0) / harmonic)).collect()
}

#[cfg(test)]
mod tests {
    use super::super::{available_for_test, dot, embed, Embedding};
    use super::*;

    #[test]
    fn frequent_tokens_weigh_less() {
        let all = sif_weights(30_522);
        let weights: Vec<f64> = [0, 100, 2_000, 10_000, 30_000].iter().map(|&r| all[r]).collect();
        assert!(weights.windows(2).all(|w| w[0] < w[1]), "{weights:?}");
        assert!(weights[0] < 0.01 && weights[4] > 0.9, "{weights:?}");
    }

    /// Distilled (or read from the cache): vectors of `STATIC_DIM` floats, normalized; a
    /// paraphrase is nearer than another request; a text of no known token is the zero vector.
    #[test]
    fn static_embeddings_place_paraphrases_near() {
        if !available_for_test("static_embeddings_place_paraphrases_near") {
            return;
        }
        let texts = ["my parcel has not arrived yet", "the package never came", "please reset my password", "", "🙂"];
        let v = embed(&texts, Embedding::Static).unwrap();
        assert_eq!(v.len(), texts.len() * STATIC_DIM);
        let row = |i: usize| &v[i * STATIC_DIM..][..STATIC_DIM];
        assert!((dot(row(0), row(0)) - 1.0).abs() < 1e-5);
        assert!(dot(row(0), row(1)) > dot(row(0), row(2)), "{} vs {}", dot(row(0), row(1)), dot(row(0), row(2)));
        assert!(row(3).iter().chain(row(4)).all(|&x| x == 0.0), "nothing known to embed");
        assert_eq!(embed(&texts[..1], Embedding::Static).unwrap(), row(0), "a text alone embeds as in a batch");
    }
}
