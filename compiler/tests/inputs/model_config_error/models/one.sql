-- a model with a misspelt config
{{ config(materialised='table') }}
select 1 as one
