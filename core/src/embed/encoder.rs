//! The sentence encoder: all-MiniLM-L6-v2 (int8) on ONNX Runtime. WordPiece tokens in, the
//! mask-weighted mean of the last hidden state out, L2-normalized.

use std::path::Path;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::TensorRef;
use tokenizers::{Tokenizer, TruncationParams};

use super::{normalize, DIM};
use crate::ModelError;

/// Tokens kept of one text; the rest is cut.
const MAX_TOKENS: usize = 256;
/// Texts run through the model together.
const BATCH: usize = 32;
/// The model output read: one vector per token.
const HIDDEN: &str = "last_hidden_state";

/// The loaded encoder.
pub(super) struct Model {
    session: Session,
    tokenizer: Tokenizer,
    /// What identifies its outputs (for caches of embeddings).
    pub id: String,
}

/// The prefix of `text` the encoder reads: its first `MAX_TOKENS` pre-tokens (runs of letters
/// and digits, or single punctuation marks, as BERT's pre-tokenizer splits them), each of which
/// becomes at least one token. The tokenizer never sees the rest, so a model call's memory is
/// bounded by this prefix, not by the text.
pub(super) fn encoded_prefix(text: &str) -> &str {
    let mut pre_tokens = 0;
    let mut in_word = false;
    for (at, c) in text.char_indices() {
        let starts = if c.is_whitespace() {
            in_word = false;
            false
        } else if c.is_alphanumeric() {
            !std::mem::replace(&mut in_word, true)
        } else {
            in_word = false;
            true
        };
        if starts {
            if pre_tokens == MAX_TOKENS {
                return &text[..at];
            }
            pre_tokens += 1;
        }
    }
    text
}

/// What identifies the outputs of the model in the file `model`: its size and the tokens read.
pub(super) fn id(model: &Path) -> String {
    let size = std::fs::metadata(model).map_or(0, |m| m.len());
    format!("minilm-l6-int8-{size}-{MAX_TOKENS}")
}

fn session(runtime: &Path, model: &Path, threads: usize) -> Result<Session, ModelError> {
    let load =
        |file: &Path, e: &dyn std::fmt::Display| ModelError::Load { file: file.to_owned(), problem: e.to_string() };
    let environment = ort::init_from(runtime)
        .map_err(|e| load(runtime, &e))?
        .with_name("convlytics")
        .build()
        .map_err(|e| load(runtime, &e))?;
    let built: ort::Result<Session> = (|| {
        Session::builder(&environment)?
            .with_optimization_level(GraphOptimizationLevel::All)?
            .with_intra_threads(threads.max(1))?
            .with_inter_threads(1)?
            .commit_from_file(model)
    })();
    built.map_err(|e| load(model, &e))
}

impl Model {
    /// Loads the model, its tokenizer and ONNX Runtime from `dir`.
    pub(super) fn load(dir: &Path, threads: usize) -> Result<Self, ModelError> {
        let runtime = dir.join("libonnxruntime.so");
        let model = dir.join("model.onnx");
        let tokenizer = dir.join("tokenizer.json");
        for file in [&runtime, &model, &tokenizer] {
            if !file.is_file() {
                return Err(ModelError::Missing(file.clone()));
            }
        }
        let session = session(&runtime, &model, threads)?;
        let not_a_tokenizer = |e: tokenizers::Error| ModelError::Load {
            file: tokenizer.clone(),
            problem: format!("not a tokenizer: {e}"),
        };
        let mut loaded = Tokenizer::from_file(&tokenizer).map_err(not_a_tokenizer)?;
        loaded.with_padding(None);
        loaded
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(not_a_tokenizer)?;
        Ok(Self { session, tokenizer: loaded, id: id(&model) })
    }

    /// Embeddings of `texts`, `DIM` floats each, in order.
    pub(super) fn embed(&mut self, texts: &[&str]) -> Result<Vec<f32>, ModelError> {
        let mut encoded = Vec::with_capacity(texts.len());
        for text in texts {
            let e = self
                .tokenizer
                .encode_fast(encoded_prefix(text), true)
                .map_err(|e| ModelError::Run(format!("tokenizer: {e}")))?;
            encoded.push(e.get_ids().iter().map(|&i| i64::from(i)).collect::<Vec<_>>());
        }
        let mut out = self.pool(&encoded)?;
        out.chunks_exact_mut(DIM).for_each(normalize);
        Ok(out)
    }

