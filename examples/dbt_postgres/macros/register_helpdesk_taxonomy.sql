{#- Registers the `helpdesk` taxonomy with pg_convlytics (convlytics.register_taxonomy stores it in
    convlytics.taxonomies; every backend then classifies with it). Run from on-run-start. -#}
{% macro register_helpdesk_taxonomy() %}
select name, version from convlytics.register_taxonomy($taxonomy$
name: helpdesk
description: Why customers open a ticket with a SaaS helpdesk.
threshold: 0.5
intents:
  - name: billing
    description: Invoices, charges, refunds and payment methods
    keywords: [invoice, charged, refund, payment, billing, receipt]
  - name: account_access
    description: Signing in, passwords, two-factor codes, locked accounts
    keywords: [log in, login, password, locked out, 2fa, sign in, mot de passe, me connecter]
  - name: bug_report
    description: Something in the product is broken
    keywords: [error, crash, crashes, broken, bug, does not load, doesn't load]
  - name: how_to
    description: How to do something in the product
    keywords: [how do i, how can i, where can i, is it possible to]
  - name: cancellation
    description: Ending a subscription or closing an account
    keywords: [cancel, close my account, unsubscribe]
topics:
  - name: mobile
    keywords: [iphone, android, mobile, the app]
  - name: integrations
    keywords: [slack, salesforce, zapier, api, webhook]
  - name: reporting
    keywords: [report, dashboard, export, csv]
entities:
  - name: plan
    values: [starter, team, enterprise]
$taxonomy$)
{% endmacro %}
