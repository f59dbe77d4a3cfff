//! The rubric: how many points each task and check is worth, and which checks are hidden
//! from students (graded, but not named in student-facing formats). Without a rubric every
//! check is worth 1 point. It is applied once, to the [`Report`] a run produced, so every
//! format, the CSV and the class summary show the same scores. The file format is
//! documented in `docs/rubric.md`.

use crate::check::Status;
use crate::report::Report;
use crate::task::Kind;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Points per check and hidden checks, per task kind.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rubric {
    tasks: BTreeMap<Kind, TaskRule>,
}

/// A task's rule, validated: the points of each of its checks, in the SPEC's order.
#[derive(Clone, Debug)]
struct TaskRule {
    points: Vec<(&'static str, f64)>,
    hidden: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRubric {
    #[serde(default)]
    tasks: BTreeMap<String, RawTask>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    points: Option<f64>,
    #[serde(default)]
    checks: BTreeMap<String, f64>,
    #[serde(default)]
    hidden: Vec<String>,
}

/// Why a rubric file is unusable.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RubricError {
    /// The file cannot be read.
    #[error("reading {0}: {1}")]
    Read(String, std::io::Error),
    /// Not valid TOML or unknown keys.
    #[error("{0}: {1}")]
    Parse(String, toml::de::Error),
    /// Valid TOML that does not make sense.
    #[error("{0}: {1}")]
    Invalid(String, String),
}

impl Rubric {
    /// Reads a rubric file.
    pub(crate) fn load(path: &Path) -> Result<Rubric, RubricError> {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| RubricError::Read(shown.clone(), e))?;
        Rubric::parse(&text).map_err(|e| match e {
            RubricError::Parse(_, e) => RubricError::Parse(shown.clone(), e),
            RubricError::Invalid(_, e) => RubricError::Invalid(shown.clone(), e),
            other => other,
        })
    }

    /// Parses and validates a rubric's text.
    pub(crate) fn parse(text: &str) -> Result<Rubric, RubricError> {
        let raw: RawRubric =
            toml::from_str(text).map_err(|e| RubricError::Parse(String::new(), e))?;
        let invalid = |msg: String| RubricError::Invalid(String::new(), msg);
        let mut tasks = BTreeMap::new();
        for (id, raw) in raw.tasks {
            let kind = crate::tasks::by_id(&id).ok_or_else(|| {
                invalid(format!("unknown task {id:?} (task ids: see `grader list`)"))
            })?;
            tasks.insert(
                kind,
                task_rule(kind, raw).map_err(|e| invalid(format!("tasks.{id}: {e}")))?,
            );
        }
        Ok(Rubric { tasks })
    }

    /// The points of each check of `kind`, in the SPEC's order.
    pub(crate) fn points(&self, kind: Kind) -> Vec<(&'static str, f64)> {
        match self.tasks.get(&kind) {
            Some(rule) => rule.points.clone(),
            None => kind.checks.iter().map(|c| (c.id, 1.0)).collect(),
        }
    }

    /// True when students must not see the name of this check.
    pub(crate) fn hidden(&self, kind: Kind, check: &str) -> bool {
        self.tasks
            .get(&kind)
            .is_some_and(|r| r.hidden.iter().any(|h| h == check))
    }

    /// Rescores `report`: each check gets its points when it passed (0 of 0 when skipped),
    /// each task the sum of its checks (a task that is missing or could not run: 0 of all
    /// its checks' points), the report the sum over task kinds, where a kind handed in as
    /// several instances (`multiprint1..3`) counts the mean of its instances, so every
    /// submission has the same maximum.
    pub(crate) fn apply(&self, report: &mut Report) {
        self.apply_selected(report, &[]);
    }

