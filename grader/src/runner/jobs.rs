//! How a run's checks become the pool's jobs, and how a task's shared group runs: one
//! job per check, except the checks that share one server process
//! ([`crate::task::TaskDef::shares_server`]), which run one after another on it, keeping
//! only their passes; the longest jobs first.

use super::{run_check, Prepared};
use crate::check::{CheckCtx, CheckDef, RunSettings, Status, Target};
use crate::contain::{self, netns, signals};
use crate::report::CheckReport;
use crate::shared::SharedServer;
use std::time::Instant;

/// The jobs of the pool, as indices into `slots` (task, check): one per check, except
/// that the selected checks of a task's shared group ([`crate::task::TaskDef::shares_server`]),
/// when there are two or more, are one job that runs them in order on one server. The
/// longest jobs come first ([`crate::task::TaskDef::check_ms`] per check; a tie keeps the
/// report's order), so that the run does not end on a long job with a core idle.
pub(super) fn jobs(prepared: &[Prepared], slots: &[(usize, &'static CheckDef)]) -> Vec<Job> {
    let shares = |(task, def): &(usize, &CheckDef)| {
        prepared[*task].entry.kind.shares_server.contains(&def.id)
    };
    let mut jobs: Vec<Vec<usize>> = Vec::new();
    for (n, slot) in slots.iter().enumerate() {
        let group =
            shares(slot) && slots.iter().filter(|s| s.0 == slot.0 && shares(s)).count() >= 2;
        let joined = group
            && jobs
                .iter_mut()
                .find(|job| slots[job[0]].0 == slot.0 && shares(&slots[job[0]]))
                .map(|job| job.push(n))
                .is_some();
        if !joined {
            jobs.push(vec![n]);
        }
    }
    let estimate = |job: &Vec<usize>| -> u64 {
        job.iter()
            .map(|&n| u64::from(prepared[slots[n].0].entry.kind.check_ms))
            .sum()
    };
    jobs.sort_by_key(|job| std::cmp::Reverse(estimate(job)));
    jobs.into_iter()
        .map(|slots| Job { slots, spent: 0 })
        .collect()
}

/// A job of the pool: one check, or a task's shared group (indices into the slots).
pub(super) struct Job {
    /// Its checks, as indices into the run's slots.
    pub(super) slots: Vec<usize>,
    /// Milliseconds a check already spent on the shared server, part of its duration.
    pub(super) spent: u64,
}

/// Runs the checks of a task's shared group one after another on one server process,
/// started once, keeping each pass (and handing it to `done`) while the server is sound
/// and quiet between checks. Returns how many checks were kept and the time spent on the
/// next one, which did not pass here: its outcome is thrown away, and from it on each
/// check is judged alone, on a server of its own, and that verdict is the check's. So a
/// check's verdict never depends on another.
pub(super) fn on_shared_server(
    target: &Target,
    group: &[(usize, &CheckDef)],
    settings: &RunSettings,
    submission: &str,
    done: &dyn Fn(usize, CheckReport),
) -> (usize, u64) {
    let start = Instant::now();
    if signals::interrupted().is_some() {
        return (0, 0);
    }
    let _scope = if contain::layers().namespaces() {
        match netns::Scope::enter() {
            Ok(scope) => Some(scope),
            Err(_) => return (0, 0),
        }
    } else {
        None
    };
    let first = CheckCtx {
        target,
        check: group[0].1.id,
        run: settings,
        shared: None,
    };
    let Some(server) = SharedServer::start(&first, first.task_launch()) else {
        return (0, start.elapsed().as_millis() as u64);
    };
    // The server's start is the first check's cost, as it is when that check runs alone.
    let mut started = start.elapsed().as_millis() as u64;
    for (k, (slot, def)) in group.iter().enumerate() {
        if signals::interrupted().is_some() || (k > 0 && !server.quiet()) {
            return (k, 0);
        }
        let mut report = run_check(target, def, settings, submission, Some(&server));
        report.duration_ms += std::mem::take(&mut started);
        if report.status != Status::Pass || !server.sound() {
            return (k, report.duration_ms);
        }
        done(*slot, report);
    }
    (group.len(), 0)
}
