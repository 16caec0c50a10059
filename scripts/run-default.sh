#!/usr/bin/env bash
# The main job: builds convlytics and runs the default project (models/ at the repository root)
# on the embedded engine, then prints what it built.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
require_cargo
ensure_models

step "building convlytics"
cargo build -p convlytics --bin convlytics
CONVLYTICS="$CARGO_TARGET_DIR/debug/convlytics"

step "building the default project on the embedded engine: seeds, models and their data tests"
"$CONVLYTICS" build "$@"

step "what it built: conversations per channel and language (analytics.mart_language_mix)"
"$CONVLYTICS" sql "select * from analytics.mart_language_mix"

step "who the conversations are: each one's customer, CRM account, last order and campaign (analytics.identity_map)"
"$CONVLYTICS" sql "select c.channel, c.source_id, m.account_id, m.link_rule, m.last_order_id, m.campaign_id, m.customer_key
                   from analytics.identity_map m join analytics.conversations c on c.conversation_id = m.conversation_id
                   order by m.account_id nulls last, c.channel, c.source_id"

step "every channel read into turns: roles, redacted text (analytics.turns), one email thread of three records"
"$CONVLYTICS" sql "select source_id, turn_index, role, speaker_redacted, language, is_boilerplate,
                          replace(text_redacted, chr(10), ' ') as text_redacted
                   from analytics.turns order by conversation_id, turn_index"

step "conversations with their counts and, for calls, voice metrics (analytics.conversations)"
"$CONVLYTICS" sql "select source_id, channel, format, language, interactions, turn_count, duration_ms,
                          round(talk_ratio, 2) as talk_ratio, silences, overlap_ms, interruptions
                   from analytics.conversations order by channel, source_id"

step "why each conversation started: intent and topics under the support taxonomy (analytics.conversation_intents)"
"$CONVLYTICS" sql "select c.channel, c.source_id, i.intent, i.topics, i.taxonomy_version,
                          substr(replace(i.opening_text, chr(10), ' '), 1, 70) as opening_text
                   from analytics.conversation_intents i join analytics.conversations c using (conversation_id)
                   order by i.intent, c.channel, c.source_id"

step "how each conversation went: sentiment from start to end, how it ended, summary (analytics.conversation_signals)"
"$CONVLYTICS" sql "select c.source_id, s.resolution, s.sentiment_start, s.sentiment_end, s.agent_handoffs,
                          substr(s.summary, 1, 90) as summary
                   from analytics.conversation_signals s join analytics.conversations c using (conversation_id)
                   order by s.resolution, c.source_id"

step "customers back with the same intent within var('repeat_contact_days') days (analytics.repeat_contacts)"
"$CONVLYTICS" sql "select intent, count(*) as conversations, sum(case when is_repeat_contact then 1 else 0 end) as repeat_contacts
                   from analytics.repeat_contacts group by intent order by repeat_contacts desc, intent"

step "what could not be read, and why (analytics.quarantine)"
"$CONVLYTICS" sql "select source, source_id, format, reason from analytics.quarantine order by source_id"
