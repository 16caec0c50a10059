//! Sentence embeddings with the ONNX model of `MODELS.md` (all-MiniLM-L6-v2, int8): WordPiece
//! tokens in, the mask-weighted mean of the last hidden state out, L2-normalized.
//!
//! The model, its tokenizer and the ONNX Runtime library are files in one directory (fetched by
//! `scripts/common.sh`'s `ensure_models`), loaded once per process (or PostgreSQL backend) on
//! first use. When they are missing, [`embed`] says why and callers fall back to rules.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::TensorRef;
use tokenizers::{Tokenizer, TruncationParams};

/// Dimensions of one embedding.
pub const DIM: usize = 384;
/// Tokens kept of one text; the rest is cut.
const MAX_TOKENS: usize = 256;
/// Texts run through the model together.
const BATCH: usize = 32;

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

struct Model {
    session: Session,
    tokenizer: Tokenizer,
    id: String,
}

static CONFIG: OnceLock<ModelConfig> = OnceLock::new();
static MODEL: OnceLock<Result<Mutex<Model>, String>> = OnceLock::new();

/// Sets where the model is, before its first use; later calls change nothing and return false.
pub fn configure(config: ModelConfig) -> bool {
    CONFIG.set(config).is_ok()
}

fn model() -> Result<&'static Mutex<Model>, String> {
    MODEL
        .get_or_init(|| {
            let config = CONFIG.get_or_init(ModelConfig::from_env);
            Model::load(&config.dir, config.threads).map(Mutex::new)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Whether the model can be used; the error says which file is missing and how to fetch it.
pub fn available() -> Result<(), String> {
    model().map(drop)
}

/// What identifies the loaded model's outputs (for caches of embeddings).
pub fn model_id() -> Result<String, String> {
    Ok(model()?.lock().unwrap_or_else(|p| p.into_inner()).id.clone())
}

/// Embeddings of `texts`, `DIM` floats each, in order. Texts are batched by length so padding
/// stays small.
pub fn embed(texts: &[&str]) -> Result<Vec<f32>, String> {
    let mut model = model()?.lock().unwrap_or_else(|p| p.into_inner());
    model.embed(texts)
}

fn session(runtime: &Path, model: &Path, threads: usize) -> Result<Session, String> {
    let environment = ort::init_from(runtime)
        .map_err(|e| format!("ONNX Runtime library {}: {e}", runtime.display()))?
        .with_name("convlytics")
        .build()
        .map_err(|e| format!("ONNX Runtime environment: {e}"))?;
    let built: ort::Result<Session> = (|| {
        Session::builder(&environment)?
            .with_optimization_level(GraphOptimizationLevel::All)?
            .with_intra_threads(threads.max(1))?
            .with_inter_threads(1)?
            .commit_from_file(model)
    })();
    built.map_err(|e| format!("ONNX Runtime could not load {}: {e}", model.display()))
}

impl Model {
    fn load(dir: &Path, threads: usize) -> Result<Self, String> {
        let runtime = dir.join("libonnxruntime.so");
        let model = dir.join("model.onnx");
        let tokenizer = dir.join("tokenizer.json");
        for file in [&runtime, &model, &tokenizer] {
            if !file.is_file() {
                return Err(format!(
                    "{} is missing: run scripts/setup-models.sh (or set CONVLYTICS_MODEL_DIR to the directory holding model.onnx, tokenizer.json and libonnxruntime.so)",
                    file.display()
                ));
            }
        }
        let session = session(&runtime, &model, threads)?;
        let mut tokenizer =
            Tokenizer::from_file(&tokenizer).map_err(|e| format!("{}: not a tokenizer: {e}", tokenizer.display()))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| format!("tokenizer truncation: {e}"))?;
        let size = std::fs::metadata(&model).map_or(0, |m| m.len());
        Ok(Self { session, tokenizer, id: format!("minilm-l6-int8-{size}-{MAX_TOKENS}") })
    }

    fn embed(&mut self, texts: &[&str]) -> Result<Vec<f32>, String> {
        let mut encoded = Vec::with_capacity(texts.len());
        for text in texts {
            let e = self.tokenizer.encode_fast(*text, true).map_err(|e| format!("tokenizer: {e}"))?;
            encoded.push(e.get_ids().iter().map(|&i| i64::from(i)).collect::<Vec<_>>());
        }
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encoded[i].len());
        let mut out = vec![0f32; texts.len() * DIM];
        for chunk in order.chunks(BATCH) {
            let width = chunk.iter().map(|&i| encoded[i].len()).max().unwrap_or(0).max(1);
            let mut ids = vec![0i64; chunk.len() * width];
            let mut mask = vec![0i64; chunk.len() * width];
            for (row, &i) in chunk.iter().enumerate() {
                ids[row * width..][..encoded[i].len()].copy_from_slice(&encoded[i]);
                mask[row * width..][..encoded[i].len()].fill(1);
            }
            let types = vec![0i64; chunk.len() * width];
            let shape = [chunk.len(), width];
            let hidden = self.run(shape, &ids, &mask, &types).map_err(|e| format!("ONNX Runtime: {e}"))?;
            for (row, &i) in chunk.iter().enumerate() {
                let v = &mut out[i * DIM..][..DIM];
                let len = encoded[i].len();
                for t in 0..len {
                    let h = &hidden[(row * width + t) * DIM..][..DIM];
                    v.iter_mut().zip(h).for_each(|(a, b)| *a += b);
                }
                normalize(v);
            }
        }
        Ok(out)
    }

    fn run(&mut self, shape: [usize; 2], ids: &[i64], mask: &[i64], types: &[i64]) -> ort::Result<Vec<f32>> {
        let outputs = self.session.run(ort::inputs![
            "input_ids" => TensorRef::from_array_view((shape, ids))?,
            "attention_mask" => TensorRef::from_array_view((shape, mask))?,
            "token_type_ids" => TensorRef::from_array_view((shape, types))?,
        ])?;
        let (_, hidden) = outputs["last_hidden_state"].try_extract_tensor::<f32>()?;
        Ok(hidden.to_vec())
    }
}

/// The user's convlytics cache, `~/.cache/convlytics` (relative when `HOME` is unset).
pub(crate) fn user_cache() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".cache/convlytics")
}

/// Scales `v` to length 1 (a zero vector stays zero).
pub(crate) fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// The dot product (cosine similarity of normalized vectors).
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
