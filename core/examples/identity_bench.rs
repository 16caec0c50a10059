//! Identity-stitching benchmark and evaluation driver.
//!
//! ```text
//! identity_bench generate --records N --out DIR   # FEBRL-like person records with planted duplicates
//! identity_bench run RECORDS.csv [TRUTH.csv] [SETTINGS.json]
//! ```
//!
//! `run` prints throughput (records/s, compared pairs/s), wall time per phase, peak memory, and
//! pairwise precision / recall / F1 when a truth file is given. `bench/identity.sh` drives it.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use convlytics_core::identity::{pairwise_metrics, read_truth, stitch, RecordSet, Settings};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("generate") => generate(&args[1..]),
        Some("run") => run(&args[1..]),
        _ => {
            Err("usage: identity_bench generate --records N --out DIR | run RECORDS.csv [TRUTH.csv] [SETTINGS.json]"
                .into())
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn run(args: &[String]) -> Result<()> {
    let records_path = args.first().ok_or("run needs RECORDS.csv")?;
    let settings = match args.get(2) {
        Some(path) => Settings::from_json(&std::fs::read_to_string(path)?)?,
        None => Settings::default(),
    };
    let start = Instant::now();
    let records = RecordSet::from_csv(BufReader::new(File::open(records_path)?))?;
    let read = start.elapsed().as_secs_f64();
    let stitched = stitch(&records, &settings)?;
    let total = start.elapsed().as_secs_f64();
    let s = &stitched.stats;
    println!("records              {}", s.records);
    println!("read                 {read:.2} s");
    println!("stitch               {:.2} s", total - read);
    println!("end to end           {total:.2} s");
    println!("records/s            {:.0}", s.records as f64 / total);
    println!("compared pairs       {} ({})", s.compared_pairs(), rules(&s.pairs_per_rule));
    println!("pairs/s (stitch)     {:.0}", s.compared_pairs() as f64 / (total - read));
    println!("links                {} deterministic, {} probabilistic", s.deterministic_links, s.probabilistic_links);
    println!("oversized blocks     {} ({} records)", s.oversized_groups, s.oversized_records);
    println!("clusters             {}", s.clusters);
    println!("prior                {:.3e}", stitched.model.prior);
    println!("peak memory          {} MiB", peak_rss_mib());
    if let Some(truth) = args.get(1) {
        let truth = read_truth(BufReader::new(File::open(truth)?))?;
        let m = pairwise_metrics(&records, &stitched.assignments, &truth)?;
        println!("precision            {:.4}", m.precision);
        println!("recall               {:.4}", m.recall);
        println!("f1                   {:.4}", m.f1);
        println!("true clusters        {}", m.true_clusters);
    }
    Ok(())
}

fn rules(per_rule: &[(String, u64)]) -> String {
    per_rule.iter().map(|(r, n)| format!("{r}: {n}")).collect::<Vec<_>>().join(", ")
}

fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        .map_or(0, |kb| kb / 1024)
}

const SYLLABLES: &[&str] = &[
    "an", "bel", "car", "dan", "el", "fi", "gar", "ha", "is", "jo", "ka", "li", "mar", "ne", "o", "pe", "qui", "ra",
    "sa", "ta", "u", "ve", "wil", "xa", "ya", "zo", "ber", "ton", "son", "ley", "ford", "man", "ric", "len", "da",
    "mi", "sto", "ken", "low", "ry", "ni", "go", "vin", "ella", "tine", "rose", "worth", "ham", "ings", "by",
];
const STREET_TYPES: &[&str] = &["street", "road", "avenue", "crescent", "place", "circuit", "close", "drive", "lane"];
const STATES: &[&str] = &["nsw", "vic", "qld", "wa", "sa", "tas", "act", "nt"];

struct Person {
    given: String,
    surname: String,
    number: String,
    street: String,
    suburb: String,
    postcode: String,
    state: String,
    dob: String,
    ssn: String,
}

/// A word of 2 or 3 syllables, picked with a skewed distribution so some are common, most rare.
fn word(rng: &mut fastrand::Rng) -> String {
    let parts = 2 + rng.usize(..2);
    (0..parts).map(|_| SYLLABLES[(rng.f64().powi(2) * SYLLABLES.len() as f64) as usize]).collect()
}

