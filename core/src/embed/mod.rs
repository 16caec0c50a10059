//! Sentence embeddings, two ways a taxonomy chooses between (`semantic: encoder | static`):
//!
//! * the **encoder** (`encoder.rs`): the ONNX model of `MODELS.md` (all-MiniLM-L6-v2, int8);
//! * the **static** embedding (`distilled.rs`): a vector per vocabulary token distilled from the
//!   encoder the model2vec way (every token through the encoder once, PCA, frequency weighting),
//!   averaged over a text's tokens: no network to run, so tens of thousands of texts a second.
//!
//! The model, its tokenizer and the ONNX Runtime library are files in one directory (fetched by
//! `scripts/common.sh`'s `ensure_models`), loaded once per process (or PostgreSQL backend) on
//! first use; the static table is distilled on its first use and kept on disk. When the files
//! are missing, [`embed`] says why and callers fall back to rules.

mod distilled;
mod encoder;
mod pca;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Dimensions of one encoder embedding.
pub const DIM: usize = 384;
/// Dimensions of one static embedding (the principal components kept).
pub const STATIC_DIM: usize = 256;

/// How a taxonomy's texts and examples are embedded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Embedding {
    /// The sentence encoder: the most accurate, about 500 texts a second on two cores.
    #[default]
    Encoder,
    /// Token vectors distilled from the encoder, averaged: tens of thousands of texts a second
    /// per core.
    Static,
}

impl Embedding {
    /// The dimensions of its vectors.
    pub fn dim(self) -> usize {
        match self {
            Embedding::Encoder => DIM,
            Embedding::Static => STATIC_DIM,
        }
    }

    /// Whether this is the default (so taxonomies that leave it out keep their version).
    pub fn is_default(&self) -> bool {
        *self == Embedding::default()
    }
}

/// Where the model files are and how many threads ONNX Runtime may use.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    /// Directory with `model.onnx`, `tokenizer.json` and `libonnxruntime.so`.
    pub dir: PathBuf,
    /// ONNX Runtime's intra-op threads.
    pub threads: usize,
}

impl ModelConfig {
    /// From `CONVLYTICS_MODEL_DIR` (default `~/.cache/convlytics/models/minilm-l6-int8`) and
    /// `CONVLYTICS_ONNX_THREADS` (default: every core).
    pub fn from_env() -> Self {
        let dir = std::env::var_os("CONVLYTICS_MODEL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| user_cache().join("models/minilm-l6-int8"));
        let threads = std::env::var("CONVLYTICS_ONNX_THREADS")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        Self { dir, threads }
    }
}

static CONFIG: OnceLock<ModelConfig> = OnceLock::new();
static ENCODER: OnceLock<Result<Mutex<encoder::Model>, ModelError>> = OnceLock::new();

/// Sets where the model is, before its first use; later calls change nothing and return false.
pub fn configure(config: ModelConfig) -> bool {
    CONFIG.set(config).is_ok()
}

fn config() -> &'static ModelConfig {
    CONFIG.get_or_init(ModelConfig::from_env)
}

fn encoder() -> Result<&'static Mutex<encoder::Model>, ModelError> {
    ENCODER
        .get_or_init(|| encoder::Model::load(&config().dir, config().threads).map(Mutex::new))
        .as_ref()
        .map_err(Clone::clone)
}

/// Runs `f` on the loaded encoder (one caller at a time).
fn with_encoder<T>(f: impl FnOnce(&mut encoder::Model) -> Result<T, ModelError>) -> Result<T, ModelError> {
    let mut model = encoder()?.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut model)
}

/// Whether the encoder can be used; the error says which file is missing and how to fetch it.
pub fn available() -> Result<(), ModelError> {
    encoder().map(drop)
}

/// Whether `embedding` can be used: the encoder loads, and for the static embedding its table is
/// read from the cache or distilled.
pub fn ready(embedding: Embedding) -> Result<(), ModelError> {
    match embedding {
        Embedding::Encoder => available(),
        Embedding::Static => distilled::get().map(drop),
    }
}

/// For test suites: whether the model can be used. When it cannot, this says on stderr which
/// test does not run and why; when `CONVLYTICS_REQUIRE_MODEL` is set (as `scripts/test.sh` sets
/// it) a missing model fails the test instead.
pub fn available_for_test(test: &str) -> bool {
    match available() {
        Ok(()) => true,
        Err(e) => {
            assert!(std::env::var_os("CONVLYTICS_REQUIRE_MODEL").is_none(), "CONVLYTICS_REQUIRE_MODEL is set: {e}");
            // Straight to stderr, past the test harness's capture, so a plain `cargo test`
            // shows what it did not run.
            let note =
                format!("note: {test}: needs the embedding model, not run here ({e}); scripts/test.sh runs it\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
            false
        }
    }
}

/// What identifies `embedding`'s outputs (for caches of embeddings).
pub fn model_id(embedding: Embedding) -> Result<String, ModelError> {
    match embedding {
        Embedding::Encoder => with_encoder(|m| Ok(m.id.clone())),
        Embedding::Static => Ok(distilled::get()?.id.clone()),
    }
}

/// Embeddings of `texts` by `embedding`, `embedding.dim()` floats each, in order, normalized.
pub fn embed(texts: &[&str], embedding: Embedding) -> Result<Vec<f32>, ModelError> {
    match embedding {
        Embedding::Encoder => with_encoder(|m| m.embed(texts)),
        Embedding::Static => distilled::get()?.embed(texts),
    }
}

/// The user's convlytics cache, `~/.cache/convlytics` (relative when `HOME` is unset).
pub(crate) fn user_cache() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".cache/convlytics")
}

/// A folder of the cache for computed artefacts: `CONVLYTICS_CACHE_DIR` (default
/// `~/.cache/convlytics`), then `kind`.
pub(crate) fn cache_dir(kind: &str) -> PathBuf {
    std::env::var_os("CONVLYTICS_CACHE_DIR").map_or_else(user_cache, PathBuf::from).join(kind)
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a reader never sees half
/// a file; a cache that cannot be written is skipped (false).
pub(crate) fn save_to_cache(path: &Path, bytes: &[u8]) -> bool {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let saved = path.parent().map(std::fs::create_dir_all).transpose().is_ok()
        && std::fs::write(&tmp, bytes).is_ok()
        && std::fs::rename(&tmp, path).is_ok();
    if !saved {
        let _ = std::fs::remove_file(&tmp);
    }
    saved
}

/// Little-endian floats of `bytes` (a trailing partial float is dropped).
pub(crate) fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect()
}

/// Scales `v` to length 1 (a zero vector stays zero).
pub(crate) fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// The dot product (cosine similarity of normalized vectors), in eight running sums so the
/// compiler can use vector instructions (one running sum is bound by the latency of each add).
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let (xs, ys) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = xs.remainder().iter().zip(ys.remainder()).map(|(x, y)| x * y).sum();
    let mut sums = [0f32; LANES];
    for (x, y) in xs.zip(ys) {
        for lane in 0..LANES {
            sums[lane] += x[lane] * y[lane];
        }
    }
    sums.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_sums_every_product() {
        for n in [0, 1, 7, 8, 9, 256, 384, 389] {
            let a: Vec<f32> = (0..n).map(|i| (i % 7) as f32 - 3.0).collect();
            let b: Vec<f32> = (0..n).map(|i| (i % 5) as f32 * 0.5).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert_eq!(dot(&a, &b), plain, "n = {n}");
        }
    }
}
