-- How right the labels are, by the people who reviewed them (`convlytics review sample`, then
-- `review import`): per field, label and taxonomy version, the reviews, the precision with its
-- 95% Wilson interval, what reviewers said the label should have been, how often two reviewers
-- of one label agreed, and the recall where the sampling design allows it.
--
-- Precision counts reviews (a label reviewed by two people counts twice); `unsure` counts in
-- neither. Recall needs a per-label or uniform sample with a usable review (correct, or wrong
-- with the right label named) in every stratum: each review then stands for
-- stratum_size / reviews-in-its-stratum conversations, and recall is the weighted share of the
-- conversations whose true label is this one that were given it. Empty until the first import.
{%- set reviews = load_relation(source('reviews', 'label_reviews')) %}
with reviews as (
{%- if reviews %}
    select item_id, sample_id, field, label, verdict, correct_label, reviewer, reviewed_at,
           taxonomy_version, design, stratum, stratum_size, strata
    from {{ reviews }}
{%- else %}
    select cast(null as varchar) as item_id, cast(null as varchar) as sample_id,
           cast(null as varchar) as field, cast(null as varchar) as label,
           cast(null as varchar) as verdict, cast(null as varchar) as correct_label,
           cast(null as varchar) as reviewer, cast(null as varchar) as reviewed_at,
           cast(null as varchar) as taxonomy_version, cast(null as varchar) as design,
           cast(null as varchar) as stratum, cast(null as bigint) as stratum_size,
           cast(null as bigint) as strata
    where 1 = 0
{%- endif %}
),
judged as (
    select field, label, taxonomy_version,
           count(*) as reviews,
           count(distinct item_id) as reviewed_items,
           sum(case when verdict = 'correct' then 1 else 0 end) as correct,
           sum(case when verdict = 'wrong' then 1 else 0 end) as wrong,
           sum(case when verdict = 'unsure' then 1 else 0 end) as unsure,
           min(reviewed_at) as first_reviewed_at,
           max(reviewed_at) as last_reviewed_at
    from reviews
    group by field, label, taxonomy_version
),
-- The Wilson score interval at 95% (z = 1.96) of correct / (correct + wrong).
wilson as (
    select j.*, correct + wrong as n,
           case when correct + wrong > 0 then correct * 1.0 / (correct + wrong) end as p
    from judged j
),
corrections as (
    select field, label, taxonomy_version, correct_label, count(*) as times
    from reviews
    where verdict = 'wrong' and correct_label is not null
    group by field, label, taxonomy_version, correct_label
),
confusions as (
    select field, label, taxonomy_version,
           string_agg(correct_label || ': ' || cast(times as varchar), ', ' order by times desc, correct_label) as confusions
    from corrections
    group by field, label, taxonomy_version
),
-- Items two or more people judged (unsure aside): did they give one verdict?
per_item as (
    select field, label, taxonomy_version, item_id,
           count(distinct reviewer) as reviewers,
           count(distinct verdict || '/' || coalesce(correct_label, '')) as verdicts
    from reviews
    where verdict <> 'unsure'
    group by field, label, taxonomy_version, item_id
),
agreement as (
    select field, label, taxonomy_version,
           count(*) as items_reviewed_twice,
           avg(case when verdicts = 1 then 1.0 else 0.0 end) as reviewer_agreement
    from per_item
    where reviewers >= 2
    group by field, label, taxonomy_version
),
usable as (
    select sample_id, field, label, taxonomy_version, stratum, stratum_size, strata,
           case when verdict = 'correct' then label else correct_label end as true_label
    from reviews
    where field in ('intent', 'resolution') and design in ('per_label', 'uniform')
      and (verdict = 'correct' or (verdict = 'wrong' and correct_label is not null))
),
covering as (
    select sample_id from usable group by sample_id having count(distinct stratum) = max(strata)
),
per_stratum as (
    select sample_id, stratum, count(*) as usable_reviews from usable group by sample_id, stratum
),
weighted as (
    select u.field, u.taxonomy_version, u.label, u.true_label,
           u.stratum_size * 1.0 / s.usable_reviews as weight
    from usable u
    join covering c on c.sample_id = u.sample_id
    join per_stratum s on s.sample_id = u.sample_id and s.stratum = u.stratum
),
recall as (
    select field, taxonomy_version, true_label as label,
           sum(case when label = true_label then weight else 0 end) / sum(weight) as recall
    from weighted
    group by field, taxonomy_version, true_label
)
select
    w.field,
    w.label,
    w.taxonomy_version,
    w.reviews,
    w.reviewed_items,
    w.correct,
    w.wrong,
    w.unsure,
    w.p as precision,
    -- Kept within 0..p and p..1 against rounding at p = 0 and p = 1 (where a bound is p).
    case when w.n > 0 then least(w.p,
        (w.p + 1.9208 / w.n - 1.96 * sqrt(w.p * (1 - w.p) / w.n + 0.9604 / (w.n * w.n))) / (1 + 3.8416 / w.n))
    end as precision_low,
    case when w.n > 0 then greatest(w.p,
        (w.p + 1.9208 / w.n + 1.96 * sqrt(w.p * (1 - w.p) / w.n + 0.9604 / (w.n * w.n))) / (1 + 3.8416 / w.n))
    end as precision_high,
    c.confusions,
    coalesce(a.items_reviewed_twice, 0) as items_reviewed_twice,
    a.reviewer_agreement,
    r.recall,
    w.first_reviewed_at,
    w.last_reviewed_at
from wilson w
left join confusions c
  on c.field = w.field and c.label = w.label and c.taxonomy_version = w.taxonomy_version
left join agreement a
  on a.field = w.field and a.label = w.label and a.taxonomy_version = w.taxonomy_version
left join recall r
  on r.field = w.field and r.label = w.label and r.taxonomy_version = w.taxonomy_version
