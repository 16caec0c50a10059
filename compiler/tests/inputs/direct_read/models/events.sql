{{ config(materialized='table') }}
select e.id, e.kind
from raw.events as e
