//! The KPI charts: each reads one mart of the default warehouse and draws every row of it as one
//! mark (`data-row`), with axes, units and a legend, readable without colour (panels and labels
//! name the groups, values are printed or shaped, colour only repeats what they say).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::escape;

/// Colours distinguishable with the common colour-vision deficiencies (Okabe and Ito).
const PALETTE: [&str; 8] = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];
/// The channels in the order bars stack them, bottom to top.
const CHANNELS: [&str; 5] = ["chat", "email", "voice", "ticket", "bot"];

/// A chart: the mart it reads, the question it answers, and how it draws the rows.
#[derive(Debug, Clone, Copy)]
pub struct Chart {
    /// Its anchor on the page.
    pub id: &'static str,
    /// The model it reads.
    pub mart: &'static str,
    /// Its heading.
    pub title: &'static str,
    /// The question it answers.
    pub question: &'static str,
    /// The columns read, in this order.
    pub columns: &'static [&'static str],
    /// How the rows are ordered when read.
    pub order: &'static str,
    /// What an empty mart means, said where the chart would be.
    pub empty: &'static str,
    draw: fn(&[Vec<Option<String>>]) -> String,
}

impl Chart {
    /// The query that reads the chart's rows from `relation`.
    pub fn sql(&self, relation: &str) -> String {
        format!("select {} from {relation} order by {}", self.columns.join(", "), self.order)
    }

    /// The chart of `rows` (in [`Chart::columns`] order) as SVG.
    pub fn svg(&self, rows: &[Vec<Option<String>>]) -> String {
        (self.draw)(rows)
    }
}

/// Every chart, in the order the page shows them.
pub const CHARTS: [Chart; 8] = [
    Chart {
        id: "intent-mix",
        mart: "mart_intent_daily",
        title: "Intent mix over time",
        question: "What are customers contacting us about, on which channel, and is the mix changing?",
        columns: &["day", "channel", "intent", "conversations"],
        order: "day, channel, intent",
        empty: "No conversations have been labelled yet.",
        draw: intent_mix,
    },
    Chart {
        id: "topic-trends",
        mart: "mart_topic_trends",
        title: "Topic trends, spikes marked",
        question: "What is suddenly up this week?",
        columns: &["week", "topic", "conversations", "is_spike"],
        order: "topic, week",
        empty: "No conversation matched a topic of the taxonomy.",
        draw: topic_trends,
    },
    Chart {
        id: "resolution",
        mart: "mart_resolution",
        title: "Resolution and escalation by intent",
        question: "Which problems do we solve, which do we escalate, and which queue or agent needs help?",
        columns: &["intent", "queue", "agent", "conversations", "resolution_rate", "escalation_rate"],
        order: "intent, queue, agent",
        empty: "No conversations have been labelled yet.",
        draw: resolution,
    },
    Chart {
        id: "sentiment",
        mart: "mart_sentiment_trajectory",
        title: "Sentiment trajectory, start to end",
        question: "Do customers leave happier than they came, and after which problems do they not?",
        columns: &["intent", "conversations", "avg_sentiment_start", "avg_sentiment_end"],
        order: "conversations desc, intent",
        empty: "No conversations have been labelled yet.",
        draw: sentiment,
    },
    Chart {
        id: "repeat-contacts",
        mart: "mart_repeat_contacts",
        title: "Repeat contacts by intent and week",
        question: "Where does the first answer not stick, so customers come back about the same thing?",
        columns: &["intent", "week", "conversations", "repeat_rate"],
        order: "intent, week",
        empty: "No customer has come back about the same intent yet.",
        draw: repeat_contacts,
    },
    Chart {
        id: "campaign-friction",
        mart: "mart_campaign_friction",
        title: "Campaign friction",
        question: "Which campaign promised something checkout does not deliver?",
        columns: &["campaign_id", "name", "conversations", "confusion_share", "has_friction"],
        order: "confusion_share desc, campaign_id",
        empty: "No conversation names a campaign of the CRM's campaigns table (crm_dir).",
        draw: campaign_friction,
    },
    Chart {
        id: "agent-qa",
        mart: "mart_agent_qa",
        title: "Agent QA pass rates",
        question: "Does every agent greet, verify, offer a resolution and close?",
        columns: &["agent", "queue", "check_name", "conversations", "pass_rate"],
        order: "agent, queue, check_name",
        empty: "No conversation was handled by an agent.",
        draw: agent_qa,
    },
    Chart {
        id: "label-quality",
        mart: "mart_label_quality",
        title: "Label precision from reviews",
        question: "How often are the labels right, by the people who reviewed them?",
        columns: &["field", "label", "taxonomy_version", "reviews", "precision", "precision_low", "precision_high"],
        order: "field, label, taxonomy_version",
        empty: "No reviews yet: convlytics review sample, then review import (docs/validation.md).",
        draw: label_quality,
    },
];

