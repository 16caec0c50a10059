select {{ dbt_utils.star(from=ref('orders'), except=['status'], prefix='o_') }} from {{ ref('orders') }}