fn person(rng: &mut fastrand::Rng) -> Person {
    let suburb_id = rng.u32(..3000);
    let mut suburb_rng = fastrand::Rng::with_seed(u64::from(suburb_id));
    Person {
        given: word(rng),
        surname: word(rng),
        number: rng.u32(1..300).to_string(),
        street: format!("{} {}", word(rng), STREET_TYPES[rng.usize(..STREET_TYPES.len())]),
        suburb: word(&mut suburb_rng),
        postcode: (2000 + suburb_id * 2).to_string(),
        state: STATES[suburb_id as usize % STATES.len()].to_string(),
        dob: format!("{}{:02}{:02}", rng.u32(1920..2008), rng.u32(1..13), rng.u32(1..29)),
        ssn: rng.u32(1_000_000..10_000_000).to_string(),
    }
}

/// One typo: substitute, insert, delete or transpose a character.
fn typo(rng: &mut fastrand::Rng, value: &str) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    if chars.len() < 2 {
        return value.to_string();
    }
    let i = rng.usize(..chars.len() - 1);
    let letter =
        if chars[i].is_ascii_digit() { char::from(b'0' + rng.u8(..10)) } else { char::from(b'a' + rng.u8(..26)) };
    match rng.u8(..4) {
        0 => chars[i] = letter,
        1 => chars.insert(i, letter),
        2 => {
            chars.remove(i);
        }
        _ => chars.swap(i, i + 1),
    }
    chars.into_iter().collect()
}

fn duplicate(rng: &mut fastrand::Rng, p: &Person) -> Vec<String> {
    let mut fields = vec![
        p.given.clone(),
        p.surname.clone(),
        p.number.clone(),
        p.street.clone(),
        p.suburb.clone(),
        p.postcode.clone(),
        p.state.clone(),
        p.dob.clone(),
        p.ssn.clone(),
    ];
    for _ in 0..1 + rng.usize(..3) {
        let f = rng.usize(..fields.len());
        match rng.u8(..10) {
            0..=5 => fields[f] = typo(rng, &fields[f]),
            6 | 7 => fields[f].clear(),
            8 => fields.swap(0, 1),
            _ => {
                let once = typo(rng, &fields[f]);
                fields[f] = typo(rng, &once);
            }
        }
    }
    fields
}

fn generate(args: &[String]) -> Result<()> {
    let mut records = 1_000_000usize;
    let mut out = PathBuf::from("target/identity-bench");
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--records" => records = it.next().ok_or("--records needs a number")?.parse()?,
            "--out" => out = it.next().ok_or("--out needs a directory")?.into(),
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    std::fs::create_dir_all(&out)?;
    let mut rng = fastrand::Rng::with_seed(7);
    let mut csv = BufWriter::new(File::create(out.join("records.csv"))?);
    let mut truth = BufWriter::new(File::create(out.join("true_links.csv"))?);
    writeln!(csv, "rec_id,given_name,surname,street_number,address_1,suburb,postcode,state,date_of_birth,soc_sec_id")?;
    writeln!(truth, "rec_id_l,rec_id_r")?;
    let (mut written, mut n) = (0, 0);
    while written < records {
        let p = person(&mut rng);
        let org = format!("rec-{n}-org");
        let fields = [&p.given, &p.surname, &p.number, &p.street, &p.suburb, &p.postcode, &p.state, &p.dob, &p.ssn]
            .map(String::as_str);
        writeln!(csv, "{org},{}", fields.join(","))?;
        written += 1;
        let dups = if rng.f64() < 0.3 { 1 + rng.usize(..3) } else { 0 };
        let ids: Vec<String> = (0..dups.min(records - written)).map(|k| format!("rec-{n}-dup-{k}")).collect();
        for id in &ids {
            writeln!(csv, "{id},{}", duplicate(&mut rng, &p).join(","))?;
            written += 1;
        }
        let group: Vec<&String> = std::iter::once(&org).chain(&ids).collect();
        for (i, a) in group.iter().enumerate() {
            for b in &group[i + 1..] {
                writeln!(truth, "{a},{b}")?;
            }
        }
        n += 1;
    }
    csv.flush()?;
    truth.flush()?;
    println!("wrote {written} records ({n} people) to {}", out.display());
    Ok(())
}
