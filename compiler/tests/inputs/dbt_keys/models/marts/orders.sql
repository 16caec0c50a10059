{{ config(alias='fct_orders', post_hook="select 1", meta={'owner': 'finance'}) }}
select order_id, amount from {{ ref('stg_orders') }}
