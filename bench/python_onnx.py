"""Plain ONNX Runtime on the model convlytics uses: the peer of bench/classify.sh.

    python_onnx.py MODEL_DIR TEXTS.csv THREADS [sorted]

Tokenizes with the model's tokenizer.json (padding to the longest text of each batch, cut at
256 tokens), runs batches of 32 in file order (or sorted by length with `sorted`, as convlytics
batches them) on THREADS intra-op threads, mean-pools with the mask and L2-normalizes. Prints
texts/s.
"""
import csv
import sys
import time

import numpy as np
import onnxruntime as ort
import tokenizers

model_dir, texts_path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
by_length = len(sys.argv) > 4 and sys.argv[4] == "sorted"
texts = [row["text"] for row in csv.DictReader(open(texts_path, newline=""))]
tokenizer = tokenizers.Tokenizer.from_file(f"{model_dir}/tokenizer.json")
tokenizer.enable_padding()
tokenizer.enable_truncation(256)
options = ort.SessionOptions()
options.intra_op_num_threads = threads
options.inter_op_num_threads = 1
session = ort.InferenceSession(f"{model_dir}/model.onnx", options, providers=["CPUExecutionProvider"])


def embed(batch):
    encoded = tokenizer.encode_batch(batch)
    ids = np.array([e.ids for e in encoded], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
    hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
    pooled = (hidden * mask[:, :, None]).sum(1) / mask.sum(1)[:, None]
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


embed(texts[:64])
order = sorted(texts, key=lambda t: len(tokenizer.encode(t).ids)) if by_length else texts
started = time.perf_counter()
for i in range(0, len(order), 32):
    embed(order[i : i + 32])
seconds = time.perf_counter() - started
label = "sorted by length" if by_length else "file order"
print(f"onnxruntime, {threads} thread(s), {label:<16} {len(texts) / seconds:>7.1f} texts/s ({len(texts)} texts, {seconds:.1f} s)")
