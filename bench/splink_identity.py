"""Splink (DuckDB backend) on the same records as `identity_bench run`, for the side-by-side in
bench/identity.sh. Same blocking rules as convlytics' defaults for these columns, comparisons of
the same kinds, unsupervised training (u by random sampling, m by EM), clusters at 0.9.

Usage: python splink_identity.py RECORDS.csv TRUTH.csv
Prints: seconds per phase, pairwise precision / recall / F1, clusters, peak memory.
"""

import logging
import resource
import sys
import time

import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def pairwise(assign, truth):
    parent = {r: r for r in assign}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in truth:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    true_of = {r: find(r) for r in assign}
    count = lambda keys: sum(n * (n - 1) // 2 for n in pd.Series(keys).value_counts())
    predicted = count(list(assign.values()))
    true = count(list(true_of.values()))
    both = count([f"{assign[r]}|{true_of[r]}" for r in assign])
    p = both / predicted if predicted else 1.0
    r = both / true if true else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0), len(set(assign.values()))


def main(records_path, truth_path):
    logging.disable(logging.CRITICAL)
    t0 = time.perf_counter()
    df = pd.read_csv(records_path, dtype=str, skipinitialspace=True, keep_default_na=False)
    df.columns = [c.strip() for c in df.columns]
    df = df.replace("", None)
    truth = pd.read_csv(truth_path, dtype=str, skipinitialspace=True).values.tolist()
    cols = set(df.columns)
    comparisons = [
        cl.NameComparison("given_name"),
        cl.NameComparison("surname"),
        cl.ExactMatch("street_number"),
        cl.JaroWinklerAtThresholds("address_1", [0.9, 0.8]),
        cl.NameComparison("suburb"),
        cl.DamerauLevenshteinAtThresholds("postcode", [1]),
        cl.ExactMatch("state"),
        cl.DamerauLevenshteinAtThresholds("date_of_birth", [1, 2]),
        cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
    ]
    if "address_2" in cols:
        comparisons.append(cl.JaroWinklerAtThresholds("address_2", [0.9, 0.8]))
    blocking = [
        block_on("date_of_birth"),
        block_on("soc_sec_id"),
        block_on("given_name", "surname"),
        block_on("given_name", "postcode"),
        block_on("surname", "postcode"),
    ]
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=comparisons,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(df), settings, log_level=None)
    t1 = time.perf_counter()
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth"), block_on("soc_sec_id", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    for rule in (block_on("date_of_birth"), block_on("given_name", "surname"), block_on("soc_sec_id")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    t2 = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=0.9)
    t3 = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.9)
    out = clusters.as_pandas_dataframe()[["rec_id", "cluster_id"]]
    t4 = time.perf_counter()
    p, r, f1, n_clusters = pairwise(dict(zip(out.rec_id, out.cluster_id)), truth)
    print(f"splink load {t1 - t0:.2f} s, train {t2 - t1:.2f} s, predict {t3 - t2:.2f} s, cluster {t4 - t3:.2f} s")
    print(f"splink end to end    {t4 - t0:.2f} s")
    print(f"splink records/s     {len(df) / (t4 - t0):.0f}")
    print(f"splink precision     {p:.4f}")
    print(f"splink recall        {r:.4f}")
    print(f"splink f1            {f1:.4f}")
    print(f"splink clusters      {n_clusters}")
    print(f"splink peak memory   {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
