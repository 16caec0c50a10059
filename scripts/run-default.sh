#!/usr/bin/env bash
# The main job: builds convlytics and runs the default project (models/ at the repository root)
# on the embedded engine, then prints what it built.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
require_cargo

step "building convlytics"
cargo build -p convlytics --bin convlytics
CONVLYTICS="$CARGO_TARGET_DIR/debug/convlytics"

step "running the default project on the embedded engine"
"$CONVLYTICS" run "$@"

step "what it built: conversations per channel and language (analytics.mart_language_mix)"
"$CONVLYTICS" sql "select * from analytics.mart_language_mix"

step "who the conversations are: each one's customer, CRM account, last order and campaign (analytics.identity_map)"
"$CONVLYTICS" sql "select c.channel, c.source_id, m.account_id, m.link_rule, m.last_order_id, m.campaign_id, m.customer_key
                   from analytics.identity_map m join analytics.conversations c on c.conversation_id = m.conversation_id
                   order by m.account_id nulls last, c.channel, c.source_id"

step "what reaches the normalized layer of the text: PII redacted by the project's support policy (analytics.conversations)"
"$CONVLYTICS" sql "select channel, source_id, payload_redacted from analytics.conversations
                   where payload_redacted like '%<%' or payload_redacted like '%****%' order by source_id"
