"""Writes a generated dbt-style project of N models for bench/compile.sh: four layers of N/4
(staging views over one source; normalizing views calling a macro; tables joining two normalizing
models; marts unioning two enriched models with a group-by), every model documented with
not_null and unique tests on `id`. Usage: generate_project.py N DIR"""
import os
import sys

n, root = int(sys.argv[1]), sys.argv[2]
q = n // 4
for d in ["models/staging", "models/normalized", "models/enriched", "models/marts", "macros"]:
    os.makedirs(os.path.join(root, d), exist_ok=True)


def write(path, text):
    with open(os.path.join(root, path), "w") as f:
        f.write(text)


write("dbt_project.yml", """name: generated
version: "1.0"
config-version: 2
profile: generated
models:
  generated:
    staging:
      +materialized: view
    normalized:
      +materialized: view
    enriched:
      +materialized: table
    marts:
      +materialized: table
""")
os.makedirs(os.path.join(root, "dbt_profiles"), exist_ok=True)
write("dbt_profiles/profiles.yml", """generated:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: bench.duckdb
""")
write("macros/normalize.sql", """{% macro normalize(column) -%}
lower(trim(cast({{ column }} as varchar)))
{%- endmacro %}
""")
write("models/sources.yml", """version: 2
sources:
  - name: raw
    tables:
      - name: events
""")


def documented(layer, names):
    lines = ["version: 2", "models:"]
    for name in names:
        lines += [f"  - name: {name}", f"    description: The {layer} model {name}.", "    columns:",
                  "      - name: id", "        description: The row's id.", "        data_tests: [not_null, unique]"]
    write(f"models/{layer}/{layer}.yml", "\n".join(lines) + "\n")


layers = {"staging": [], "normalized": [], "enriched": [], "marts": []}
for i in range(q):
    name = f"stg_{i}"
    layers["staging"].append(name)
    write(f"models/staging/{name}.sql",
          f"select id, category, value, created_at\nfrom {{{{ source('raw', 'events') }}}}\nwhere shard = {i}\n")
for i in range(q):
    name = f"norm_{i}"
    layers["normalized"].append(name)
    write(f"models/normalized/{name}.sql",
          f"select id, {{{{ normalize('category') }}}} as category, value, created_at\nfrom {{{{ ref('stg_{i}') }}}}\n")
for i in range(q):
    name = f"enr_{i}"
    layers["enriched"].append(name)
    j = (i + 1) % q
    write(f"models/enriched/{name}.sql",
          f"select a.id, a.category, a.value + b.value as value, a.created_at\n"
          f"from {{{{ ref('norm_{i}') }}}} as a\njoin {{{{ ref('norm_{j}') }}}} as b on a.id = b.id\n")
for i in range(q):
    name = f"mart_{i}"
    layers["marts"].append(name)
    j = (i + 1) % q
    write(f"models/marts/{name}.sql",
          f"select id, category, sum(value) as value, count(*) as events\nfrom (\n"
          f"    select * from {{{{ ref('enr_{i}') }}}}\n    union all\n    select * from {{{{ ref('enr_{j}') }}}}\n) as u\n"
          f"group by id, category\n")
for layer, names in layers.items():
    documented(layer, names)
