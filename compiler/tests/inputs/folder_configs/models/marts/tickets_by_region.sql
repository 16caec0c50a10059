select region, count(*) as tickets from {{ ref('stg_tickets') }} group by region
