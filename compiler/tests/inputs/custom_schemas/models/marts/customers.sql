{{ config(alias='dim_customers') }}
select customer_id, '{{ this }}' as built_as from {{ ref('stg_customers') }}