    /// [`Rubric::apply`] for a run limited to the `checks` given (`--check`; empty: all):
    /// a missing task is worth the points of those of its checks only.
    pub(crate) fn apply_selected(&self, report: &mut Report, checks: &[String]) {
        for task in &mut report.tasks {
            let Some(kind) = crate::tasks::by_id(&task.kind) else {
                continue;
            };
            let points = self.points(kind);
            let of = |id: &str| {
                points
                    .iter()
                    .find(|(c, _)| *c == id)
                    .map(|(_, p)| *p)
                    .unwrap_or(1.0)
            };
            for check in &mut task.checks {
                let p = of(&check.id);
                check.max_score = if check.status == Status::Skip { 0.0 } else { p };
                check.score = if check.status == Status::Pass { p } else { 0.0 };
                check.hidden = self.hidden(kind, &check.id);
            }
            if task.checks.is_empty() {
                task.score = 0.0;
                task.max_score = points
                    .iter()
                    .filter(|(c, _)| checks.is_empty() || checks.iter().any(|s| s == c))
                    .fold(0.0, |a, (_, p)| a + p);
            } else {
                task.score = task.checks.iter().fold(0.0, |a, c| a + c.score);
                task.max_score = task.checks.iter().fold(0.0, |a, c| a + c.max_score);
            }
        }
        let (score, max_score) = per_kind(report)
            .iter()
            .fold((0.0, 0.0), |(s, m), k| (s + k.1, m + k.2));
        report.score = score;
        report.max_score = max_score;
    }
}

/// Score and maximum per task kind present in the report, in report order: the mean over
/// the kind's instances.
pub(crate) fn per_kind(report: &Report) -> Vec<(String, f64, f64)> {
    let mut kinds: Vec<(String, f64, f64, usize)> = Vec::new();
    for t in &report.tasks {
        match kinds.iter_mut().find(|k| k.0 == t.kind) {
            Some(k) => {
                k.1 += t.score;
                k.2 += t.max_score;
                k.3 += 1;
            }
            None => kinds.push((t.kind.clone(), t.score, t.max_score, 1)),
        }
    }
    kinds
        .into_iter()
        .map(|(k, s, m, n)| (k, s / n as f64, m / n as f64))
        .collect()
}

