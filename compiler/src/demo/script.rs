//! One support story: who writes, on which channel, why, what the agent does about it, how it
//! ends, and what follows in the CRM (an order, a refund, a churned account), with the ground
//! truth of every label the warehouse should find.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use fastrand::Rng;

use super::phrases::*;
use super::world::{self, Campaign, Person};

/// Who says a line.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Who {
    /// The customer.
    Customer,
    /// A support agent.
    Agent,
    /// The chatbot.
    Bot,
}

/// One line of a conversation, `at` seconds after it started.
pub(super) struct Line {
    /// Who says it.
    pub who: Who,
    /// What they say.
    pub text: String,
    /// Seconds after the start.
    pub at: i64,
}

/// What the generator knows a conversation is, for `truth.csv`.
pub(super) struct Truth {
    /// The intent.
    pub intent: &'static str,
    /// For pre-purchase conversations, why the shopper hesitated.
    pub objection: Option<&'static str>,
    /// For feature requests, the feature.
    pub feature: Option<&'static str>,
    /// solved, escalated, handoff, abandoned or unresolved.
    pub resolution: &'static str,
    /// The language the customer writes in.
    pub language: &'static str,
    /// Greeting, verification, resolution offered, closing: what the agent did (None without one).
    pub qa: Option<[bool; 4]>,
    /// Whether the customer was confused by the campaign's offer.
    pub confusion: bool,
    /// Whether it belongs to the planted spike of delivery problems.
    pub spike: bool,
    /// Whether the customer was upset.
    pub negative: bool,
    /// For pre-purchase conversations, whether the shopper bought within five days.
    pub converted: Option<bool>,
    /// The source id of the earlier conversation this one repeats.
    pub repeat_of: Option<String>,
    /// Why the raw record cannot be read, when it was planted broken.
    pub malformed: Option<&'static str>,
}

/// What happens in the CRM because of a conversation.
pub(super) enum Event {
    /// An order placed (a converted shopper, or a replacement).
    Order { account_id: String, at: DateTime<Utc>, amount: f64 },
    /// A refund paid.
    Refund { account_id: String, at: DateTime<Utc>, amount: f64, reason: &'static str },
    /// An account that churned.
    Churn { account_id: String, at: DateTime<Utc>, reason: &'static str },
    /// A prospect who became a customer.
    Account(Box<Person>),
}

/// One generated conversation.
pub(super) struct Conversation {
    /// The platform.
    pub source: &'static str,
    /// Its id there (of the first record, for email threads).
    pub source_id: String,
    /// chat, email, voice, ticket or bot.
    pub channel: &'static str,
    /// How the payload is written.
    pub format: &'static str,
    /// The customer.
    pub person: Person,
    /// The agent (name, queue), when one answered.
    pub agent: Option<(&'static str, &'static str)>,
    /// When it started.
    pub started: DateTime<Utc>,
    /// What was said.
    pub lines: Vec<Line>,
    /// The utm_campaign it came from.
    pub campaign: Option<&'static str>,
    /// The subject (email and tickets).
    pub subject: String,
    /// The ground truth.
    pub truth: Truth,
    /// PII values planted in the text: (type, value as written).
    pub pii: Vec<(&'static str, String)>,
    /// What follows in the CRM.
    pub events: Vec<Event>,
}

/// What every story reads: the CRM's people, their orders, the campaigns, and the time window.
pub(super) struct World<'a> {
    /// CRM accounts.
    pub accounts: &'a [Person],
    /// Order ids per account, by account index.
    pub orders: &'a [Vec<String>],
    /// Campaigns.
    pub campaigns: &'a [Campaign],
    /// First day of the window.
    pub start: NaiveDate,
    /// Days in the window.
    pub days: i64,
}

impl World<'_> {
    /// The first day of the week with the planted spike of delivery problems.
    fn spike_day(&self) -> i64 {
        (self.days - 21).max(0)
    }
}

fn pick<'a, T: ?Sized>(rng: &mut Rng, items: &'a [&'a T]) -> &'a T {
    items[rng.usize(..items.len())]
}

/// The values `{slot}`s are filled with in one conversation.
struct Slots<'a> {
    person: &'a Person,
    agent: &'a str,
    order: String,
    product: &'static str,
    amount: String,
    plan: &'static str,
    competitor: &'static str,
    feature: &'static str,
    campaign: &'static str,
    team: &'static str,
    days: u32,
}

impl Slots<'_> {
    /// One of `templates`, filled.
    fn any(&self, rng: &mut Rng, templates: &[&str]) -> String {
        let template = templates[rng.usize(..templates.len())];
        self.fill(rng, template)
    }