/// Column `i` of `row` as text (empty for NULL).
fn text(row: &[Option<String>], i: usize) -> &str {
    row.get(i).and_then(Option::as_deref).unwrap_or("")
}

/// Column `i` of `row` as a number (`None` for NULL or not a number).
fn number(row: &[Option<String>], i: usize) -> Option<f64> {
    text(row, i).parse().ok().filter(|v: &f64| v.is_finite())
}

/// Column `i` of `row` as a flag.
fn flag(row: &[Option<String>], i: usize) -> bool {
    matches!(text(row, i), "true" | "t" | "1")
}

/// Up to about five round ticks from 0 to at least `max`.
fn ticks(max: f64) -> Vec<f64> {
    let max = if max > 0.0 { max } else { 1.0 };
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step =
        [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| s * 4.0 >= max).unwrap_or(magnitude * 10.0);
    let count = (max / step).ceil() as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

/// A number as an axis or value label.
fn label(value: f64) -> String {
    let text = if value.fract().abs() < 1e-9 {
        format!("{value:.0}")
    } else if value.abs() < 10.0 {
        format!("{value:.2}").trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        format!("{value:.1}")
    };
    // A small negative rounded to nothing reads as 0, not -0.
    if text == "-0" {
        "0".to_owned()
    } else {
        text
    }
}

/// A share as a percentage.
fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// Opens an SVG of `width` × `height` described by `title`.
fn open(width: f64, height: f64, title: &str) -> String {
    format!(
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" role="img" aria-label="{}">"#,
        escape(title)
    )
}

/// Distinct values of column `i` in first-seen order.
fn distinct(rows: &[Vec<Option<String>>], i: usize) -> Vec<String> {
    let mut seen = Vec::new();
    for row in rows {
        let v = text(row, i).to_owned();
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen
}

/// Groups ordered by the sum of column `value` over their rows, largest first.
fn by_total(rows: &[Vec<Option<String>>], group: usize, value: usize) -> Vec<String> {
    let mut totals: BTreeMap<String, f64> = BTreeMap::new();
    for row in rows {
        *totals.entry(text(row, group).to_owned()).or_default() += number(row, value).unwrap_or(0.0);
    }
    let mut groups: Vec<(String, f64)> = totals.into_iter().collect();
    groups.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    groups.into_iter().map(|(g, _)| g).collect()
}

/// A horizontal legend of swatches at `y`.
fn legend(out: &mut String, x: f64, y: f64, entries: &[(String, String)]) {
    let mut at = x;
    for (name, colour) in entries {
        let _ = write!(
            out,
            r#"<g class="legend"><rect x="{at:.1}" y="{:.1}" width="12" height="12" fill="{colour}"/><text x="{:.1}" y="{y:.1}">{}</text></g>"#,
            y - 10.0,
            at + 16.0,
            escape(name)
        );
        at += 28.0 + 7.0 * name.chars().count() as f64;
    }
}

/// A grid of small multiples: `columns` panels a row, each `width` × `height` from `top`, its
/// plot `plot_w` × `plot_h` inset by `left` and `inset` from the panel's corner.
struct Panels {
    columns: usize,
    width: f64,
    height: f64,
    top: f64,
    left: f64,
    inset: f64,
    plot_w: f64,
    plot_h: f64,
}

impl Panels {
    /// The height of a grid of `count` panels.
    fn total_height(&self, count: usize) -> f64 {
        self.top + count.div_ceil(self.columns) as f64 * self.height + 10.0
    }

    /// Draws panel `index`'s name and y axis; gives its plot's top-left corner.
    fn start(&self, out: &mut String, index: usize, name: &str, scale: &[f64]) -> (f64, f64) {
        let (px, py) =
            ((index % self.columns) as f64 * self.width, self.top + (index / self.columns) as f64 * self.height);
        let (x0, y0) = (px + self.left, py + self.inset);
        let _ = write!(out, r#"<text class="panel" x="{x0:.1}" y="{:.1}">{}</text>"#, py + 16.0, escape(name));
        y_axis(out, x0, y0, self.plot_w, self.plot_h, scale);
        (x0, y0)
    }

    /// Labels the x axis of the plot at `(x0, y0)` with its first and last values.
    fn x_ends(&self, out: &mut String, (x0, y0): (f64, f64), ends: &[String]) {
        if let (Some(first), Some(last)) = (ends.first(), ends.last()) {
            let _ = write!(
                out,
                r#"<text class="tick" x="{x0:.1}" y="{ly:.1}">{}</text><text class="tick" x="{:.1}" y="{ly:.1}" text-anchor="end">{}</text>"#,
                escape(first),
                x0 + self.plot_w,
                escape(last),
                ly = y0 + self.plot_h + 13.0
            );
        }
    }
}

/// The y axis of a panel: ticks from 0 to `max` over `height` pixels, lines across `width`.
fn y_axis(out: &mut String, x: f64, y: f64, width: f64, height: f64, max_tick: &[f64]) {
    let top = max_tick.last().copied().unwrap_or(1.0);
    for t in max_tick {
        let ty = y + height - t / top * height;
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x:.1}" x2="{:.1}" y1="{ty:.1}" y2="{ty:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            x + width,
            x - 4.0,
            ty + 3.5,
            label(*t)
        );
    }
}

/// Intent mix: one panel per intent (largest first), a bar per day stacked by channel; each
/// bar segment is one row (day × channel × intent).
fn intent_mix(rows: &[Vec<Option<String>>]) -> String {
    let intents = by_total(rows, 2, 3);
    let days = distinct(rows, 0);
    let mut channels: Vec<String> = CHANNELS.iter().map(|c| (*c).to_owned()).collect();
    for c in distinct(rows, 1) {
        if !channels.contains(&c) {
            channels.push(c);
        }
    }
    let mut day_totals: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    for row in rows {
        *day_totals.entry((text(row, 2), text(row, 0))).or_default() += number(row, 3).unwrap_or(0.0);
    }
    let scale = ticks(day_totals.values().copied().fold(0.0, f64::max));
    let grid = Panels {
        columns: 3,
        width: 330.0,
        height: 150.0,
        top: 36.0,
        left: 40.0,
        inset: 24.0,
        plot_w: 280.0,
        plot_h: 96.0,
    };
    let (left, plot_w, plot_h) = (grid.left, grid.plot_w, grid.plot_h);
    let mut out = open(grid.width * grid.columns as f64, grid.total_height(intents.len()), "Intent mix over time");
    let used: Vec<(String, String)> = channels
        .iter()
        .enumerate()
        .filter(|(_, c)| rows.iter().any(|r| text(r, 1) == c.as_str()))
        .map(|(i, c)| (c.clone(), PALETTE[i % PALETTE.len()].to_owned()))
        .collect();
    legend(&mut out, left, 16.0, &used);
    let _ = write!(
        out,
        r#"<text class="note" x="{left}" y="30">conversations per day; bars stack channels bottom to top in the legend's order</text>"#
    );
    let bar = plot_w / days.len().max(1) as f64;
    let max = scale.last().copied().unwrap_or(1.0);
    for (p, intent) in intents.iter().enumerate() {
        let (x0, y0) = grid.start(&mut out, p, intent, &scale);
        let mut stacked: BTreeMap<&str, f64> = BTreeMap::new();
        let mut panel_rows: Vec<(usize, &Vec<Option<String>>)> =
            rows.iter().enumerate().filter(|(_, r)| text(r, 2) == intent.as_str()).collect();
        panel_rows.sort_by_key(|(_, r)| channels.iter().position(|c| c == text(r, 1)));
        for (i, row) in panel_rows {
            let day = text(row, 0);
            let d = days.iter().position(|x| x == day).unwrap_or(0);
            let value = number(row, 3).unwrap_or(0.0);
            let below = stacked.entry(day).or_default();
            let h = value / max * plot_h;
            let y = y0 + plot_h - *below / max * plot_h - h;
            *below += value;
            let colour = PALETTE[channels.iter().position(|c| c == text(row, 1)).unwrap_or(0) % PALETTE.len()];
            let _ = write!(
                out,
                r#"<rect class="point" data-row="{i}" x="{:.1}" y="{y:.1}" width="{:.1}" height="{h:.1}" fill="{colour}"><title>{day} {}: {}</title></rect>"#,
                x0 + d as f64 * bar,
                (bar - 0.4).max(0.6),
                escape(text(row, 1)),
                label(value)
            );
        }
        grid.x_ends(&mut out, (x0, y0), &days);
    }
    out.push_str("</svg>");
    out
}

/// Topic trends: one panel per topic, a line through its weeks, each week one point; a spike is
/// a triangle with the word "spike" over it.
fn topic_trends(rows: &[Vec<Option<String>>]) -> String {
    let topics = by_total(rows, 1, 2);
    let mut weeks = distinct(rows, 0);
    weeks.sort();
    let scale = ticks(rows.iter().filter_map(|r| number(r, 2)).fold(0.0, f64::max));
    let max = scale.last().copied().unwrap_or(1.0);
    let grid = Panels {
        columns: 3,
        width: 330.0,
        height: 160.0,
        top: 24.0,
        left: 40.0,
        inset: 26.0,
        plot_w: 270.0,
        plot_h: 100.0,
    };
    let (left, plot_w, plot_h) = (grid.left, grid.plot_w, grid.plot_h);
    let mut out = open(grid.width * grid.columns as f64, grid.total_height(topics.len()), "Topic trends");
    let _ = write!(
        out,
        r#"<text class="note" x="{left}" y="14">conversations per week; ▲ spike = more than the spike threshold above the trailing weeks</text>"#
    );
    let step = plot_w / (weeks.len().max(2) - 1) as f64;
    for (p, topic) in topics.iter().enumerate() {
        let (x0, y0) = grid.start(&mut out, p, topic, &scale);
        let points: Vec<(usize, f64, f64, bool, &str)> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| text(r, 1) == topic.as_str())
            .map(|(i, r)| {
                let w = weeks.iter().position(|x| x == text(r, 0)).unwrap_or(0);
                let v = number(r, 2).unwrap_or(0.0);
                (i, x0 + w as f64 * step, y0 + plot_h - v / max * plot_h, flag(r, 3), text(r, 0))
            })
            .collect();
        let line: Vec<String> = points.iter().map(|(_, x, y, _, _)| format!("{x:.1},{y:.1}")).collect();
        let colour = PALETTE[p % PALETTE.len()];
        let _ = write!(out, r#"<polyline class="line" points="{}" stroke="{colour}"/>"#, line.join(" "));
        for (i, x, y, spike, week) in points {
            let value = label(number(&rows[i], 2).unwrap_or(0.0));
            if spike {
                let _ = write!(
                    out,
                    r#"<g class="point spike" data-row="{i}"><path d="M{x:.1},{:.1} l6,10 l-12,0 z"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">spike</text><title>{week}: {value}, a spike</title></g>"#,
                    y - 6.0,
                    y - 9.0
                );
            } else {
                let _ = write!(
                    out,
                    r#"<circle class="point" data-row="{i}" cx="{x:.1}" cy="{y:.1}" r="2.5" fill="{colour}"><title>{week}: {value}</title></circle>"#
                );
            }
        }
        grid.x_ends(&mut out, (x0, y0), &weeks);
    }
    out.push_str("</svg>");
    out
}

/// Horizontal rate axis from 0 to 100% at `y`, `width` wide from `x`.
fn rate_axis(out: &mut String, x: f64, y: f64, width: f64, bottom: f64, title: &str) {
    for t in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let tx = x + t * width;
        let _ = write!(
            out,
            r#"<line class="grid" x1="{tx:.1}" x2="{tx:.1}" y1="{y:.1}" y2="{bottom:.1}"/><text class="tick" x="{tx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            bottom + 13.0,
            percent(t)
        );
    }
    let _ = write!(
        out,
        r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        x + width / 2.0,
        y - 6.0,
        escape(title)
    );
}

/// Resolution and escalation: a band per intent (most conversations first), and in two panels a
/// dot per queue × agent row at its resolution and escalation rate, sized by conversations;
/// the bar is the intent's rate over all its conversations.
fn resolution(rows: &[Vec<Option<String>>]) -> String {
    let intents = by_total(rows, 0, 3);
    let (left, band, panel_w, gap, top) = (150.0, 34.0, 300.0, 40.0, 40.0);
    let bottom = top + intents.len() as f64 * band;
    let width = left + 2.0 * panel_w + gap + 20.0;
    let mut out = open(width, bottom + 40.0, "Resolution and escalation by intent");
    let biggest = rows.iter().filter_map(|r| number(r, 3)).fold(1.0, f64::max);
    for (k, (title, column)) in [("resolved (%)", 4), ("escalated (%)", 5)].into_iter().enumerate() {
        let x0 = left + k as f64 * (panel_w + gap);
        rate_axis(&mut out, x0, top, panel_w, bottom, title);
        for (b, intent) in intents.iter().enumerate() {
            let members: Vec<(usize, &Vec<Option<String>>)> =
                rows.iter().enumerate().filter(|(_, r)| text(r, 0) == intent.as_str()).collect();
            let cy = top + b as f64 * band + band / 2.0;
            if k == 0 {
                let _ = write!(
                    out,
                    r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                    left - 8.0,
                    cy + 4.0,
                    escape(intent)
                );
            }
            let (mut weighted, mut total) = (0.0, 0.0);
            for (j, (i, row)) in members.iter().enumerate() {
                let n = number(row, 3).unwrap_or(0.0);
                let rate = number(row, column).unwrap_or(0.0);
                weighted += rate * n;
                total += n;
                let spread = if members.len() > 1 { j as f64 / (members.len() - 1) as f64 - 0.5 } else { 0.0 };
                let r = 2.0 + 5.0 * (n / biggest).sqrt();
                let _ = write!(
                    out,
                    r#"<circle class="point" data-row="{i}" cx="{:.1}" cy="{:.1}" r="{r:.1}" fill="{}"><title>{} · {} / {}: {} of {}</title></circle>"#,
                    x0 + rate * panel_w,
                    cy + spread * band * 0.6,
                    PALETTE[k],
                    escape(intent),
                    escape(text(row, 1)),
                    escape(text(row, 2)),
                    percent(rate),
                    label(n)
                );
            }
            if total > 0.0 {
                let mx = x0 + weighted / total * panel_w;
                let _ = write!(
                    out,
                    r#"<line class="mean" x1="{mx:.1}" x2="{mx:.1}" y1="{:.1}" y2="{:.1}"><title>{}: {} over all its conversations</title></line>"#,
                    cy - band * 0.42,
                    cy + band * 0.42,
                    escape(intent),
                    percent(weighted / total)
                );
            }
        }
    }
    let _ = write!(
        out,
        r#"<text class="note" x="{left}" y="{:.1}">one dot per queue and agent, area by conversations; the bar is the intent's rate over all its conversations</text>"#,
        bottom + 32.0
    );
    out.push_str("</svg>");
    out
}

/// Sentiment trajectory: per intent an arrow from the mean sentiment at the start (open circle)
/// to the mean at the end (arrowhead), on a -1 to 1 scale.
fn sentiment(rows: &[Vec<Option<String>>]) -> String {
    let (left, band, plot_w, top) = (170.0, 26.0, 520.0, 40.0);
    let bottom = top + rows.len() as f64 * band;
    let mut out = open(left + plot_w + 150.0, bottom + 40.0, "Sentiment trajectory");
    out.push_str(r#"<defs><marker id="head" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z"/></marker></defs>"#);
    let x = |v: f64| left + (v.clamp(-1.0, 1.0) + 1.0) / 2.0 * plot_w;
    for t in [-1.0, -0.5, 0.0, 0.5, 1.0] {
        let _ = write!(
            out,
            r#"<line class="{}" x1="{tx:.1}" x2="{tx:.1}" y1="{top:.1}" y2="{bottom:.1}"/><text class="tick" x="{tx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            if t == 0.0 { "zero" } else { "grid" },
            bottom + 13.0,
            label(t),
            tx = x(t)
        );
    }
    let _ = write!(
        out,
        r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">mean customer sentiment (-1 negative to 1 positive): ○ at the start → at the end</text>"#,
        left + plot_w / 2.0,
        top - 10.0
    );
    for (i, row) in rows.iter().enumerate() {
        let cy = top + i as f64 * band + band / 2.0;
        let (start, end) = (number(row, 2).unwrap_or(0.0), number(row, 3).unwrap_or(0.0));
        let _ = write!(
            out,
            r#"<g class="point" data-row="{i}"><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{} ({})</text><line class="trajectory" x1="{:.1}" x2="{:.1}" y1="{cy:.1}" y2="{cy:.1}" marker-end="url(#head)"/><circle class="start" cx="{:.1}" cy="{cy:.1}" r="4"/><text class="value" x="{:.1}" y="{:.1}">{} → {}</text><title>{}: {} conversations, from {} to {}</title></g>"#,
            left - 8.0,
            cy + 4.0,
            escape(text(row, 0)),
            escape(text(row, 1)),
            x(start),
            x(end),
            x(start),
            left + plot_w + 10.0,
            cy + 4.0,
            label((start * 100.0).round() / 100.0),
            label((end * 100.0).round() / 100.0),
            escape(text(row, 0)),
            escape(text(row, 1)),
            label(start),
            label(end)
        );
    }
    out.push_str("</svg>");
    out
}

/// A heatmap: rows of `groups` × columns of `keys`, a cell per row of the mart with the value
/// printed in it (shade repeats it).
fn heatmap(
    rows: &[Vec<Option<String>>],
    groups: &[String],
    keys: &[String],
    cell: impl Fn(&Vec<Option<String>>) -> (String, String, f64, String),
    title: &str,
    note: &str,
) -> String {
    let (left, top, cw, ch) = (190.0, 96.0, 52.0, 24.0);
    // Wide enough for the note above the cells too.
    let width = (left + keys.len() as f64 * cw + 20.0).max(left + 6.2 * note.chars().count() as f64 + 20.0);
    let height = top + groups.len() as f64 * ch + 30.0;
    let mut out = open(width, height, title);
    let _ = write!(out, r#"<text class="note" x="{left}" y="14">{}</text>"#, escape(note));
    for (k, key) in keys.iter().enumerate() {
        let kx = left + k as f64 * cw + cw / 2.0;
        let _ = write!(
            out,
            r#"<text class="tick" transform="translate({kx:.1},{:.1}) rotate(-35)">{}</text>"#,
            top - 6.0,
            escape(key)
        );
    }
    for (g, group) in groups.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            left - 8.0,
            top + g as f64 * ch + ch / 2.0 + 4.0,
            escape(group)
        );
    }
    for (i, row) in rows.iter().enumerate() {
        let (group, key, shade, value) = cell(row);
        let (Some(g), Some(k)) = (groups.iter().position(|x| *x == group), keys.iter().position(|x| *x == key)) else {
            continue;
        };
        let (x, y) = (left + k as f64 * cw, top + g as f64 * ch);
        let light = shade.clamp(0.0, 1.0) < 0.55;
        let _ = write!(
            out,
            r#"<g class="point" data-row="{i}"><rect class="cell" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill-opacity="{:.2}"/><text class="{}" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><title>{} · {}: {}</title></g>"#,
            cw - 2.0,
            ch - 2.0,
            0.08 + 0.85 * shade.clamp(0.0, 1.0),
            if light { "value" } else { "value inverse" },
            x + cw / 2.0 - 1.0,
            y + ch / 2.0 + 3.5,
            escape(&value),
            escape(&group),
            escape(&key),
            escape(&value)
        );
    }
    out.push_str("</svg>");
    out
}

/// Repeat contacts: intents × weeks, the share of conversations that were repeat contacts.
fn repeat_contacts(rows: &[Vec<Option<String>>]) -> String {
    let intents = by_total(rows, 0, 2);
    let mut weeks = distinct(rows, 1);
    weeks.sort();
    let most = rows.iter().filter_map(|r| number(r, 3)).fold(0.0, f64::max).max(0.01);
    heatmap(
        rows,
        &intents,
        &weeks,
        |r| {
            let rate = number(r, 3).unwrap_or(0.0);
            (text(r, 0).to_owned(), text(r, 1).to_owned(), rate / most, percent(rate))
        },
        "Repeat contacts by intent and week",
        "share of the week's conversations that were the same customer back about the same intent (%)",
    )
}

/// Agent QA: agents × checks, each check's pass rate.
fn agent_qa(rows: &[Vec<Option<String>>]) -> String {
    let agents: Vec<String> =
        distinct(&rows.iter().map(|r| vec![Some(format!("{} ({})", text(r, 0), text(r, 1)))]).collect::<Vec<_>>(), 0);
    let checks = distinct(rows, 2);
    heatmap(
        rows,
        &agents,
        &checks,
        |r| {
            let rate = number(r, 4).unwrap_or(0.0);
            (format!("{} ({})", text(r, 0), text(r, 1)), text(r, 2).to_owned(), rate, percent(rate))
        },
        "Agent QA pass rates",
        "share of each agent's conversations that passed the check (%)",
    )
}

/// Campaign friction: a bar per campaign of the share of its leads' conversations confused about
/// pricing; a flagged campaign is hatched and says "friction".
fn campaign_friction(rows: &[Vec<Option<String>>]) -> String {
    let (left, band, plot_w, top) = (260.0, 28.0, 420.0, 36.0);
    let bottom = top + rows.len() as f64 * band;
    let mut out = open(left + plot_w + 170.0, bottom + 40.0, "Campaign friction");
    out.push_str(r##"<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#D55E00"/><line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern></defs>"##);
    let scale = ticks(rows.iter().filter_map(|r| number(r, 3)).fold(0.0, f64::max));
    let max = scale.last().copied().unwrap_or(1.0);
    for t in &scale {
        let tx = left + t / max * plot_w;
        let _ = write!(
            out,
            r#"<line class="grid" x1="{tx:.1}" x2="{tx:.1}" y1="{top:.1}" y2="{bottom:.1}"/><text class="tick" x="{tx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            bottom + 13.0,
            percent(*t)
        );
    }
    let _ = write!(
        out,
        r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">share of the campaign's conversations confused about pricing (%)</text>"#,
        left + plot_w / 2.0,
        top - 12.0
    );
    for (i, row) in rows.iter().enumerate() {
        let y = top + i as f64 * band;
        let share = number(row, 3).unwrap_or(0.0);
        let friction = flag(row, 4);
        let _ = write!(
            out,
            r#"<g class="point" data-row="{i}"><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{} ({})</text><rect x="{left:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"/><text class="value" x="{:.1}" y="{:.1}">{} of {}{}</text><title>{}: {} of {} conversations{}</title></g>"#,
            left - 8.0,
            y + band / 2.0 + 4.0,
            escape(text(row, 1)),
            escape(text(row, 0)),
            y + 4.0,
            share / max * plot_w,
            band - 8.0,
            if friction { "url(#hatch)" } else { PALETTE[0] },
            left + share / max * plot_w + 6.0,
            y + band / 2.0 + 4.0,
            percent(share),
            escape(text(row, 2)),
            if friction { " ⚑ friction" } else { "" },
            escape(text(row, 1)),
            percent(share),
            escape(text(row, 2)),
            if friction { ", flagged" } else { "" }
        );
    }
    out.push_str("</svg>");
    out
}

/// Label quality: per label, the reviewed precision as a dot with its interval as whiskers.
fn label_quality(rows: &[Vec<Option<String>>]) -> String {
    let (left, band, plot_w, top) = (240.0, 24.0, 420.0, 40.0);
    let bottom = top + rows.len() as f64 * band;
    let mut out = open(left + plot_w + 120.0, bottom + 40.0, "Label precision from reviews");
    rate_axis(&mut out, left, top, plot_w, bottom, "precision (%), with its interval");
    for (i, row) in rows.iter().enumerate() {
        let cy = top + i as f64 * band + band / 2.0;
        let precision = number(row, 4);
        let (low, high) = (number(row, 5).unwrap_or(0.0), number(row, 6).unwrap_or(1.0));
        let shown = precision.map_or_else(|| "no verdicts".to_owned(), percent);
        let _ = write!(
            out,
            r#"<g class="point" data-row="{i}"><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{} {} ({} reviews)</text><line class="whisker" x1="{:.1}" x2="{:.1}" y1="{cy:.1}" y2="{cy:.1}"/>"#,
            left - 8.0,
            cy + 4.0,
            escape(text(row, 0)),
            escape(text(row, 1)),
            escape(text(row, 3)),
            left + low * plot_w,
            left + high * plot_w
        );
        if let Some(p) = precision {
            let _ = write!(out, r#"<circle cx="{:.1}" cy="{cy:.1}" r="4" fill="{}"/>"#, left + p * plot_w, PALETTE[0]);
        }
        let _ = write!(
            out,
            r#"<text class="value" x="{:.1}" y="{:.1}">{shown}</text><title>{} {}: {shown} ({} to {})</title></g>"#,
            left + plot_w + 10.0,
            cy + 4.0,
            escape(text(row, 0)),
            escape(text(row, 1)),
            percent(low),
            percent(high)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(data: &[&[&str]]) -> Vec<Vec<Option<String>>> {
        data.iter().map(|r| r.iter().map(|v| (!v.is_empty()).then(|| (*v).to_owned())).collect()).collect()
    }

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(ticks(7.0), [0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(ticks(0.0), [0.0, 0.25, 0.5, 0.75, 1.0]);
        let labels: Vec<String> = ticks(0.19).into_iter().map(label).collect();
        assert_eq!(labels, ["0", "0.05", "0.1", "0.15", "0.2"]);
        assert_eq!(label(-0.001), "0");
    }

    #[test]
    fn every_chart_draws_one_mark_per_row() {
        let data = [
            rows(&[
                &["2026-09-01", "chat", "refund", "3"],
                &["2026-09-01", "email", "refund", "1"],
                &["2026-09-02", "chat", "login", "2"],
            ]),
            rows(&[&["2026-08-31", "shipping", "4", "false"], &["2026-09-07", "shipping", "9", "true"]]),
            rows(&[&["refund", "Orders", "Ana", "5", "0.8", "0.2"], &["refund", "Orders", "Bo", "1", "1", "0"]]),
            rows(&[&["refund", "12", "-0.4", "0.3"]]),
            rows(&[&["refund", "2026-08-31", "4", "0.25"], &["refund", "2026-09-07", "2", ""]]),
            rows(&[&["CMP-1", "Summer", "10", "0.3", "true"], &["CMP-2", "Winter", "8", "0.05", "false"]]),
            rows(&[&["Ana", "Orders", "greeting", "5", "1"], &["Ana", "Orders", "closing", "5", "0.6"]]),
            rows(&[
                &["intent", "refund", "abc", "10", "0.9", "0.6", "0.98"],
                &["intent", "login", "abc", "0", "", "", ""],
            ]),
        ];
        for (chart, rows) in CHARTS.iter().zip(&data) {
            let svg = chart.svg(rows);
            let marks: std::collections::BTreeSet<&str> =
                svg.split("data-row=\"").skip(1).filter_map(|s| s.split('"').next()).collect();
            assert_eq!(marks.len(), rows.len(), "{}: {svg}", chart.id);
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{}", chart.id);
        }
    }

    #[test]
    fn a_spike_and_a_flagged_campaign_say_so_in_words() {
        let trends = CHARTS[1].svg(&rows(&[&["2026-09-07", "shipping", "9", "true"]]));
        assert!(trends.contains(">spike</text>"), "{trends}");
        let friction = CHARTS[5].svg(&rows(&[&["CMP-1", "Summer <sale>", "10", "0.3", "true"]]));
        assert!(friction.contains("⚑ friction") && friction.contains("Summer &lt;sale&gt;"), "{friction}");
    }
}
