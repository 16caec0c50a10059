{#- Written by `convlytics dbt macros`: the convlytics Jinja functions for dbt-core with dbt-postgres and
    pg_convlytics. Do not edit; write it again when the project's settings or taxonomies change.
    convlytics uses its own built-in functions of these names. -#}

{% macro identity_settings(name) -%}
{%- set known = {"customers": "'{\"columns\":{\"account_ref\":\"identifier\",\"full_name\":\"name\"},\"deterministic\":[\"email\",\"phone\"],\"comparisons\":[],\"threshold\":0.9,\"default_region\":\"US\",\"max_block_size\":2000,\"u_sample_pairs\":1000000,\"seed\":42}'"} -%}
{%- if name not in known -%}
{{ exceptions.raise_compiler_error("identity_settings('" ~ name ~ "'): no identity named '" ~ name ~ "'") }}
{%- endif -%}
{{ known[name] }}
{%- endmacro %}

{% macro pii_policy(name) -%}
{%- set known = {"speaker": "'{\"operator\":\"placeholder\",\"threshold\":0.5,\"default_region\":\"US\",\"allow\":[\"support@example.com\"],\"mask\":{\"keep_last\":4,\"char\":\"*\"},\"key_env\":\"CONVLYTICS_PII_KEY\",\"speaker\":true}'", "support": "'{\"operator\":\"placeholder\",\"operators\":{\"CREDIT_CARD\":\"mask\",\"PERSON\":\"indexed\"},\"threshold\":0.5,\"default_region\":\"US\",\"allow\":[\"support@example.com\"],\"patterns\":[{\"type\":\"ORDER_ID\",\"regex\":\"\\\\bORD-\\\\d{4,8}\\\\b\",\"score\":0.8,\"context\":[\"order\"]}],\"mask\":{\"keep_last\":4,\"char\":\"*\"},\"key_env\":\"CONVLYTICS_PII_KEY\"}'"} -%}
{%- if name not in known -%}
{{ exceptions.raise_compiler_error("pii_policy('" ~ name ~ "'): no pii policy named '" ~ name ~ "'") }}
{%- endif -%}
{{ known[name] }}
{%- endmacro %}

{% macro transcript_settings(name) -%}
{%- set known = {"support": "'{\"speakers\":{\"agent\":[\"support@example.com\"]},\"boilerplate\":[\"(?i)^this call (may|will) be (recorded|monitored)\"],\"silence_ms\":2000,\"max_payload_bytes\":67108864}'"} -%}
{%- if name not in known -%}
{{ exceptions.raise_compiler_error("transcript_settings('" ~ name ~ "'): no transcripts named '" ~ name ~ "'") }}
{%- endif -%}
{{ known[name] }}
{%- endmacro %}

{% macro taxonomy(name) -%}
{%- set known = {"product_feedback": "'product_feedback'", "support": "'support'"} -%}
{%- if name not in known -%}
{{ exceptions.raise_compiler_error("taxonomy('" ~ name ~ "'): no taxonomy named '" ~ name ~ "'") }}
{%- endif -%}
{{ known[name] }}
{%- endmacro %}

{% macro contract_violation(source_name, table_name) -%}
{%- set known = {"raw.raw_interactions": "case when not (\"source\" is not null and cast(\"source\" as varchar) <> '') then 'contract raw.raw_interactions: required field source is missing' when not (\"source_id\" is not null and cast(\"source_id\" as varchar) <> '') then 'contract raw.raw_interactions: required field source_id is missing' when not (\"channel\" is not null and cast(\"channel\" as varchar) <> '') then 'contract raw.raw_interactions: required field channel is missing' when (\"channel\" is not null and cast(\"channel\" as varchar) <> '') and cast(\"channel\" as varchar) not in ('chat', 'email', 'voice', 'ticket', 'bot', 'sms', 'social') then 'contract raw.raw_interactions: field channel is not one of chat, email, voice, ticket, bot, sms, social' when not (\"format\" is not null and cast(\"format\" as varchar) <> '') then 'contract raw.raw_interactions: required field format is missing' when not (\"payload\" is not null and cast(\"payload\" as varchar) <> '') then 'contract raw.raw_interactions: required field payload is missing' when not (\"received_at\" is not null and cast(\"received_at\" as varchar) <> '') then 'contract raw.raw_interactions: required field received_at is missing' when (\"received_at\" is not null and cast(\"received_at\" as varchar) <> '') and not (cast(\"received_at\" as varchar) ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$') then 'contract raw.raw_interactions: field received_at is not a timestamp' else cast(null as varchar) end"} -%}
{%- set key = source_name ~ '.' ~ table_name -%}
{%- if key not in known -%}
{{ exceptions.raise_compiler_error("contract_violation('" ~ source_name ~ "', '" ~ table_name ~ "'): no contract: on that source table") }}
{%- endif -%}
{{ known[key] }}
{%- endmacro %}

{% macro parse_transcripts(relation, payload='payload', format='format', settings=none) -%}
(select __r.*, __f.* from {{ relation }} as __r cross join lateral convlytics.parse_transcript(__r.{{ adapter.quote(payload) }}, __r.{{ adapter.quote(format) }}{% if settings %}, {{ settings }}{% endif %}) as __f)
{%- endmacro %}

{% macro transcript_infos(relation, payload='payload', format='format', settings=none) -%}
(select __r.*, __f.* from {{ relation }} as __r left join lateral convlytics.transcript_info(__r.{{ adapter.quote(payload) }}, __r.{{ adapter.quote(format) }}{% if settings %}, {{ settings }}{% endif %}) as __f on true)
{%- endmacro %}

{% macro explain_intents(relation, text='text', taxonomy=none) -%}
(select __r.*, __f.* from {{ relation }} as __r left join lateral convlytics.classify_intent_explain(__r.{{ adapter.quote(text) }}, {{ taxonomy }}) as __f on true)
{%- endmacro %}

{% macro test_taxonomy_labels(model, column_name, taxonomy, labels='intents', separator=none) -%}
{%- if taxonomy == "product_feedback" and labels == 'intents' %}
select * from {{ model }} as __t where {{ column_name }} is not null and cast({{ column_name }} as varchar) not in ('feature_request', 'unknown')
{%- elif taxonomy == "product_feedback" and labels == 'topics' and not separator %}
select * from (select unnest({{ column_name }}) as label from {{ model }} as __t) as __l where label <> '' and label not in ('dark_mode', 'offline_use', 'data_export', 'sharing', 'wearables', 'calendar_integration', 'gifting', 'scheduling')
{%- elif taxonomy == "product_feedback" and labels == 'topics' and separator %}
select * from (select unnest(string_to_array({{ column_name }}, '{{ separator }}')) as label from {{ model }} as __t) as __l where label <> '' and label not in ('dark_mode', 'offline_use', 'data_export', 'sharing', 'wearables', 'calendar_integration', 'gifting', 'scheduling')
{%- elif taxonomy == "support" and labels == 'intents' %}
select * from {{ model }} as __t where {{ column_name }} is not null and cast({{ column_name }} as varchar) not in ('delivery_status', 'return_refund', 'cancel_subscription', 'cancel_order', 'login_issue', 'billing_issue', 'discount_code', 'change_order', 'plan_change', 'app_problem', 'pre_purchase', 'feature_request', 'unknown')
{%- elif taxonomy == "support" and labels == 'topics' and not separator %}
select * from (select unnest({{ column_name }}) as label from {{ model }} as __t) as __l where label <> '' and label not in ('mobile_app', 'payment', 'shipping', 'promotions', 'pricing', 'pricing_confusion', 'compatibility', 'trust', 'competitor')
{%- elif taxonomy == "support" and labels == 'topics' and separator %}
select * from (select unnest(string_to_array({{ column_name }}, '{{ separator }}')) as label from {{ model }} as __t) as __l where label <> '' and label not in ('mobile_app', 'payment', 'shipping', 'promotions', 'pricing', 'pricing_confusion', 'compatibility', 'trust', 'competitor')
{%- else -%}
{{ exceptions.raise_compiler_error("taxonomy_labels: no taxonomy '" ~ taxonomy ~ "' with labels '" ~ labels ~ "'") }}
{%- endif -%}
{%- endmacro %}

{% macro convlytics_register_taxonomies() -%}
{{ "select convlytics.register_taxonomy('name: product_feedback\ndescription: |\n  What customers ask the product to do: the themes of feature requests, for the product team''s backlog (models/marts/mart_feature_requests.sql).\nthreshold: 0.5\ntopic_threshold: 0.6\nintents:\n- name: feature_request\n  description: Asks for something the product does not do yet\n  examples:\n  - It would be great if the app had a dark mode\ntopics:\n- name: dark_mode\n  keywords:\n  - dark mode\n  - dark theme\n  - night mode\n- name: offline_use\n  keywords:\n  - offline mode\n  - offline\n  - without internet\n  - no connection\n- name: data_export\n  keywords:\n  - csv export\n  - export\n  - download my data\n  - spreadsheet\n- name: sharing\n  keywords:\n  - family sharing\n  - share my account\n  - shared account\n  - my partner\n- name: wearables\n  keywords:\n  - apple watch\n  - watch app\n  - smart watch\n  - wear os\n- name: calendar_integration\n  keywords:\n  - calendar sync\n  - calendar\n  - google calendar\n  - outlook\n- name: gifting\n  keywords:\n  - gift wrapping\n  - gift wrap\n  - gift message\n  - gift note\n- name: scheduling\n  keywords:\n  - order scheduling\n  - schedule my order\n  - recurring order\n  - repeat order\n')" ~ ';\n' ~ "select convlytics.register_taxonomy('name: support\ndescription: Why customers contact the shop''s support, across chat, email, tickets and calls.\nthreshold: 0.5\ntopic_threshold: 0.6\nintents:\n- name: delivery_status\n  description: Where an order is and when it will arrive\n  examples:\n  - My order still hasn''t arrived\n  - Where is my package? The tracking page shows nothing\n  - When will my parcel be delivered?\n  - It has been two weeks and nothing has come\n  keywords:\n  - where is my order\n  - tracking number\n  - not arrived\n  - hasn''t arrived\n  - noch nicht angekommen\n  - ainda não chegou\n  - no ha llegado\n  - pas encore arrivé\n  - まだ届いていません\n- name: return_refund\n  description: The customer wants to send an item back or get their money back\n  examples:\n  - I want a refund for my order\n  - The item arrived broken and I want to return it\n  - Please give me my money back\n  keywords:\n  - refund\n  - money back\n  - reembolso\n  - remboursé\n  - remboursement\n  - devolverlo\n  - rückerstattung\n  - pengarna tillbaka\n  exclusions:\n  - refund the second charge\n- name: cancel_subscription\n  description: The customer wants to end their plan, membership or subscription\n  examples:\n  - I want to cancel my subscription\n  - Please stop renewing my plan\n  - How do I close my account?\n  keywords:\n  - cancel my subscription\n  - cancel my plan\n  - abonnement opzeggen\n  - avsluta mitt abonnemang\n  - disdetta\n  - kündigen\n  - annuler mon abonnement\n- name: cancel_order\n  description: The customer wants to cancel an order before it ships\n  examples:\n  - Please cancel my order\n  - I ordered by mistake, can you cancel it?\n  keywords:\n  - cancel my order\n  - annuler ma commande\n  - cancelar mi pedido\n  - bestellung stornieren\n- name: login_issue\n  description: The customer cannot sign in, or is logged out, or password reset fails\n  examples:\n  - I can''t log into my account after changing my password\n  - The password reset email never arrives\n  - The app keeps logging me out\n  keywords:\n  - log in\n  - logs me out\n  - password reset\n  - locked out\n  - nicht mehr anmelden\n  - войти в свой аккаунт\n  patterns:\n  - (?i)\\b2fa\\b\n- name: billing_issue\n  description: A wrong, double or unexpected charge, an invoice or a renewal\n  examples:\n  - I was charged twice this month\n  - Why was I billed after I cancelled?\n  - My subscription renewed automatically without asking\n  keywords:\n  - charged twice\n  - double charge\n  - rinnovato automaticamente\n- name: discount_code\n  description: A discount, coupon or promotion code or its terms\n  examples:\n  - The discount code from your newsletter doesn''t work\n  - Does the sale price apply to gift cards?\n  keywords:\n  - discount code\n  - promo code\n  - coupon\n  - black friday\n- name: change_order\n  description: The customer wants to change an order''s address, items or delivery\n  examples:\n  - I need to change the shipping address on my order\n  - Can I add another item to my order?\n  keywords:\n  - change the shipping address\n  - change my address\n- name: plan_change\n  description: The customer wants to upgrade, downgrade or switch their plan\n  examples:\n  - I''d like to upgrade my plan to the family bundle\n  - Can I switch to the yearly plan?\n  keywords:\n  - upgrade my plan\n  - downgrade my plan\n- name: app_problem\n  description: The app crashes, freezes or misbehaves\n  examples:\n  - The app crashes when I open it\n  - The app freezes on the checkout screen\n  keywords:\n  - app crashes\n  - app freezes\n  - vastloopt\n- name: pre_purchase\n  description: A shopper asks about price, shipping, compatibility or terms before buying\n  examples:\n  - Is there a discount if I buy the yearly plan?\n  - Does this work with my phone?\n  - How long does shipping to Canada take?\n  - Why should I pick you over other shops?\n  - Do you price match?\n  - Is there a warranty?\n  keywords:\n  - price match\n  - before i buy\n  - do you offer a warranty\n  - is it easy to cancel\n- name: feature_request\n  description: The customer asks for something the product does not do yet\n  examples:\n  - It would be great if the app had a dark mode\n  - Please add a way to export my orders\n  - Any plans to support offline use?\n  - I really miss a widget for my watch\n  keywords:\n  - feature request\n  - would be great if\n  - please add\n  - any plans to add\ntopics:\n- name: mobile_app\n  keywords:\n  - the app\n  - iphone\n  - android\n  - app store\n  - de app\n- name: payment\n  keywords:\n  - card\n  - charged\n  - invoice\n  - billed\n  - payment\n- name: shipping\n  keywords:\n  - tracking\n  - courier\n  - parcel\n  - package\n  - shipping\n  - delivery\n- name: promotions\n  keywords:\n  - discount\n  - coupon\n  - promo code\n  - newsletter\n  - black friday\n  - sale\n- name: pricing\n  keywords:\n  - price\n  - pricey\n  - expensive\n  - too much\n  - cost\n  - costs\n  - per month\n  - a month\n  - price match\n  - cheaper\n- name: pricing_confusion\n  keywords:\n  - ad said\n  - ad showed\n  - advertised\n  - email said\n  - offer said\n  - full price\n  - thought the price\n  - i thought\n  - i expected\n  - was supposed to be\n  - misleading\n- name: compatibility\n  keywords:\n  - work with\n  - works with\n  - compatible\n  - run on\n  - iphone\n  - android\n  - ipad\n  - pixel\n  - galaxy\n- name: trust\n  keywords:\n  - warranty\n  - easy to cancel\n  - return policy\n  - refund policy\n  - guarantee\n- name: competitor\n  keywords:\n  - acme\n  - globex\n  - initech\n  - umbrella\n  - elsewhere\n  - other shops\nentities:\n- name: competitor\n  description: Competing shops customers compare us with\n  values:\n  - Acme\n  - Globex\n  - Initech\n  - Umbrella\n- name: order_id\n  description: The shop''s order numbers, as the CRM writes them\n  pattern: (?i)\\b(ORD-\\d{4,})\\b\n- name: plan\n  description: The shop''s subscription plans\n  values:\n  - value: family bundle\n    synonyms:\n    - family plan\n  - value: yearly plan\n    synonyms:\n    - annual plan\n    - yearly subscription\n  - value: monthly plan\n    synonyms:\n    - monthly subscription\nresolution:\n  solved:\n  - package arrived\n  - parcel arrived\n  - refund came through\n  escalated:\n  - sent to the warehouse team\n')" }}
{%- endmacro %}
