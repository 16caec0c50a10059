//! Files as helpdesks export them, through the CLI on the embedded engine: a CSV source whose
//! quoted transcripts span lines, in windows-1252 with `;` between fields (`meta.csv`), a seed
//! with a byte-order mark and multi-line values, and both files read by path in `convlytics sql`,
//! with JSON lines under `.jsonl`. Every row arrives, none is split or merged.

#[allow(dead_code)] // copy_project: this file writes its project instead of copying a fixture
mod cli;

use std::path::Path;

/// 2,000 tickets, every other one a transcript over three lines with doubled quotes: enough
/// rows that a reader cutting the file by byte ranges would cut inside a value.
fn export() -> Vec<u8> {
    let mut text = String::from("id;channel;payload\n");
    for i in 0..2000 {
        if i % 2 == 1 {
            text.push_str(&format!(
                "{i};chat;\"Customer: my caf\u{e9} order {i}\nAgent: \"\"checking\"\"\nCustomer: thanks\"\n"
            ));
        } else {
            text.push_str(&format!("{i};email;one line {i}\n"));
        }
    }
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!unmappable);
    bytes.into_owned()
}

fn project(dir: &Path) {
    std::fs::create_dir_all(dir.join("models")).unwrap();
    std::fs::create_dir_all(dir.join("seeds")).unwrap();
    std::fs::create_dir_all(dir.join("exports")).unwrap();
    std::fs::write(dir.join("dbt_project.yml"), "name: exports\nversion: '1.0'\nprofile: exports\n").unwrap();
    std::fs::write(dir.join("exports/tickets.csv"), export()).unwrap();
    std::fs::write(
        dir.join("models/sources.yml"),
        "version: 2\nsources:\n  - name: helpdesk\n    meta:\n      external_location: exports/{name}.csv\n      csv: {delimiter: ';', encoding: windows-1252}\n    tables:\n      - name: tickets\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("models/tickets_by_channel.sql"),
        "select channel, count(*) as tickets, sum(case when payload like '%\u{e9}%' then 1 else 0 end) as accented\nfrom {{ source('helpdesk', 'tickets') }}\ngroup by channel\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("seeds/macros_of_agents.csv"),
        "\u{feff}agent,reply\nana,\"Hello!\nHow can I help?\"\nbo,fine\n",
    )
    .unwrap();
}

#[test]
fn helpdesk_exports_read_whole_as_sources_seeds_and_files() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let (ok, out, err) = cli::convlytics(dir.path(), &["build"]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = cli::convlytics(
        dir.path(),
        &[
            "sql",
            "--format",
            "csv",
            "select channel, tickets, accented from analytics.tickets_by_channel order by channel",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(out, "channel,tickets,accented\nchat,1000,1000\nemail,1000,0\n");
    let (ok, out, err) = cli::convlytics(
        dir.path(),
        &["sql", "--format", "csv", "select agent, length(reply) as n from analytics.macros_of_agents order by agent"],
    );
    assert!(ok, "{err}");
    assert_eq!(out, "agent,n\nana,22\nbo,4\n", "the BOM is not part of the header; the reply keeps its newline");

    let utf8 = dir.path().join("export_utf8.csv");
    std::fs::write(&utf8, encoding_rs::WINDOWS_1252.decode(&export()).0.replace(';', ",").as_bytes()).unwrap();
    let by_path = format!("select count(*) as n, count(distinct channel) as c from '{}'", utf8.display());
    let (ok, out, err) = cli::convlytics(dir.path(), &["sql", "--format", "csv", &by_path]);
    assert!(ok, "{err}");
    assert_eq!(out, "n,c\n2000,2\n");
    let lines = dir.path().join("bot.jsonl");
    std::fs::write(&lines, "{\"turn\": 1}\n{\"turn\": 2}\n").unwrap();
    let (ok, out, err) = cli::convlytics(
        dir.path(),
        &["sql", "--format", "csv", &format!("select sum(turn) as s from '{}'", lines.display())],
    );
    assert!(ok, "{err}");
    assert_eq!(out, "s\n3\n");
}

#[test]
fn a_bad_csv_option_names_the_file_source_and_key() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let sources = dir.path().join("models/sources.yml");
    let text = std::fs::read_to_string(&sources).unwrap().replace("delimiter: ';'", "delimiter: ';;'");
    std::fs::write(&sources, text).unwrap();
    let (ok, out, err) = cli::convlytics(dir.path(), &["run"]);
    assert!(!ok, "{out}");
    assert!(
        err.contains(
            "models/sources.yml: source 'helpdesk.tickets': meta.csv.delimiter: ';;' is not one ASCII character"
        ),
        "{err}"
    );
}