    fn fill(&self, rng: &mut Rng, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = open + rest[open..].find('}').expect("slot closes");
            let value = match &rest[open + 1..close] {
                "first" => self.person.first.clone(),
                "agent" => self.agent.split(' ').next().unwrap_or_default().to_string(),
                "order" => self.order.clone(),
                "product" => self.product.to_string(),
                "amount" => self.amount.clone(),
                "plan" => self.plan.to_string(),
                "competitor" => self.competitor.to_string(),
                "feature" => self.feature.to_string(),
                "campaign" => self.campaign.to_string(),
                "team" => self.team.to_string(),
                "days" => self.days.to_string(),
                "pct" => pick(rng, &["20", "30", "40", "50"]).to_string(),
                "code" => format!("SAVE{}", rng.u32(10..60)),
                "device" => pick(rng, DEVICES).to_string(),
                "city" => pick(rng, CITIES).to_string(),
                "weekday" => pick(rng, WEEKDAYS).to_string(),
                other => panic!("unknown slot {{{other}}} in a demo phrase"),
            };
            out.push_str(&value);
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// Which intent a story is about, weighted, with delivery problems four times as common in the
/// spike week.
fn intent(rng: &mut Rng, spike: bool) -> &'static Intent {
    let weight = |i: &Intent| if spike && i.name == "delivery_status" { i.weight * 4 } else { i.weight };
    let total: u32 = INTENTS.iter().map(weight).sum();
    let mut n = rng.u32(0..total);
    for i in INTENTS {
        if n < weight(i) {
            return i;
        }
        n -= weight(i);
    }
    &INTENTS[0]
}

/// (source, channel, format) for a conversation.
fn channel(rng: &mut Rng, intent: &str) -> (&'static str, &'static str, &'static str) {
    let n = rng.u32(0..100);
    let pre_sales = intent == "pre_purchase";
    match n {
        0..=19 => ("intercom", "chat", "plain"),
        20..=34 => ("intercom", "chat", "intercom"),
        35..=54 if !pre_sales => ("email", "email", "email"),
        35..=54 => ("intercom", "chat", "plain"),
        55..=64 => ("voice", "voice", "vtt"),
        65..=69 => ("voice", "voice", "srt"),
        70..=84 => ("zendesk", "ticket", "zendesk"),
        85..=92 => ("bot", "bot", "json"),
        _ => ("bot", "bot", "jsonl"),
    }
}

/// Generates story `n`: one conversation, or two when the customer comes back about the same
/// problem; `n` (and `n + 1` for the second) is the number in their source ids.
pub(super) fn story(world: &World, rng: &mut Rng, n: u64) -> Vec<Conversation> {
    let day = rng.i64(0..world.days);
    let spike = (world.spike_day()..world.spike_day() + 7).contains(&day);
    let intent = intent(rng, spike);
    let prospect = intent.name == "pre_purchase" && rng.u32(0..10) < 7;
    let (person, orders) = if prospect || world.accounts.is_empty() {
        (world::person(rng, format!("P-{n}"), None, world.start), &[][..])
    } else {
        // Some customers write far more often than others.
        let i = ((rng.f64().powf(1.6)) * world.accounts.len() as f64) as usize;
        let i = i.min(world.accounts.len() - 1);
        (world.accounts[i].clone(), world.orders[i].as_slice())
    };
    let campaign = match (prospect, rng.u32(0..100)) {
        (true, 0..=69) | (false, 0..=11) => Some(&world.campaigns[rng.usize(..world.campaigns.len())]),
        _ => None,
    };
    let started = world::at(world.start + Duration::days(day), rng.u32(7 * 3600..21 * 3600));
    let first =
        conversation(rng, Start { n, intent, person: &person, orders, campaign, started, spike, repeat_of: None });
    let mut stories = vec![first];
    let earlier = &stories[0];
    let comes_back = matches!(earlier.truth.resolution, "unresolved" | "abandoned" | "escalated")
        && earlier.truth.malformed.is_none()
        && intent.name != "pre_purchase"
        && rng.u32(0..100) < 35;
    if comes_back {
        let started = earlier.started + Duration::hours(rng.i64(20..6 * 24));
        let repeat_of = Some(earlier.source_id.clone());
        let again =
            Start { n: n + 1, intent, person: &person, orders, campaign: None, started, spike: false, repeat_of };
        stories.push(conversation(rng, again));
    }
    stories
}

/// What a conversation starts from.
struct Start<'a> {
    n: u64,
    intent: &'static Intent,
    person: &'a Person,
    orders: &'a [String],
    campaign: Option<&'a Campaign>,
    started: DateTime<Utc>,
    spike: bool,
    repeat_of: Option<String>,
}

