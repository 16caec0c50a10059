{#- DataFusion versions of package macros whose default SQL is wrong or unsupported there (as
    dbt's shim packages, e.g. spark_utils, do for other engines). adapter.dispatch searches these
    right after the root project, and only on the embedded engine. -#}

{#- dbt_utils.deduplicate: the default's natural join drops rows whose columns hold NULL;
    DataFusion has DISTINCT ON, as PostgreSQL does. -#}
{%- macro datafusion__deduplicate(relation, partition_by, order_by) -%}
    select
        distinct on ({{ partition_by }}) *
    from {{ relation }}
    order by {{ partition_by }}{{ ',' ~ order_by }}
{%- endmacro -%}
