//! `convlytics demo generate`: a support inbox at any scale, with its ground truth.
//!
//! Writes what the default project reads (`raw_interactions.jsonl` and the CRM exports
//! `crm_accounts.csv`, `orders.csv`, `refunds.csv`, `churn.csv`, `agents.csv`, `campaigns.csv`) and what it
//! should find (`truth.csv`, one row per conversation, and `truth_pii.csv`, every planted PII
//! value). The same seed gives the same files; conversations are generated in parallel.

mod payload;
mod phrases;
mod script;
mod world;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};
use fastrand::Rng;
use rayon::prelude::*;

use crate::{Error, Result};
use script::{Conversation, Event, World};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many conversations.
    pub conversations: u64,
    /// The directory to write to (created if missing).
    pub out: PathBuf,
    /// The random seed: the same seed and options give the same files.
    pub seed: u64,
    /// The last day of the window the conversations fall in.
    pub end: NaiveDate,
    /// How many days the window spans.
    pub days: u32,
}

/// What was written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Conversations.
    pub conversations: u64,
    /// Raw records (an email thread has one per message).
    pub records: u64,
    /// Bytes of `raw_interactions.jsonl`.
    pub bytes: u64,
    /// CRM accounts.
    pub accounts: u64,
    /// Orders.
    pub orders: u64,
    /// Refunds.
    pub refunds: u64,
    /// Churned accounts.
    pub churned: u64,
    /// Records planted broken, which should land in quarantine.
    pub malformed: u64,
}

/// Conversations generated per parallel task.
const CHUNK: u64 = 2_000;

