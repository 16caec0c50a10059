//! Compiler fixtures: each `inputs/<project>/` is compiled for the embedded target; the result
//! (models in build order with their config and SQL, or the error) is an insta snapshot.

use std::fmt::Write;

use convlytics::compile::{compile, CompileOptions};
use convlytics::project::profiles::Target;
use convlytics::project::Project;

fn target() -> Target {
    Target::embedded("dev", "analytics")
}

/// Options that compile the same SQL every time: a fixed run id, and retention aging rows
/// against a fixed instant.
fn options() -> CompileOptions {
    CompileOptions {
        invocation_id: "00000000-0000-4000-8000-000000000000".into(),
        now: chrono::DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").expect("instant").into(),
        ..CompileOptions::default()
    }
}

fn describe(dir: &std::path::Path) -> String {
    let compiled = Project::load(dir).and_then(|p| compile(&p, &target(), &options()));
    let root = dir.to_string_lossy().into_owned() + "/";
    match compiled {
        Err(e) => e.report().replace(&root, ""),
        Ok(c) => {
            let mut out = String::new();
            for w in c.warnings.lines() {
                let _ = writeln!(out, "-- warning: {w}");
            }
            for s in &c.seeds {
                let _ = writeln!(out, "-- seed {} ({}, column_types {:?})", s.name, s.path.display(), s.column_types);
            }
            for m in &c.models {
                let _ = write!(
                    out,
                    "-- {} ({}, {}, tags {:?}, refs {:?})\n{}",
                    m.relation,
                    m.path.display(),
                    m.config.materialized.as_str(),
                    m.config.tags,
                    m.refs,
                    m.sql
                );
                let lineage: Vec<String> = m
                    .columns
                    .iter()
                    .map(|col| {
                        let from: Vec<String> = col.from.iter().map(|o| format!("{}.{}", o.node, o.column)).collect();
                        format!("{} <- [{}]", col.name, from.join(", "))
                    })
                    .collect();
                let classes: Vec<String> = m
                    .columns
                    .iter()
                    .map(|c| {
                        let class = c.data_class.map_or("unclassified", |d| d.as_str());
                        format!("{} {class} ({})", c.name, c.why.join(" -> "))
                    })
                    .collect();
                let _ = writeln!(out, "-- lineage: {}\n-- classes: {}\n", lineage.join("; "), classes.join("; "));
            }
            for t in &c.tests {
                let _ = writeln!(out, "-- test {} ({}, {:?})\n{}", t.name, t.declared_in.display(), t.severity, t.sql);
            }
            out
        }
    }
}

#[test]
fn fixtures() {
    insta::glob!("inputs/*/dbt_project.yml", |path| {
        insta::assert_snapshot!(describe(path.parent().expect("project dir")));
    });
}

#[test]
fn default_project() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("default_project_compiled_sql", describe(&root)));
}

#[test]
fn the_dbt_macros_of_the_default_project_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let written = std::fs::read_to_string(root.join("macros/convlytics_dbt.sql")).expect("macros/convlytics_dbt.sql");
    let project = Project::load(&root).expect("load");
    assert!(
        written == convlytics::dbt::macros(&project),
        "macros/convlytics_dbt.sql is stale: run `convlytics dbt macros --out macros/convlytics_dbt.sql`"
    );
}

/// An element of a page's skeleton: tag, id and classes, and its children.
#[derive(Debug, Clone, PartialEq, Default)]
struct Element {
    line: String,
    children: Vec<Element>,
}

/// The element skeleton of an HTML page: one line per element (tag, id, classes), indented by
/// depth, text left out, runs of alike sibling subtrees counted, and each SVG drawing summed up.
fn skeleton(html: &str) -> String {
    const VOID: [&str; 6] = ["meta", "link", "input", "br", "img", "hr"];
    let tag = regex::Regex::new(r#"<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*?)(/?)>"#).expect("regex");
    let attr = |attrs: &str, name: &str| {
        regex::Regex::new(&format!(r#"\b{name}="([^"]*)""#)).expect("regex").captures(attrs).map(|c| c[1].to_owned())
    };
    let mut stack = vec![Element::default()];
    let mut svg: Option<(usize, usize, usize)> = None;
    for m in tag.captures_iter(html) {
        let (closing, name, attrs, self_closing) = (&m[1] == "/", m[2].to_lowercase(), &m[3], &m[4] == "/");
        if let Some((nodes, edges, marks)) = svg.as_mut() {
            match (closing, name.as_str()) {
                (true, "svg") => {
                    let line = format!("svg ({nodes} nodes, {edges} edges, {marks} marks)");
                    stack.last_mut().expect("open element").children.push(Element { line, children: Vec::new() });
                    svg = None;
                }
                (false, "g") if attrs.contains("class=\"node") => *nodes += 1,
                (false, "path") if attrs.contains("class=\"edge") => *edges += 1,
                (false, _) if attrs.contains("data-row=") => *marks += 1,
                _ => {}
            }
            continue;
        }
        if name == "svg" && !closing {
            svg = Some((0, 0, 0));
            continue;
        }
        if closing {
            if stack.len() > 1 {
                let done = stack.pop().expect("open element");
                stack.last_mut().expect("parent").children.push(done);
            }
            continue;
        }
        let mut line = name.clone();
        if let Some(id) = attr(attrs, "id") {
            line = format!("{line}#{id}");
        }
        for class in
            attr(attrs, "class").iter().flat_map(|c| c.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        {
            line = format!("{line}.{class}");
        }
        let element = Element { line, children: Vec::new() };
        if self_closing || VOID.contains(&name.as_str()) {
            stack.last_mut().expect("parent").children.push(element);
        } else {
            stack.push(element);
        }
    }
    while stack.len() > 1 {
        let done = stack.pop().expect("open element");
        stack.last_mut().expect("parent").children.push(done);
    }
    fn print(out: &mut String, elements: &[Element], depth: usize) {
        let mut i = 0;
        while i < elements.len() {
            let run = elements[i..].iter().take_while(|e| **e == elements[i]).count();
            let times = if run > 1 { format!(" ×{run}") } else { String::new() };
            let _ = writeln!(out, "{}{}{times}", "  ".repeat(depth), elements[i].line);
            print(out, &elements[i].children, depth + 1);
            i += run;
        }
    }
    let mut out = String::new();
    print(&mut out, &stack[0].children, 0);
    out
}

/// The docs site of the default project before a build: the skeleton of each kind of page.
#[test]
fn docs_site_skeleton() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let project = Project::load(&root).expect("load");
    let compiled = compile(&project, &target(), &options()).expect("compile");
    let inputs = convlytics::docs::Inputs {
        manifest: convlytics::manifest::build(&project, &target(), &compiled),
        taxonomies: project.taxonomies.values().map(|(file, t)| (file.clone(), t.clone())).collect(),
        ..Default::default()
    };
    let files = convlytics::docs::render(&inputs).expect("render");
    let mut out = String::new();
    for (name, _) in &files {
        let _ = writeln!(out, "file {name}");
    }
    let pages = [
        "index.html",
        "model.mart_sentiment_trajectory.html",
        "source.raw.raw_interactions.html",
        "seed.agents.html",
        "taxonomy.support.html",
        "charts.html",
        "quality.html",
    ];
    for page in pages {
        let (_, html) = files.iter().find(|(n, _)| n == page).unwrap_or_else(|| panic!("{page} is not in the site"));
        let _ = write!(out, "\n== {page}\n{}", skeleton(html));
    }
    insta::assert_snapshot!(out);
}
