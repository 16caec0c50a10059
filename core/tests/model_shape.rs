//! A model file of another shape is a clear error, not a panic: `eight_dims.onnx` takes the
//! project's inputs (`input_ids`, `attention_mask`, `token_type_ids`) and gives a
//! `last_hidden_state` of 8 dimensions instead of 384 (made with the `onnx` package:
//! `Cast(input_ids) -> Unsqueeze(axis 2) -> Tile([1, 1, 8])`). The tokenizer and ONNX Runtime
//! come from the real model directory, so this runs where the model is installed.

use std::path::PathBuf;

use convlytics_core::embed::{self, ModelConfig};
use convlytics_core::taxonomy::{self, Registry};
use convlytics_core::{classify, Error, ModelError};

#[test]
fn a_model_of_other_dimensions_is_an_error() {
    let real = ModelConfig::from_env().dir;
    let installed = ["tokenizer.json", "libonnxruntime.so"].iter().all(|f| real.join(f).is_file());
    // Without the real files, this reports the missing model the way every model test does.
    if !installed && !embed::available_for_test("a_model_of_other_dimensions_is_an_error") {
        return;
    }
    let dir = tempfile_dir();
    for file in ["tokenizer.json", "libonnxruntime.so"] {
        std::fs::copy(real.join(file), dir.join(file)).expect("copy the model's files");
    }
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/inputs/model/eight_dims.onnx");
    std::fs::copy(fixture, dir.join("model.onnx")).expect("copy the fixture");
    // This test binary's first use of the model, so the configuration takes.
    assert!(embed::configure(ModelConfig { dir: dir.clone(), threads: 1 }));
    let e = embed::embed(&["my parcel has not arrived"], embed::Embedding::Encoder).unwrap_err();
    assert!(matches!(&e, ModelError::Shape { expected: 384, got, .. } if got.last() == Some(&8)), "{e}");
    assert!(e.to_string().contains("expected [texts, tokens, 384]"), "{e}");
    let taxonomy = taxonomy::parse_one("{name: t, intents: [{name: late, examples: [where is my parcel]}]}").unwrap();
    let session = Registry::new();
    session.register(taxonomy);
    let failed = classify::resolve(&session, "t").and_then(|c| c.explain(&[Some("hello")]));
    assert!(matches!(failed, Err(Error::Model(ModelError::Shape { .. }))), "{:?}", failed.err());
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("convlytics-model-shape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