fn conversation(rng: &mut Rng, s: Start) -> Conversation {
    let intent = s.intent;
    let (source, channel, format) = channel(rng, intent.name);
    let queue_agents: Vec<_> = AGENTS.iter().filter(|(_, q, _)| *q == intent.queue).collect();
    let &(agent_name, queue, adherence) = queue_agents[rng.usize(..queue_agents.len())];
    let slots = Slots {
        person: s.person,
        agent: agent_name,
        order: match s.orders {
            [] => format!("ORD-{}", rng.u32(100_000..999_999)),
            orders => orders[rng.usize(..orders.len())].clone(),
        },
        product: pick(rng, PRODUCTS),
        amount: format!("${}.{:02}", rng.u32(9..250), rng.u32(0..100)),
        plan: pick(rng, PLANS),
        competitor: pick(rng, COMPETITORS),
        feature: pick(rng, FEATURES),
        campaign: s.campaign.map(|c| c.name).unwrap_or("newsletter"),
        team: intent.queue,
        days: rng.u32(3..15),
    };
    let mut truth = Truth {
        intent: intent.name,
        objection: None,
        feature: (intent.name == "feature_request").then_some(slots.feature),
        resolution: "unresolved",
        language: "en",
        qa: None,
        confusion: false,
        spike: s.spike && intent.name == "delivery_status",
        negative: intent.negative && rng.u32(0..100) < 55,
        converted: None,
        repeat_of: s.repeat_of.clone(),
        malformed: None,
    };
    let mut pii = Vec::new();
    let mut lines = Vec::new();

    // The customer's opening: why they write, in their words.
    let mut opening = String::new();
    let foreign: Vec<_> = FOREIGN.iter().filter(|(i, l, _, _)| *i == intent.name && *l == s.person.language).collect();
    let foreign = (!foreign.is_empty() && rng.u32(0..10) < 7).then(|| foreign[rng.usize(..foreign.len())]);
    if let Some((_, language, text, _)) = foreign {
        truth.language = language;
        opening.push_str(&slots.fill(rng, text));
    } else {
        let hello = pick(rng, HELLOS);
        opening.push_str(hello);
        if truth.repeat_of.is_some() {
            opening.push_str(&format!("I contacted you {} days ago about this and nothing happened. ", rng.u32(1..6)));
        }
        let confused = s.campaign.is_some_and(|c| c.confusing) && rng.u32(0..100) < 45;
        let text = if intent.name == "pre_purchase" {
            let (objection, phrases) = OBJECTIONS[rng.usize(..OBJECTIONS.len())];
            truth.objection = Some(objection);
            if confused {
                pick(rng, CONFUSION)
            } else {
                pick(rng, phrases)
            }
        } else if confused && matches!(intent.name, "billing_issue" | "discount_code") {
            pick(rng, CONFUSION)
        } else {
            pick(rng, intent.openings)
        };
        truth.confusion = CONFUSION.contains(&text);
        let said = slots.fill(rng, text);
        // After "Hi, " people go on in lower case, but for "I".
        let said = match said.split_at(said.chars().next().map_or(0, char::len_utf8)) {
            (first, rest) if !hello.is_empty() && opening.len() == hello.len() && first != "I" => {
                first.to_lowercase() + rest
            }
            _ => said,
        };
        if truth.confusion && intent.name == "pre_purchase" {
            truth.objection = Some("price");
        }
        opening.push_str(&said);
        if truth.spike && rng.u32(0..2) == 0 {
            opening.push_str(" Is this because of the courier strike?");
        }
        if rng.u32(0..100) < 40 && !intent.details.is_empty() {
            opening.push(' ');
            opening.push_str(&slots.any(rng, intent.details));
        }
        if truth.negative {
            opening.push(' ');
            opening.push_str(pick(rng, FRUSTRATION));
        }
        match rng.u32(0..100) {
            0..=11 => {
                let phone = world::phone_variant(rng, &s.person.phone);
                opening.push_str(&format!(" You can reach me at {phone}."));
                pii.push(("PHONE_NUMBER", phone));
            }
            12..=17 => {
                let card = world::card(rng);
                opening.push_str(&format!(" The card I used is {card}."));
                pii.push(("CREDIT_CARD", card));
            }
            18..=27 if channel == "email" => {
                opening.push_str(&format!("\n\nThanks,\n{}", s.person.full_name));
                pii.push(("PERSON", s.person.full_name.clone()));
            }
            _ => {}
        }
    }

    let bot = channel == "bot";
    let voice = channel == "voice";
    let mut gaps = rng.fork();
    let mut at = 0;
    let mut say = |lines: &mut Vec<Line>, who: Who, text: String| {
        lines.push(Line { who, text, at });
        at += match channel {
            "email" => gaps.i64(2 * 3600..30 * 3600),
            "ticket" => gaps.i64(600..8 * 3600),
            _ => gaps.i64(15..120),
        };
    };

    let qa = adherence.map(|p| rng.f64() < p);
    let [greets, verifies, offers, closes] = qa;
    let mut with_agent = !bot;
    if bot {
        say(&mut lines, Who::Bot, pick(rng, BOT_HELLOS).to_string());
        say(&mut lines, Who::Customer, opening);
        match rng.u32(0..100) {
            0..=19 => {
                say(&mut lines, Who::Bot, pick(rng, BOT_TRIES).to_string());
                say(&mut lines, Who::Customer, "That answers it, thanks!".to_string());
                truth.resolution = "solved";
            }
            20..=44 => {
                say(&mut lines, Who::Bot, pick(rng, BOT_TRIES).to_string());
                say(&mut lines, Who::Bot, "Did that answer your question?".to_string());
                truth.resolution = "abandoned";
            }
            45..=69 => {
                say(&mut lines, Who::Bot, pick(rng, BOT_HANDOFFS).to_string());
                truth.resolution = "handoff";
            }
            _ => {
                say(&mut lines, Who::Bot, pick(rng, BOT_HANDOFFS).to_string());
                with_agent = true;
            }
        }
    } else if voice {
        let hello = if greets { pick(rng, PHONE_GREETINGS) } else { pick(rng, PHONE_BARE) };
        say(&mut lines, Who::Agent, slots.fill(rng, hello));
        say(&mut lines, Who::Customer, opening);
    } else {
        say(&mut lines, Who::Customer, opening);
    }

    if with_agent {
        truth.qa = Some(qa);
        let mut reply = Vec::new();
        if greets && !voice {
            reply.push(slots.any(rng, GREETINGS));
        }
        if let Some((_, language, _, thanks)) = foreign {
            let answer = FOREIGN_ANSWERS.iter().find(|(l, _)| l == language).map_or("", |(_, a)| *a);
            reply.push(answer.to_string());
            say(&mut lines, Who::Agent, reply.join(" "));
            say(&mut lines, Who::Customer, thanks.to_string());
            truth.resolution = "solved";
            // The answer in the customer's language offers a fix; greeting and closing stay as drawn.
            truth.qa = Some([greets, false, true, false]);
        } else {
            if verifies {
                let (question, kind) = VERIFICATIONS[rng.usize(..VERIFICATIONS.len())];
                reply.push(question.to_string());
                say(&mut lines, Who::Agent, reply.join(" "));
                reply.clear();
                let answer = match kind {
                    Verify::Email => {
                        pii.push(("EMAIL_ADDRESS", s.person.email.clone()));
                        format!("Sure, it's {}", s.person.email)
                    }
                    Verify::Order => format!("It's {}", slots.order),
                    Verify::Address => {
                        pii.push(("STREET_ADDRESS", s.person.address.clone()));
                        s.person.address.clone()
                    }
                };
                say(&mut lines, Who::Customer, answer);
            }
            let roll = rng.u32(0..100);
            // An agent who offers nothing leaves the customer to give up or stay unresolved.
            let outcome = match roll {
                0..=44 if !offers => "abandoned",
                _ if !offers => "unresolved",
                0..=64 => "solved",
                65..=79 => "escalated",
                80..=89 => "abandoned",
                _ => "unresolved",
            };
            truth.resolution = outcome;
            match outcome {
                "solved" => {
                    reply.push(slots.any(rng, intent.fixes));
                    say(&mut lines, Who::Agent, reply.join(" "));
                    say(&mut lines, Who::Customer, pick(rng, THANKS).to_string());
                }
                "escalated" => {
                    reply.push(slots.any(rng, ESCALATIONS));
                    say(&mut lines, Who::Agent, reply.join(" "));
                    say(&mut lines, Who::Customer, "OK, I'll wait for their email.".to_string());
                }
                "abandoned" => {
                    reply.push(slots.any(rng, intent.questions));
                    say(&mut lines, Who::Agent, reply.join(" "));
                }
                _ => {
                    reply.push(pick(rng, NO_ANSWERS).to_string());
                    say(&mut lines, Who::Agent, reply.join(" "));
                    say(&mut lines, Who::Customer, pick(rng, UNSOLVED).to_string());
                    truth.negative = true;
                }
            }
            if closes && outcome != "abandoned" {
                say(&mut lines, Who::Agent, pick(rng, CLOSINGS).to_string());
            }
            truth.qa = Some([greets, verifies, offers, closes && outcome != "abandoned"]);
        }
    }

    let (events, converted) = events(rng, &s, &truth, &slots);
    truth.converted = converted;
    let mut conversation = Conversation {
        source,
        source_id: match channel {
            "chat" => format!("c-{}", s.n),
            "email" => format!("e-{}", s.n),
            "voice" => format!("call-{}", s.n),
            "ticket" => format!("t-{}", s.n),
            _ => format!("s-{}", s.n),
        },
        channel,
        format,
        subject: subject(&lines),
        person: s.person.clone(),
        agent: with_agent.then_some((agent_name, queue)),
        started: s.started,
        lines,
        campaign: s.campaign.map(|c| c.utm),
        truth,
        pii,
        events,
    };
    if rng.u32(0..1000) < 4 {
        conversation.truth.malformed = Some("planted: broken payload");
    }
    conversation
}