fn task_rule(kind: Kind, raw: RawTask) -> Result<TaskRule, String> {
    let ids: Vec<&'static str> = kind.checks.iter().map(|c| c.id).collect();
    let known = |c: &str| {
        if ids.contains(&c) {
            Ok(())
        } else {
            Err(format!(
                "{kind} has no check {c:?} (its checks: {})",
                ids.join(", "),
                kind = kind.id
            ))
        }
    };
    for (c, p) in &raw.checks {
        known(c)?;
        if !p.is_finite() || *p < 0.0 {
            return Err(format!("check {c}: points must be a number >= 0, not {p}"));
        }
    }
    for c in &raw.hidden {
        known(c)?;
    }
    let fixed: f64 = raw.checks.values().sum();
    let open = ids.iter().filter(|c| !raw.checks.contains_key(**c)).count();
    let each = match raw.points {
        None => 1.0,
        Some(total) if !total.is_finite() || total < 0.0 => {
            return Err(format!("points must be a number >= 0, not {total}"))
        }
        Some(total) if fixed > total + 1e-9 => {
            return Err(format!(
                "the checks given add up to {fixed}, more than the task's {total} points"
            ))
        }
        Some(total) if open == 0 && (total - fixed).abs() > 1e-9 => {
            return Err(format!(
                "every check has points, adding up to {fixed}, but the task has {total}"
            ))
        }
        Some(_) if open == 0 => 0.0,
        Some(total) => (total - fixed) / open as f64,
    };
    let points = ids
        .iter()
        .map(|c| (*c, raw.checks.get(*c).copied().unwrap_or(each)))
        .collect();
    Ok(TaskRule {
        points,
        hidden: raw.hidden,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CheckReport, TaskReport, TaskStatus};

    fn check(id: &str, status: Status) -> CheckReport {
        CheckReport {
            id: id.into(),
            status,
            score: 0.0,
            max_score: 1.0,
            message: String::new(),
            counterexample: None,
            seed: 1,
            duration_ms: 1,
            summary: String::new(),
            reproduce: None,
            hidden: false,
        }
    }

    fn report() -> Report {
        let ids = ["echo", "fragmented", "binary", "large", "eof", "reuse-addr"];
        let checks = ids
            .iter()
            .map(|id| {
                let status = match *id {
                    "large" => Status::Fail,
                    "eof" => Status::Skip,
                    _ => Status::Pass,
                };
                check(id, status)
            })
            .collect();
        let tcp = TaskReport {
            id: "tcp-upper".into(),
            kind: "tcp-upper".into(),
            command: vec![],
            status: TaskStatus::Fail,
            score: 0.0,
            max_score: 0.0,
            message: None,
            checks,
        };
        let udp = TaskReport {
            id: "udp-upper".into(),
            kind: "udp-upper".into(),
            command: vec![],
            status: TaskStatus::Missing,
            score: 0.0,
            max_score: 5.0,
            message: Some("missing".into()),
            checks: vec![],
        };
        Report {
            submission: "s".into(),
            run_id: String::new(),
            isolation: vec![],
            interrupted: None,
            problem: None,
            fingerprint: String::new(),
            seed: 1,
            score: 0.0,
            max_score: 0.0,
            tasks: vec![tcp, udp],
        }
    }

    #[test]
    fn default_rubric_gives_one_point_per_check() {
        let mut r = report();
        Rubric::default().apply(&mut r);
        assert_eq!((r.tasks[0].score, r.tasks[0].max_score), (4.0, 5.0));
        assert_eq!((r.tasks[1].score, r.tasks[1].max_score), (0.0, 5.0));
        assert_eq!((r.score, r.max_score), (4.0, 10.0));
    }

    #[test]
    fn task_points_are_split_over_checks_without_their_own() {
        let rubric = Rubric::parse(
            "[tasks.tcp-upper]\npoints = 12\nhidden = [\"reuse-addr\"]\n[tasks.tcp-upper.checks]\nlarge = 2\n[tasks.udp-upper]\npoints = 10\n",
        )
        .unwrap();
        let mut r = report();
        rubric.apply(&mut r);
        let tcp = &r.tasks[0];
        // 10 points over 5 open checks: 2 each; large (failed) 2; eof skipped: 0 of 0.
        assert_eq!((tcp.score, tcp.max_score), (8.0, 10.0));
        assert!(
            tcp.checks
                .iter()
                .find(|c| c.id == "reuse-addr")
                .unwrap()
                .hidden
        );
        assert!(!tcp.checks[0].hidden);
        assert_eq!(r.tasks[1].max_score, 10.0);
        assert_eq!((r.score, r.max_score), (8.0, 20.0));
    }

    #[test]
    fn instances_of_one_task_count_their_mean_so_every_maximum_is_equal() {
        let mut r = report();
        let mut second = r.tasks[0].clone();
        second.id = "tcp-upper2".into();
        for c in &mut second.checks {
            c.status = Status::Pass;
        }
        r.tasks.insert(1, second);
        Rubric::default().apply(&mut r);
        // tcp-upper 4/5 (a skip), tcp-upper2 6/6: mean 5/5.5; udp-upper missing 0/5.
        assert_eq!((r.score, r.max_score), (5.0, 10.5));
        let per = per_kind(&r);
        assert_eq!(per[0], ("tcp-upper".to_string(), 5.0, 5.5));
    }

    #[test]
    fn a_run_of_some_checks_counts_only_those_for_a_missing_task() {
        let mut r = report();
        let checks = vec!["echo".to_string(), "binary".to_string()];
        Rubric::default().apply_selected(&mut r, &checks);
        assert_eq!(r.tasks[1].max_score, 2.0, "udp-upper has echo and binary");
    }

    #[test]
    fn nonsense_is_refused_with_a_reason() {
        for (text, says) in [
            ("[tasks.tcp-uper]\npoints = 1\n", "unknown task"),
            ("[tasks.tcp-upper.checks]\nehco = 1\n", "no check \"ehco\""),
            ("[tasks.tcp-upper]\nhidden = [\"x\"]\n", "no check \"x\""),
            ("[tasks.tcp-upper.checks]\necho = -1\n", ">= 0"),
            (
                "[tasks.tcp-upper]\npoints = 1\n[tasks.tcp-upper.checks]\necho = 2\n",
                "more than",
            ),
            ("[tasks.tcp-upper]\npont = 1\n", "unknown field"),
        ] {
            let e = Rubric::parse(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}