/// Generates the demo data set; `progress` is told how many conversations are done.
pub fn generate(options: &Options, progress: impl Fn(u64) + Sync) -> Result<Summary> {
    let out = &options.out;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let days = i64::from(options.days.max(7));
    let start = options.end - Duration::days(days - 1);
    let mut rng = Rng::with_seed(options.seed);

    let accounts: Vec<_> = (0..(options.conversations / 4).max(30))
        .map(|i| world::person(&mut rng, format!("A-{i}"), Some(format!("ACC-{}", 100_000 + i)), start))
        .collect();
    let mut orders = world::orders(&mut rng, &accounts, start, days);
    for (i, order) in orders.iter_mut().enumerate() {
        order.order_id = format!("ORD-{}", 100_000 + i);
    }
    let index: std::collections::HashMap<&str, usize> =
        accounts.iter().enumerate().map(|(i, a)| (a.account_id.as_deref().unwrap_or_default(), i)).collect();
    let mut order_ids = vec![Vec::new(); accounts.len()];
    for order in &orders {
        order_ids[index[order.account_id.as_str()]].push(order.order_id.clone());
    }
    let campaigns = world::campaigns(start, days);
    let world = World { accounts: &accounts, orders: &order_ids, campaigns: &campaigns, start, days };

    let file = |name: &str| -> Result<(PathBuf, BufWriter<File>)> {
        let path = out.join(name);
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        Ok((path.clone(), BufWriter::with_capacity(1 << 20, file)))
    };
    let (raw_path, mut raw) = file("raw_interactions.jsonl")?;
    let mut truth = csv_writer(out, "truth.csv")?;
    truth.write(&[
        "source",
        "source_id",
        "channel",
        "format",
        "person_key",
        "account_id",
        "intent",
        "objection",
        "feature",
        "resolution",
        "language",
        "agent",
        "queue",
        "qa_greeting",
        "qa_verification",
        "qa_resolution_offered",
        "qa_closing",
        "campaign",
        "campaign_confusion",
        "spike",
        "negative",
        "converted",
        "repeat_of",
        "malformed",
        "started_at",
    ])?;
    let mut pii = csv_writer(out, "truth_pii.csv")?;
    pii.write(&["source", "source_id", "pii_type", "value"])?;

    let mut summary = Summary { accounts: accounts.len() as u64, ..Summary::default() };
    let mut events = Vec::new();
    let chunks = options.conversations.div_ceil(CHUNK);
    let parallel = (rayon::current_num_threads() as u64 * 4).max(1);
    for batch in (0..chunks).step_by(parallel as usize) {
        let generated: Vec<(Vec<u8>, u64, Vec<Conversation>)> = (batch..(batch + parallel).min(chunks))
            .into_par_iter()
            .map(|chunk| {
                let quota = CHUNK.min(options.conversations - chunk * CHUNK);
                let mut rng = Rng::with_seed(options.seed ^ (chunk + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let mut conversations = Vec::with_capacity(quota as usize);
                let mut story = 0;
                while (conversations.len() as u64) < quota {
                    let n = (chunk * CHUNK + story) * 2;
                    conversations.extend(script::story(&world, &mut rng, n));
                    story += 1;
                }
                conversations.truncate(quota as usize);
                let (mut lines, mut records) = (Vec::new(), 0);
                for c in &mut conversations {
                    let (written, speakers) = payload::records(c, &mut rng);
                    for record in written {
                        serde_json::to_writer(&mut lines, &record).expect("JSON to memory");
                        lines.push(b'\n');
                        records += 1;
                    }
                    c.pii.extend(speakers.into_iter().map(|name| ("SPEAKER", name)));
                }
                (lines, records, conversations)
            })
            .collect();
        for (lines, records, conversations) in generated {
            raw.write_all(&lines).map_err(|e| Error::io(&raw_path, e))?;
            summary.bytes += lines.len() as u64;
            summary.records += records;
            for c in conversations {
                write_truth(&mut truth, &mut pii, &c)?;
                summary.conversations += 1;
                summary.malformed += u64::from(c.truth.malformed.is_some());
                events.extend(c.events);
            }
        }
        progress(summary.conversations);
    }
    raw.flush().map_err(|e| Error::io(&raw_path, e))?;
    truth.flush()?;
    pii.flush()?;
    write_crm(out, &accounts, orders, &campaigns, events, &mut summary)?;
    Ok(summary)
}

/// A CSV file being written, with its path for errors.
struct CsvOut {
    path: PathBuf,
    writer: csv::Writer<File>,
}

fn csv_writer(dir: &Path, name: &str) -> Result<CsvOut> {
    let path = dir.join(name);
    let writer =
        csv::Writer::from_path(&path).map_err(|e| Error::Input { path: path.clone(), message: e.to_string() })?;
    Ok(CsvOut { path, writer })
}

impl CsvOut {
    fn write<S: AsRef<[u8]>>(&mut self, row: &[S]) -> Result<()> {
        self.writer.write_record(row).map_err(|e| Error::Input { path: self.path.clone(), message: e.to_string() })
    }

    fn flush(&mut self) -> Result<()> {
        self.writer.flush().map_err(|e| Error::io(&self.path, e))
    }
}

fn flag(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
}

fn write_truth(truth: &mut CsvOut, pii: &mut CsvOut, c: &Conversation) -> Result<()> {
    let t = &c.truth;
    let qa = |i: usize| t.qa.map_or("", |qa| flag(qa[i]));
    let account = c.person.account_id.clone().or_else(|| {
        c.events.iter().find_map(|e| match e {
            Event::Account(p) => p.account_id.clone(),
            _ => None,
        })
    });
    truth.write(&[
        c.source,
        &c.source_id,
        c.channel,
        c.format,
        &c.person.key,
        account.as_deref().unwrap_or_default(),
        t.intent,
        t.objection.unwrap_or_default(),
        t.feature.unwrap_or_default(),
        t.resolution,
        t.language,
        c.agent.map_or("", |(name, _)| name),
        c.agent.map_or("", |(_, queue)| queue),
        qa(0),
        qa(1),
        qa(2),
        qa(3),
        c.campaign.unwrap_or_default(),
        flag(t.confusion),
        flag(t.spike),
        flag(t.negative),
        t.converted.map_or("", flag),
        t.repeat_of.as_deref().unwrap_or_default(),
        t.malformed.unwrap_or_default(),
        &c.started.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    ])?;
    for (kind, value) in &c.pii {
        pii.write(&[c.source, &c.source_id, kind, value])?;
    }
    Ok(())
}

/// The CRM exports: accounts (including shoppers who converted), orders, refunds, churn, the
/// support team's roster and campaigns.
fn write_crm(
    out: &Path,
    accounts: &[world::Person],
    mut orders: Vec<world::Order>,
    campaigns: &[world::Campaign],
    events: Vec<Event>,
    summary: &mut Summary,
) -> Result<()> {
    let mut rng = Rng::with_seed(summary.conversations);
    let mut people: Vec<world::Person> = accounts.to_vec();
    let mut refunds = Vec::new();
    let mut churn = std::collections::BTreeMap::new();
    for event in events {
        match event {
            Event::Account(person) => people.push(*person),
            Event::Order { account_id, at, amount } => orders.push(world::Order {
                order_id: format!("ORD-{}", 100_000 + orders.len()),
                account_id,
                ordered_at: at,
                amount,
                status: "processing",
            }),
            Event::Refund { account_id, at, amount, reason } => refunds.push((account_id, at, amount, reason)),
            Event::Churn { account_id, at, reason } => {
                churn.entry(account_id).or_insert((at, reason));
            }
        }
    }
    let mut w = csv_writer(out, "crm_accounts.csv")?;
    w.write(&["account_id", "full_name", "email", "phone", "country", "plan", "created_at"])?;
    for p in &people {
        let phone = world::phone_variant(&mut rng, &p.phone);
        let created = p.created_at.to_string();
        w.write(&[
            p.account_id.as_deref().unwrap_or_default(),
            &p.full_name,
            &p.email,
            &phone,
            p.country,
            p.plan,
            &created,
        ])?;
    }
    w.flush()?;
    let mut w = csv_writer(out, "orders.csv")?;
    w.write(&["order_id", "account_id", "ordered_at", "amount", "currency", "status"])?;
    for o in &orders {
        let (at, amount) = (o.ordered_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(), format!("{:.2}", o.amount));
        w.write(&[o.order_id.as_str(), &o.account_id, &at, &amount, "USD", o.status])?;
    }
    w.flush()?;
    let mut w = csv_writer(out, "refunds.csv")?;
    w.write(&["refund_id", "account_id", "refunded_at", "amount", "currency", "reason"])?;
    for (i, (account, at, amount, reason)) in refunds.iter().enumerate() {
        let (id, at, amount) =
            (format!("RF-{}", 10_000 + i), at.format("%Y-%m-%dT%H:%M:%SZ").to_string(), format!("{amount:.2}"));
        w.write(&[id.as_str(), account, &at, &amount, "USD", reason])?;
    }
    w.flush()?;
    let mut w = csv_writer(out, "churn.csv")?;
    w.write(&["account_id", "churned_at", "reason"])?;
    for (account, (at, reason)) in &churn {
        w.write(&[account.as_str(), &at.date_naive().to_string(), reason])?;
    }
    w.flush()?;
    let mut w = csv_writer(out, "agents.csv")?;
    w.write(&["agent_id", "name", "team", "aliases"])?;
    for (i, (name, team, _)) in phrases::AGENTS.iter().enumerate() {
        let (id, first) = (format!("AG-{:02}", i + 1), name.split(' ').next().unwrap_or(name));
        w.write(&[id.as_str(), name, team, &format!("{name}|{first}")])?;
    }
    w.flush()?;
    let mut w = csv_writer(out, "campaigns.csv")?;
    w.write(&["campaign_id", "utm_campaign", "name", "channel", "started_at"])?;
    for c in campaigns {
        w.write(&[c.id.as_str(), c.utm, c.name, c.channel, &c.started_at.to_string()])?;
    }
    w.flush()?;
    summary.accounts = people.len() as u64;
    summary.orders = orders.len() as u64;
    summary.refunds = refunds.len() as u64;
    summary.churned = churn.len() as u64;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use convlytics_core::transcript::transcript_info_text;

    use super::*;

    fn generated(conversations: u64, seed: u64) -> (tempfile::TempDir, Summary) {
        let dir = tempfile::tempdir().expect("tempdir");
        let end = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        let options = Options { conversations, out: dir.path().to_path_buf(), seed, end, days: 60 };
        let summary = generate(&options, |_| {}).expect("generate");
        (dir, summary)
    }

    fn read(dir: &Path, name: &str) -> String {
        std::fs::read_to_string(dir.join(name)).expect(name)
    }

    #[test]
    fn same_seed_same_files_and_exact_counts() {
        let (a, summary) = generated(2_500, 7);
        let (b, _) = generated(2_500, 7);
        let (c, _) = generated(2_500, 8);
        for file in ["raw_interactions.jsonl", "truth.csv", "crm_accounts.csv", "orders.csv", "churn.csv"] {
            assert_eq!(read(a.path(), file), read(b.path(), file), "{file}");
        }
        assert_ne!(read(a.path(), "raw_interactions.jsonl"), read(c.path(), "raw_interactions.jsonl"));
        assert_eq!(summary.conversations, 2_500);
        assert_eq!(read(a.path(), "truth.csv").lines().count(), 2_501);
        assert_eq!(read(a.path(), "raw_interactions.jsonl").lines().count() as u64, summary.records);
    }

    /// Every record is read by transcript_info with the default project's settings, with the
    /// roles the generator wrote, except the ones planted broken, which are quarantined.
    #[test]
    fn every_format_reads_back_with_the_truth() {
        let (dir, summary) = generated(1_200, 42);
        let settings = r#"{"speakers": {"agent": ["support@example.com"]}}"#;
        let truth = read(dir.path(), "truth.csv");
        let mut truth = csv::Reader::from_reader(truth.as_bytes());
        let broken: Vec<String> =
            truth.records().map(|r| r.expect("row")).filter(|r| !r[23].is_empty()).map(|r| r[1].to_string()).collect();
        assert_eq!(broken.len() as u64, summary.malformed);
        let mut formats = BTreeMap::new();
        let (mut chats, mut customers) = (0, 0);
        for line in read(dir.path(), "raw_interactions.jsonl").lines() {
            let record: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            let (format, id) = (record["format"].as_str().expect("format"), record["source_id"].as_str().expect("id"));
            *formats.entry(format.to_string()).or_insert(0) += 1;
            let info = transcript_info_text(record["payload"].as_str().expect("payload"), format, Some(settings))
                .expect("settings");
            if broken.iter().any(|b| b == id) {
                assert!(info.quarantine_reason.is_some(), "{id} was planted broken: {info:?}");
                continue;
            }
            assert!(info.quarantine_reason.is_none(), "{id} ({format}) did not read: {info:?}\n{line}");
            assert!(info.turn_count > 0, "{id}: {line}");
            // An email thread's replies from the agent are records of their own.
            if format != "email" {
                chats += 1;
                customers += usize::from(info.customer_turns > 0);
            }
        }
        let expected = ["email", "intercom", "json", "jsonl", "plain", "srt", "vtt", "zendesk"];
        assert_eq!(formats.keys().map(String::as_str).collect::<Vec<_>>(), expected, "{formats:?}");
        assert!(customers * 10 >= chats * 9, "the customer is found in {customers} of {chats} conversations");
    }

    #[test]
    fn crm_exports_fit_the_conversations() {
        let (dir, summary) = generated(1_000, 3);
        let accounts = read(dir.path(), "crm_accounts.csv");
        assert_eq!(accounts.lines().count() as u64, summary.accounts + 1);
        let truth = read(dir.path(), "truth.csv");
        let converted = truth.lines().filter(|l| l.contains(",pre_purchase,") && l.contains(",true,")).count();
        assert!(converted > 0, "some shoppers bought");
        for account in truth.lines().skip(1).filter_map(|l| l.split(',').nth(5)).filter(|a| !a.is_empty()).take(200) {
            assert!(accounts.contains(&format!("{account},")), "{account} is in the CRM");
        }
        assert!(summary.refunds > 0 && summary.churned > 0 && summary.orders > summary.accounts / 2, "{summary:?}");
    }
}
