//! A class as a TA hands it in (issue 11, SPEC 5): folders and zips mixed, in any order,
//! with any `--jobs`, sharded or not, each student graded as if alone; `grades.csv` read
//! by the `csv` crate, numeric in every score cell with one `max_score`; a `status` and a
//! `note` for students who could not be graded; resume only while nothing that changes a
//! grade changed; and a progress stream whose reader went away. Cheap checks only
//! (`counter/total`, `tcp-upper/echo` on the good fixtures).

use crate::common::{fixtures, grader, grader_process, seed, text};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// The two cheap checks every class here is graded on.
const CHEAP: [&str; 8] = [
    "--task",
    "tcp-upper",
    "--task",
    "counter",
    "--check",
    "echo",
    "--check",
    "total",
];

/// A submission's files: path inside it, contents.
type Files = Vec<(&'static str, Vec<u8>)>;

fn lecture(file: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("good/lecture").join(file)).unwrap()
}

/// Writes `dir/<name>` (a folder) or `dir/<name>.zip` holding `files`.
fn student(dir: &Path, name: &str, zipped: bool, files: &[(&str, Vec<u8>)]) {
    std::fs::create_dir_all(dir).unwrap();
    if zipped {
        let file = std::fs::File::create(dir.join(format!("{name}.zip"))).unwrap();
        let mut w = zip::ZipWriter::new(file);
        for (path, data) in files {
            w.start_file(*path, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
    } else {
        for (path, data) in files {
            let to = dir.join(name).join(path);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::write(to, data).unwrap();
        }
    }
}

/// `grader batch CLASS --out OUT` with the test seed unless `extra` gives one.
fn batch(class: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    crate::common::batch(class, out, extra)
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap()
}

/// `grades.csv` read by the `csv` crate: student -> column -> cell.
fn grades(out: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(out.join("grades.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let mut rows = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let row: BTreeMap<String, String> = header
            .iter()
            .cloned()
            .zip(rec.iter().map(String::from))
            .collect();
        rows.insert(row["student"].clone(), row);
    }
    rows
}

/// The cells that make a grade (not the note, which may name paths).
fn grade_of(row: &BTreeMap<String, String>) -> Vec<(String, String)> {
    row.iter()
        .filter(|(k, _)| *k != "note" && *k != "student")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn a_student_grades_the_same_whatever_else_is_in_the_class() {
    let work = tempfile::tempdir().unwrap();
    let class = work.path().join("class");
    // Zips and folders interleaved in name order: a zip first, a folder after a zip, a
    // zip after a folder, a folder last.
    let both = || {
        vec![
            ("server1.py", lecture("server1.py")),
            ("counter.py", lecture("counter.py")),
        ]
    };
    let roster: [(&str, bool, Files); 4] = [
        ("a", true, vec![("counter.py", lecture("counter.py"))]),
        ("b", false, both()),
        ("c", true, vec![("c/server1.py", lecture("server1.py"))]),
        ("zz", false, both()),
    ];
    for (name, zipped, files) in &roster {
        student(&class, name, *zipped, files);
    }
    // Each student alone, in classes of one, graded at once.
    let alone: BTreeMap<String, Vec<(String, String)>> = std::thread::scope(|s| {
        let runs: Vec<_> = roster
            .iter()
            .map(|(name, zipped, files)| {
                let dir = work.path().join(format!("alone-{name}"));
                s.spawn(move || {
                    student(&dir.join("class"), name, *zipped, files);
                    let run = batch(&dir.join("class"), &dir.join("out"), &CHEAP);
                    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
                    let row = grades(&dir.join("out")).remove(*name).unwrap();
                    (name.to_string(), grade_of(&row))
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(alone["zz"], alone["b"]);
    let full: Vec<(String, String)> = alone["zz"].clone();
    assert!(
        full.contains(&("score".into(), "2".into())),
        "a correct student scores 2/2 alone: {full:?}"
    );
    for jobs in ["1", "4"] {
        let out = work.path().join(format!("out-jobs-{jobs}"));
        let mut extra = CHEAP.to_vec();
        extra.extend(["--jobs", jobs]);
        let run = batch(&class, &out, &extra);
        assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
        for (name, row) in grades(&out) {
            assert_eq!(grade_of(&row), alone[&name], "{name} with --jobs {jobs}");
        }
    }
    let mut shards = Vec::new();
    for shard in ["1/2", "2/2"] {
        let out = work.path().join(format!("out-shard-{}", &shard[..1]));
        let mut extra = CHEAP.to_vec();
        extra.extend(["--shard", shard, "--jobs", "1"]);
        let run = batch(&class, &out, &extra);
        assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
        shards.push(out);
    }
    let merged = work.path().join("merged");
    grader()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .assert()
        .code(0);
    let rows = grades(&merged);
    assert_eq!(rows.len(), 4);
    for (name, row) in rows {
        assert_eq!(grade_of(&row), alone[&name], "{name} in a shard");
    }
}

#[test]
fn grades_csv_is_numeric_with_one_maximum_and_says_why_a_student_scores_zero() {
    let work = tempfile::tempdir().unwrap();
    let class = work.path().join("class");
    let counter = lecture("counter.py");
    student(&class, "good", false, &[("counter.py", counter.clone())]);
    // Two instances of counter, one of them wrong: the task scores their mean.
    let wrong = b"print('Obtained value: 1')\n".to_vec();
    let twin_toml = "[tasks.counter]\nrun = [\"python3\", \"counter.py\"]\n[tasks.counter2]\nkind = \"counter\"\nrun = [\"python3\", \"wrong.py\"]\n";
    student(
        &class,
        "twin",
        false,
        &[
            ("counter.py", counter.clone()),
            ("wrong.py", wrong),
            ("grader.toml", twin_toml.into()),
        ],
    );
    std::fs::create_dir_all(class.join("empty")).unwrap();
    student(
        &class,
        "readme",
        true,
        &[("README.md", b"see my repo".to_vec())],
    );
    student(
        &class,
        "misnamed",
        false,
        &[("Counter (1).py", counter.clone())],
    );
    student(
        &class,
        "badtoml",
        false,
        &[
            ("counter.py", counter),
            ("grader.toml", b"[tasks.counter\n".to_vec()),
        ],
    );
    std::fs::write(class.join("corrupt.zip"), b"PK\x03\x04 not really").unwrap();
    let out = work.path().join("out");
    let run = batch(&class, &out, &["--task", "counter", "--check", "total"]);
    assert_eq!(
        run.status.code(),
        Some(1),
        "students not graded: exit 1\n{}",
        text(&run.stderr)
    );
    let header = csv::Reader::from_path(out.join("grades.csv"))
        .unwrap()
        .headers()
        .unwrap()
        .clone();
    let header: Vec<&str> = header.iter().collect();
    assert_eq!(header[0], "student");
    assert_eq!(
        header[header.len() - 4..],
        ["score", "max_score", "status", "note"]
    );
    assert_eq!(header.len(), 1 + 10 + 4, "one column per task id");
    let rows = grades(&out);
    assert_eq!(rows.len(), 7);
    for (name, row) in &rows {
        for col in &header[1..header.len() - 2] {
            row[*col]
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("{name}: {col} = {:?} is not a number", row[*col]));
        }
        assert_eq!(row["max_score"], "1", "{name}: one maximum for the class");
    }
    let status = |n: &str| rows[n]["status"].as_str();
    assert_eq!(status("good"), "graded");
    assert_eq!(rows["good"]["score"], "1");
    assert_eq!(status("twin"), "graded");
    assert_eq!(rows["twin"]["counter"], "0.5", "the mean of 1 and 0");
    assert_eq!(rows["twin"]["score"], "0.5");
    for (n, want) in [
        ("empty", "no-program"),
        ("readme", "no-program"),
        ("misnamed", "no-program"),
        ("badtoml", "invalid"),
        ("corrupt", "invalid"),
    ] {
        assert_eq!(status(n), want, "{n}");
        assert_eq!(rows[n]["score"], "0", "{n}");
        assert!(!rows[n]["note"].is_empty(), "{n} says why");
    }
    assert!(
        rows["badtoml"]["note"].contains("grader.toml"),
        "{:?}",
        rows["badtoml"]
    );
    // Every student has a report, platform files included, even one with no program.
    assert!(out.join("empty/report.json").is_file());
}

#[test]
fn a_check_the_grader_could_not_judge_flags_the_student_everywhere() {
    let work = tempfile::tempdir().unwrap();
    let class = work.path().join("class");
    student(
        &class,
        "ann",
        false,
        &[("counter.py", lecture("counter.py"))],
    );
    let out = work.path().join("out");
    let missing = work.path().join("no-such-python");
    let run = batch(
        &class,
        &out,
        &[
            "--task",
            "counter",
            "--check",
            "total",
            "--python",
            missing.to_str().unwrap(),
        ],
    );
    let rows = grades(&out);
    assert_eq!(rows["ann"]["status"], "grader-error", "{:?}", rows["ann"]);
    assert!(
        rows["ann"]["note"].contains("could not judge counter"),
        "{:?}",
        rows["ann"]
    );
    assert_eq!(rows["ann"]["score"], "0");
    let summary = text(&run.stdout);
    assert!(summary.contains("1 grader-error"), "{summary}");
    assert!(summary.contains("ann: grader-error"), "{summary}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("grader-error"), "{html}");
    // Not reused: the next run grades the student again (here, with a real Python).
    let run = batch(&class, &out, &["--task", "counter", "--check", "total"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert_eq!(grades(&out)["ann"]["status"], "graded");
}

#[test]
fn resume_reuses_a_report_only_while_seed_rubric_and_files_are_the_same() {
    let work = tempfile::tempdir().unwrap();
    let class = work.path().join("class");
    student(
        &class,
        "ann",
        false,
        &[("counter.py", lecture("counter.py"))],
    );
    let out = work.path().join("out");
    let rubric = work.path().join("rubric.toml");
    std::fs::write(&rubric, "[tasks.counter.checks]\ntotal = 2\n").unwrap();
    let rubric = rubric.to_str().unwrap().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec!["--task", "counter", "--check", "total"];
        args.extend(extra);
        let r = batch(&class, &out, &args);
        assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
        let said = text(&r.stdout);
        let now = said
            .split("graded now ")
            .nth(1)
            .and_then(|s| s.split(';').next())
            .unwrap_or_else(|| panic!("{said}"))
            .to_string();
        (now, grades(&out)["ann"].clone())
    };
    assert_eq!(run(&[]).0, "1");
    assert_eq!(run(&[]).0, "0", "nothing changed: reused");
    let (now, row) = run(&["--seed", "43"]);
    assert_eq!(now, "1", "another seed");
    assert!(std::fs::read_to_string(out.join("ann/report.json"))
        .unwrap()
        .contains("\"seed\": 43"));
    assert_eq!(row["max_score"], "1");
    let (now, row) = run(&["--seed", "43", "--rubric", &rubric]);
    assert_eq!(now, "1", "another rubric");
    assert_eq!(row["max_score"], "2");
    assert_eq!(run(&["--seed", "43", "--rubric", &rubric]).0, "0");
    std::fs::write(
        class.join("ann/counter.py"),
        b"print('Obtained value: 1')\n",
    )
    .unwrap();
    let (now, row) = run(&["--seed", "43", "--rubric", &rubric]);
    assert_eq!(now, "1", "an edited file");
    assert_eq!(row["score"], "0");
}

#[test]
fn a_batch_whose_progress_reader_went_away_still_grades_and_writes_its_files() {
    let work = tempfile::tempdir().unwrap();
    let class = work.path().join("class");
    for name in ["a", "b", "c"] {
        student(
            &class,
            name,
            false,
            &[("counter.py", lecture("counter.py"))],
        );
    }
    let out = work.path().join("out");
    let mut child = grader_process()
        .arg("batch")
        .arg(&class)
        .arg("--out")
        .arg(&out)
        .args([
            "--seed",
            &seed(),
            "--task",
            "counter",
            "--check",
            "total",
            "--jobs",
            "1",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the batch hangs once its stderr is gone");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let rows = grades(&out);
    assert_eq!(rows.len(), 3);
    assert!(rows.values().all(|r| r["score"] == "1"), "{rows:?}");
}