/// An email or ticket subject: the opening's first words.
fn subject(lines: &[Line]) -> String {
    let opening = lines.iter().find(|l| l.who == Who::Customer).map_or("", |l| l.text.as_str());
    let words: Vec<&str> = opening.split_whitespace().take(7).collect();
    words.join(" ").trim_end_matches(['.', ',', '!', '?']).to_string()
}

/// What the CRM records after the conversation, and for a pre-purchase conversation whether the
/// shopper bought.
fn events(rng: &mut Rng, s: &Start, truth: &Truth, slots: &Slots) -> (Vec<Event>, Option<bool>) {
    let mut events = Vec::new();
    let days_later = |rng: &mut Rng, from: i64, to: i64| s.started + Duration::hours(rng.i64(from * 24..to * 24));
    let mut account_id = s.person.account_id.clone();
    let solved = truth.resolution == "solved";
    let amount = || slots.amount.trim_start_matches('$').parse::<f64>().unwrap_or(0.0);
    match truth.intent {
        "pre_purchase" => {
            let base = match truth.objection.unwrap_or_default() {
                "price" => 25,
                "shipping" => 35,
                "competitor" => 20,
                "compatibility" => 50,
                _ => 45,
            };
            let chance = base + if solved { 20 } else { 0 } - if truth.confusion { 15 } else { 0 };
            let converted = rng.u32(0..100) < chance;
            if converted {
                if account_id.is_none() {
                    let mut person = s.person.clone();
                    let id = format!("ACC-{}", 900_000 + s.n);
                    person.account_id = Some(id.clone());
                    person.created_at = s.started.date_naive();
                    events.push(Event::Account(Box::new(person)));
                    account_id = Some(id);
                }
                let at = days_later(rng, 0, 5);
                events.push(Event::Order { account_id: account_id.clone().unwrap_or_default(), at, amount: amount() });
            }
            return (events, Some(converted));
        }
        "return_refund" | "cancel_order" if solved => {
            let at = days_later(rng, 0, 3);
            let reason = if truth.intent == "cancel_order" { "order cancelled" } else { "return" };
            events.push(Event::Refund {
                account_id: account_id.clone().unwrap_or_default(),
                at,
                amount: amount(),
                reason,
            });
        }
        "billing_issue" if solved && rng.u32(0..10) < 6 => {
            let at = days_later(rng, 0, 3);
            events.push(Event::Refund {
                account_id: account_id.clone().unwrap_or_default(),
                at,
                amount: amount(),
                reason: "billing error",
            });
        }
        _ => {}
    }
    if let Some(account_id) = account_id.filter(|_| truth.intent != "pre_purchase") {
        let churn = match (truth.intent, truth.resolution, truth.negative) {
            ("cancel_subscription", "solved", _) => Some((90, "cancelled in support")),
            (_, "unresolved" | "abandoned", true) => Some((25, "unhappy with support")),
            (_, _, true) => Some((8, "unhappy with support")),
            _ => None,
        };
        if let Some((_, reason)) = churn.filter(|(chance, _)| rng.u32(0..100) < *chance) {
            events.push(Event::Churn { account_id, at: days_later(rng, 0, 20), reason });
        }
    }
    (events, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every phrase's `{slot}`s are ones `Slots::fill` knows (it panics on any other).
    #[test]
    fn every_phrase_fills() {
        let mut rng = Rng::with_seed(1);
        let start = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
        let person = world::person(&mut rng, "P-1".into(), None, start);
        let slots = Slots {
            person: &person,
            agent: "Dana Cruz",
            order: "ORD-100001".into(),
            product: "blender",
            amount: "$10.00".into(),
            plan: "yearly plan",
            competitor: "Acme",
            feature: "dark mode",
            campaign: "Spring sale",
            team: "Orders",
            days: 3,
        };
        let lists = [GREETINGS, PHONE_GREETINGS, PHONE_BARE, ESCALATIONS, CONFUSION, CLOSINGS, THANKS, UNSOLVED];
        let intents = INTENTS.iter().flat_map(|i| [i.openings, i.details, i.fixes, i.questions]);
        let objections = OBJECTIONS.iter().map(|(_, phrases)| *phrases);
        let foreign: Vec<&str> = FOREIGN.iter().flat_map(|(_, _, opening, thanks)| [*opening, *thanks]).collect();
        let phrases = lists.into_iter().chain(intents).chain(objections).flatten().chain(&foreign);
        for phrase in phrases {
            let filled = slots.fill(&mut rng, phrase);
            assert!(!filled.contains(['{', '}']), "{phrase} -> {filled}");
        }
    }
}
