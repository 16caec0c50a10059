{{ config(materialized='view') }}
select * from {{ ref('tickets_by_region') }} where tickets > 0 -- {{ this.identifier }}
