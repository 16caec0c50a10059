//! Semantic heads are costly to build (every example through the model, then training), so each
//! is kept on disk, keyed by the model and the exact samples, under `CONVLYTICS_CACHE_DIR`
//! (default `~/.cache/convlytics`). A cache that cannot be read or written is skipped.

use ndarray::Array2;
use sha2::{Digest, Sha256};

use super::semantic::{Sample, Semantic};
use crate::embed::{self, Embedding};
use crate::{ModelError, Result};

/// Format of the saved heads; bumped when training changes.
const FORMAT: &str = "semantic-head-1";

/// The trained head of `samples` over `labels` labels, on `embedding`'s vectors: from the cache,
/// or built and saved.
pub(super) fn semantic(samples: Vec<Sample>, labels: usize, embedding: Embedding) -> Result<Semantic> {
    let mut key = Sha256::new();
    key.update(FORMAT);
    key.update(embed::model_id(embedding)?);
    key.update(labels.to_le_bytes());
    for s in &samples {
        key.update(s.label.to_le_bytes());
        key.update([u8::from(s.is_description)]);
        key.update(s.text.len().to_le_bytes());
        key.update(&s.text);
    }
    let key: String = key.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
    let path = embed::cache_dir("semantic").join(format!("{key}.bin"));
    let dim = embedding.dim();
    if let Ok(bytes) = std::fs::read(&path) {
        if let Some(semantic) = Semantic::from_bytes(samples.clone(), labels, dim, &bytes) {
            return Ok(semantic);
        }
    }
    let texts: Vec<&str> = samples.iter().map(|s| s.text.as_str()).collect();
    let flat = embed::embed(&texts, embedding)?;
    let vectors = Array2::from_shape_vec((samples.len(), dim), flat).map_err(|e| ModelError::Run(e.to_string()))?;
    let semantic = Semantic::train(samples, vectors, labels);
    embed::save_to_cache(&path, &semantic.to_bytes());
    Ok(semantic)
}
