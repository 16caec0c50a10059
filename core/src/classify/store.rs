//! Semantic heads are costly to build (every example through the model, then training), so each
//! is kept on disk, keyed by the model and the exact samples, under `CONVLYTICS_CACHE_DIR`
//! (default `~/.cache/convlytics`). A cache that cannot be read or written is skipped.

use std::path::PathBuf;

use ndarray::Array2;
use sha2::{Digest, Sha256};

use super::semantic::{Sample, Semantic};
use crate::embed::{self, DIM};
use crate::{ModelError, Result};

/// Format of the saved heads; bumped when training changes.
const FORMAT: &str = "semantic-head-1";

fn dir() -> PathBuf {
    std::env::var_os("CONVLYTICS_CACHE_DIR").map_or_else(embed::user_cache, PathBuf::from).join("semantic")
}

/// The trained head of `samples` over `labels` labels: from the cache, or built and saved.
pub(super) fn semantic(samples: Vec<Sample>, labels: usize) -> Result<Semantic> {
    let mut key = Sha256::new();
    key.update(FORMAT);
    key.update(embed::model_id()?);
    key.update(labels.to_le_bytes());
    for s in &samples {
        key.update(s.label.to_le_bytes());
        key.update([u8::from(s.is_description)]);
        key.update(s.text.len().to_le_bytes());
        key.update(&s.text);
    }
    let key: String = key.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
    let path = dir().join(format!("{key}.bin"));
    if let Ok(bytes) = std::fs::read(&path) {
        if let Some(semantic) = Semantic::from_bytes(samples.clone(), labels, &bytes) {
            return Ok(semantic);
        }
    }
    let texts: Vec<&str> = samples.iter().map(|s| s.text.as_str()).collect();
    let flat = embed::embed(&texts)?;
    let vectors = Array2::from_shape_vec((samples.len(), DIM), flat).map_err(|e| ModelError::Run(e.to_string()))?;
    let semantic = Semantic::train(samples, vectors, labels);
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let saved = path.parent().map(std::fs::create_dir_all).transpose().is_ok()
        && std::fs::write(&tmp, semantic.to_bytes()).is_ok()
        && std::fs::rename(&tmp, &path).is_ok();
    if !saved {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(semantic)
}
