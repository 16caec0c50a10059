//! Voice metrics of a timed transcript: talk time per role, talk ratio, silences, overlaps,
//! interruptions and the longest monologue.

use std::collections::HashMap;

use super::{Role, Turn};

/// What the timing of a call says, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct VoiceMetrics {
    /// Total length of the customer's turns.
    pub customer_talk_ms: i64,
    /// Total length of the agents' turns.
    pub agent_talk_ms: i64,
    /// The agents' share of customer and agent talk time, in [0, 1]; `None` when neither spoke.
    pub talk_ratio: Option<f64>,
    /// Total length of the gaps longer than the silence threshold in which nobody speaks.
    pub silence_ms: i64,
    /// How many such gaps there are.
    pub silences: i64,
    /// Total time in which two or more speakers talk at once.
    pub overlap_ms: i64,
    /// Turns that start while another speaker is still talking.
    pub interruptions: i64,
    /// The longest stretch of one speaker's consecutive turns, first start to last end.
    pub longest_monologue_ms: i64,
}

/// One timed turn: start, end, who spoke (the speaker, else the role) and the role.
struct Span<'t> {
    start: i64,
    end: i64,
    who: &'t str,
    role: Role,
}

/// The metrics of the turns that have a start and an end; `None` when none has both.
pub(crate) fn voice_metrics(turns: &[Turn], silence_threshold_ms: i64) -> Option<VoiceMetrics> {
    let mut timed: Vec<Span<'_>> = turns
        .iter()
        .filter_map(|t| {
            let (start, end) = (t.start_ms?, t.end_ms?);
            let who = t.speaker.as_deref().unwrap_or(t.role.as_str());
            (end >= start).then_some(Span { start, end, who, role: t.role })
        })
        .collect();
    if timed.is_empty() {
        return None;
    }
    timed.sort_by_key(|s| (s.start, s.end));
    let talk = |role: Role| timed.iter().filter(|s| s.role == role).map(|s| s.end - s.start).sum::<i64>();
    let (customer, agent) = (talk(Role::Customer), talk(Role::Agent));
    let mut m = VoiceMetrics {
        customer_talk_ms: customer,
        agent_talk_ms: agent,
        talk_ratio: (customer + agent > 0).then(|| agent as f64 / (customer + agent) as f64),
        ..VoiceMetrics::default()
    };
    let mut covered_until = timed[0].end;
    for s in &timed[1..] {
        if s.start > covered_until && s.start - covered_until > silence_threshold_ms {
            m.silence_ms += s.start - covered_until;
            m.silences += 1;
        }
        covered_until = covered_until.max(s.end);
    }
    // Overlap: sweep the starts and ends, counting the speakers who are talking.
    let mut events: Vec<(i64, i32, &str)> =
        timed.iter().flat_map(|s| [(s.start, 1, s.who), (s.end, -1, s.who)]).collect();
    events.sort_by_key(|e| (e.0, e.1));
    let mut active: HashMap<&str, i32> = HashMap::new();
    let mut talking = 0usize;
    let mut last = events[0].0;
    for (at, delta, who) in events {
        if talking >= 2 {
            m.overlap_ms += at - last;
        }
        let n = active.entry(who).or_default();
        let was = *n > 0;
        *n += delta;
        talking = talking + usize::from(*n > 0) - usize::from(was);
        last = at;
    }
    m.interruptions = interruptions(&timed);
    m.longest_monologue_ms = timed
        .chunk_by(|a, b| a.who == b.who)
        .map(|run| run.iter().map(|s| s.end).fold(run[0].end, i64::max) - run[0].start)
        .max()
        .unwrap_or(0);
    Some(m)
}

/// Turns that start while another speaker, who started earlier, is still talking; `timed` is
/// sorted by start. One pass: turns that start together are checked against the ones before
/// them, which are summed up as the latest end and the latest end of anyone else.
fn interruptions(timed: &[Span<'_>]) -> i64 {
    let mut latest: Option<(i64, &str)> = None;
    let mut latest_other: Option<i64> = None;
    let mut count = 0;
    for group in timed.chunk_by(|a, b| a.start == b.start) {
        for s in group {
            let until = match latest {
                Some((end, who)) if who != s.who => Some(end),
                _ => latest_other,
            };
            count += i64::from(until.is_some_and(|end| end > s.start));
        }
        for s in group {
            latest = match latest {
                Some((end, who)) if who == s.who => Some((end.max(s.end), who)),
                Some((end, _)) if s.end > end => {
                    latest_other = Some(end);
                    Some((s.end, s.who))
                }
                Some(top) => {
                    latest_other = Some(latest_other.map_or(s.end, |e| e.max(s.end)));
                    Some(top)
                }
                None => Some((s.end, s.who)),
            };
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(role: Role, start: i64, end: i64) -> Turn {
        Turn {
            index: 0,
            role,
            speaker: Some(role.as_str().into()),
            text: "x".into(),
            start_ms: Some(start),
            end_ms: Some(end),
            sent_at: None,
        }
    }

    #[test]
    fn a_call() {
        let turns = [
            turn(Role::Agent, 0, 4_000),
            turn(Role::Customer, 3_000, 9_000),
            turn(Role::Agent, 12_000, 14_000),
            turn(Role::Agent, 14_500, 20_000),
        ];
        let m = voice_metrics(&turns, 2_000).unwrap();
        assert_eq!(m.agent_talk_ms, 11_500);
        assert_eq!(m.customer_talk_ms, 6_000);
        assert_eq!((m.silence_ms, m.silences), (3_000, 1));
        assert_eq!(m.overlap_ms, 1_000);
        assert_eq!(m.interruptions, 1);
        assert_eq!(m.longest_monologue_ms, 8_000);
        assert!((m.talk_ratio.unwrap() - 11_500.0 / 17_500.0).abs() < 1e-12);
    }

    /// The one-pass count equals the definition: a turn starting while someone else, who
    /// started earlier, still talks.
    #[test]
    fn interruptions_match_the_pairwise_definition() {
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        for _ in 0..200 {
            let names = ["a", "b", "c"];
            let mut timed: Vec<Span<'_>> = (0..next(12) + 1)
                .map(|_| {
                    let start = next(50) as i64;
                    let who = names[next(3) as usize];
                    Span { start, end: start + next(30) as i64, who, role: Role::Agent }
                })
                .collect();
            timed.sort_by_key(|s| (s.start, s.end));
            let pairwise = timed
                .iter()
                .filter(|s| timed.iter().any(|p| p.start < s.start && p.end > s.start && p.who != s.who))
                .count() as i64;
            assert_eq!(interruptions(&timed), pairwise);
        }
    }

    #[test]
    fn untimed_turns_have_no_metrics() {
        let mut t = turn(Role::Agent, 0, 1);
        t.end_ms = None;
        assert_eq!(voice_metrics(&[t], 2_000), None);
    }
}