    /// The sum of the last hidden state over each token id sequence, `DIM` floats each, in
    /// order (not normalized: the direction of the mean).
    /// Sequences are batched by length so padding stays small.
    pub(super) fn pool(&mut self, encoded: &[Vec<i64>]) -> Result<Vec<f32>, ModelError> {
        let mut order: Vec<usize> = (0..encoded.len()).collect();
        order.sort_by_key(|&i| encoded[i].len());
        let mut out = vec![0f32; encoded.len() * DIM];
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
            let hidden = self.run(shape, &ids, &mask, &types)?;
            for (row, &i) in chunk.iter().enumerate() {
                let v = &mut out[i * DIM..][..DIM];
                let len = encoded[i].len();
                for t in 0..len {
                    let h = &hidden[(row * width + t) * DIM..][..DIM];
                    v.iter_mut().zip(h).for_each(|(a, b)| *a += b);
                }
            }
        }
        Ok(out)
    }

    /// The last hidden state of one padded batch of `shape` (texts, tokens): `DIM` floats per
    /// token; a model whose output has another shape is an error.
    fn run(&mut self, shape: [usize; 2], ids: &[i64], mask: &[i64], types: &[i64]) -> Result<Vec<f32>, ModelError> {
        let failed = |e: ort::Error| ModelError::Run(e.to_string());
        let inputs = ort::inputs![
            "input_ids" => TensorRef::from_array_view((shape, ids)).map_err(failed)?,
            "attention_mask" => TensorRef::from_array_view((shape, mask)).map_err(failed)?,
            "token_type_ids" => TensorRef::from_array_view((shape, types)).map_err(failed)?,
        ];
        let outputs = self.session.run(inputs).map_err(failed)?;
        let output =
            outputs.get(HIDDEN).ok_or_else(|| ModelError::Shape { output: HIDDEN, got: Vec::new(), expected: DIM })?;
        let (dims, hidden) = output.try_extract_tensor::<f32>().map_err(failed)?;
        let expected = [shape[0] as i64, shape[1] as i64, DIM as i64];
        if dims.len() != 3 || dims[..] != expected[..] {
            return Err(ModelError::Shape { output: HIDDEN, got: dims.to_vec(), expected: DIM });
        }
        Ok(hidden.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{available_for_test, ModelConfig};
    use super::*;

    #[test]
    fn the_encoded_prefix_holds_max_tokens_pre_tokens() {
        let words = "word ".repeat(10 * MAX_TOKENS);
        assert_eq!(encoded_prefix(&words).split_whitespace().count(), MAX_TOKENS);
        let marks = "!?".repeat(MAX_TOKENS);
        assert_eq!(encoded_prefix(&marks).chars().count(), MAX_TOKENS);
        let mixed = "refund, please. ".repeat(MAX_TOKENS);
        assert!(encoded_prefix(&mixed).len() < mixed.len());
        assert_eq!(encoded_prefix("a short text"), "a short text");
        let one_long_word = "a".repeat(1 << 20);
        assert_eq!(encoded_prefix(&one_long_word), one_long_word, "a word is never cut");
    }

    /// The tokenizer gives the prefix the same (truncated) ids as the whole text, for texts of
    /// words, punctuation runs, CJK, digits and words longer than WordPiece reads: the cut
    /// never loses a token the model would have seen.
    #[test]
    fn the_prefix_encodes_to_the_same_tokens_as_the_whole_text() {
        if !available_for_test("the_prefix_encodes_to_the_same_tokens_as_the_whole_text") {
            return;
        }
        let path = ModelConfig::from_env().dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&path).expect("tokenizer");
        tokenizer.with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() })).unwrap();
        let ids = |text: &str| tokenizer.encode_fast(text, true).expect("encode").get_ids().to_vec();
        let texts = [
            "I was charged twice for my order, and I want a refund! ".repeat(60),
            "?!.,;:".repeat(200),
            "我的包裹还没有到，请帮我查一下。".repeat(100),
            "order 12345678901234567890 ".repeat(200),
            format!("{} refund please ", "a".repeat(150)).repeat(100),
            "unbelievably-inconveniencing, re-re-refunded ".repeat(80),
        ];
        for text in &texts {
            let prefix = encoded_prefix(text);
            let head: String = text.chars().take(20).collect();
            assert!(prefix.len() < text.len(), "the text is cut: {head}");
            assert_eq!(ids(prefix), ids(text), "{head}");
        }
    }
}
