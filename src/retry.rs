//! `droplake retry`: jobs made pending again, and how a running daemon
//! learns of them.
//!
//! A dead job (or, for one object, a job waiting for its next attempt)
//! goes back to `pending` with a fresh budget of retries: its attempts keep
//! their numbers, and `retry_base` says where the new budget starts. The
//! jobs that died only because a job they run `after` died come back with
//! it, or the object could never finish. The object is active again, so it
//! finishes anew (a new `object.finished` event, a new receipt). All of it
//! commits in one transaction, with a `job.retried` event per job.
//!
//! The daemon keeps its queue in memory, so it reads the `job.retried`
//! events appended since it last looked (about once a second: a range read
//! of the event log's key) and queues those jobs; a daemon that starts
//! later finds them pending in the ledger.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;
use serde_json::json;

use crate::config::{HandlerSettings, Readiness, Settings};
use crate::daemon::{check_marker, info_of, object_json};
use crate::events::{self, Kind};
use crate::lake::DatasetName;
use crate::warehouse::ledger::{self, JobRow, JobState, ObjectRow};
use crate::warehouse::{Warehouse, WarehouseError};

/// Which jobs to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The dead jobs of this object, and those waiting for a retry.
    Object(i64),
    /// Every dead job.
    Dead,
}

/// A job made pending again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reset {
    pub object: i64,
    /// The object's lake-relative path, for people.
    pub path: String,
    pub handler: String,
    /// `dead` or `retry`.
    pub previous_state: JobState,
    /// Attempts made so far (the next one takes the number after).
    pub attempts: u32,
    pub previous_error: Option<String>,
    /// For a job reset because it runs after a retried one: that handler.
    pub after: Option<String>,
}

/// A job that was asked for and not reset, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub object: i64,
    pub path: String,
    pub handler: String,
    pub reason: String,
}

/// What a retry did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retried {
    pub reset: Vec<Reset>,
    pub skipped: Vec<Skipped>,
}

/// Resets the jobs `target` names (of `handler` only, if given) and their
/// dependents, in one transaction; see the module docs.
pub fn retry(
    settings: &Settings,
    warehouse: &mut Warehouse,
    target: &Target,
    handler: Option<&str>,
) -> Result<Retried, WarehouseError> {
    let path = warehouse.path().to_path_buf();
    let sql = |error| WarehouseError::from_sqlite(&path, error);
    let transaction = warehouse
        .connection()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sql)?;
    let retried = retry_in(settings, &transaction, target, handler).map_err(sql)?;
    transaction.commit().map_err(sql)?;
    Ok(retried)
}

fn retry_in(
    settings: &Settings,
    connection: &Connection,
    target: &Target,
    handler: Option<&str>,
) -> rusqlite::Result<Retried> {
    let (states, object): (&[JobState], Option<i64>) = match target {
        Target::Object(id) => (&[JobState::Dead, JobState::Retry], Some(*id)),
        Target::Dead => (&[JobState::Dead], None),
    };
    let mut asked: BTreeMap<i64, (ObjectRow, BTreeSet<String>)> = BTreeMap::new();
    for (object, job) in ledger::jobs_in(connection, states, object, handler)? {
        asked
            .entry(object.id)
            .or_insert_with(|| (object, BTreeSet::new()))
            .1
            .insert(job.handler);
    }
    let handlers: BTreeMap<&str, &HandlerSettings> = settings
        .handlers
        .iter()
        .map(|handler| (handler.name.as_str(), handler))
        .collect();
    let after = |name: &str| -> Vec<String> {
        handlers
            .get(name)
            .map(|handler| handler.after.clone())
            .unwrap_or_default()
    };
    let mut retried = Retried::default();
    for (object, mut chosen) in asked.into_values() {
        let jobs: BTreeMap<String, JobRow> = ledger::jobs(connection, object.id)?
            .into_iter()
            .map(|job| (job.handler.clone(), job))
            .collect();
        let skip = |retried: &mut Retried, handler: &str, reason: String| {
            retried.skipped.push(Skipped {
                object: object.id,
                path: object.name.clone(),
                handler: handler.to_owned(),
                reason,
            });
        };
        // A handler no longer configured would only die again.
        chosen.retain(|handler| {
            let known = is_configured(settings, handler);
            if !known {
                skip(
                    &mut retried,
                    handler,
                    format!(
                        "handler {handler} is no longer configured, so its job would only die again; configure it again to retry it"
                    ),
                );
            }
            known
        });
        let plan = plan(&jobs, chosen, &after);
        // Only jobs the marker refused wait for it to match; a job that
        // ran and died is retried whatever became of the marker since.
        let to_reset = plan
            .reset
            .iter()
            .filter_map(|(handler, _)| jobs.get(handler));
        if events::refused_by_marker(connection, object.id, to_reset)?
            && let Some(refusal) = marker_refusal(settings, &object)
        {
            for (handler, _) in &plan.reset {
                skip(&mut retried, handler, refusal.clone());
            }
            continue;
        }
        for (handler, reason) in plan.skipped {
            skip(&mut retried, &handler, reason);
        }
        let info = info_of(&settings.lake, &object);
        let mut any = false;
        for (handler, because) in plan.reset {
            let Some(job) = jobs.get(&handler) else {
                continue;
            };
            if !ledger::reset_job(connection, object.id, &handler)? {
                continue;
            }
            any = true;
            let body = json!({
                "object": object_json(&info),
                "state": "pending",
                "previous_state": job.state.name(),
                "attempts": job.attempts,
                "previous_error": job.last_error,
                "after": because,
            });
            events::append(
                connection,
                Kind::JobRetried,
                Some(object.id),
                Some(&handler),
                &body,
            )?;
            retried.reset.push(Reset {
                object: object.id,
                path: object.name.clone(),
                handler,
                previous_state: job.state,
                attempts: job.attempts,
                previous_error: job.last_error.clone(),
                after: because,
            });
        }
        if any {
            ledger::reopen(connection, object.id)?;
        }
    }
    Ok(retried)
}

/// Whether `handler` runs under `settings`: the loader, or a `[[handlers]]`
/// entry with a command. (A Rust handler is known only to the program
/// that embeds droplake; that program retries its jobs with [`retry`]
/// after registering it in its settings.)
pub fn is_configured(settings: &Settings, handler: &str) -> bool {
    handler == crate::daemon::LOADER
        || settings
            .handlers
            .iter()
            .any(|configured| configured.name == handler)
}

/// The handlers `droplake retry --handler` may name: the loader and every
/// `[[handlers]]` entry, in that order.
pub fn configured(settings: &Settings) -> Vec<&str> {
    let mut names = vec![crate::daemon::LOADER];
    names.extend(
        settings
            .handlers
            .iter()
            .map(|handler| handler.name.as_str())
            .filter(|name| *name != crate::daemon::LOADER),
    );
    names
}

/// Which of an object's jobs to reset, and which asked for cannot be.
#[derive(Debug, Default, PartialEq, Eq)]
struct Plan {
    /// In order, the jobs whose handlers run after none of the others
    /// first: each with the reset handler it runs after, if any (it died
    /// because that one did).
    reset: Vec<(String, Option<String>)>,
    skipped: Vec<(String, String)>,
}

/// Adds to `chosen` the dead jobs that run after a chosen one (they died
/// because it did), then drops every job that would wait for a handler
/// still dead on the object: it would only die again.
fn plan(
    jobs: &BTreeMap<String, JobRow>,
    chosen: BTreeSet<String>,
    after: &dyn Fn(&str) -> Vec<String>,
) -> Plan {
    let mut reset = chosen;
    loop {
        let more: Vec<String> = jobs
            .values()
            .filter(|job| job.state == JobState::Dead && !reset.contains(&job.handler))
            .filter(|job| {
                after(&job.handler)
                    .iter()
                    .any(|before| reset.contains(before))
            })
            .map(|job| job.handler.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        reset.extend(more);
    }
    let mut skipped = Vec::new();
    loop {
        let blocked: Vec<(String, String)> = reset
            .iter()
            .filter_map(|handler| {
                let dead = after(handler).into_iter().find(|before| {
                    !reset.contains(before)
                        && jobs
                            .get(before)
                            .is_some_and(|job| job.state == JobState::Dead)
                })?;
                Some((handler.clone(), dead))
            })
            .collect();
        if blocked.is_empty() {
            break;
        }
        for (handler, dead) in blocked {
            reset.remove(&handler);
            skipped.push((
                handler,
                format!(
                    "it runs after handler {dead}, which is dead on this object; retry {dead} and it comes back too"
                ),
            ));
        }
    }
    let mut ordered: Vec<(String, Option<String>)> = Vec::new();
    while ordered.len() < reset.len() {
        let before = ordered.len();
        for handler in &reset {
            if ordered.iter().any(|(done, _)| done == handler) {
                continue;
            }
            let prerequisites: Vec<String> = after(handler)
                .into_iter()
                .filter(|before| reset.contains(before))
                .collect();
            if prerequisites
                .iter()
                .all(|before| ordered.iter().any(|(done, _)| done == before))
            {
                ordered.push((handler.clone(), prerequisites.into_iter().next()));
            }
        }
        if ordered.len() == before {
            // `after` has no cycles (the configuration checks), but a
            // changed configuration must not hang a retry.
            for handler in &reset {
                if !ordered.iter().any(|(done, _)| done == handler) {
                    ordered.push((handler.clone(), None));
                }
            }
        }
    }
    Plan {
        reset: ordered,
        skipped,
    }
}

/// Under `ready = "marker"`, why the object's marker still refuses it: the
/// same check registration made.
fn marker_refusal(settings: &Settings, object: &ObjectRow) -> Option<String> {
    let dataset = DatasetName::new(&object.dataset).ok()?;
    let Readiness::Marker(pattern) = settings.readiness(&dataset) else {
        return None;
    };
    let info = info_of(&settings.lake, object);
    check_marker(&info.path, &pattern, object.size, &object.sha256)
        .map(|refusal| format!("{refusal}; fix the marker (or the file) first"))
}

/// The jobs retried since event `after`, as (object, handler), and the
/// sequence number to look after next time.
pub(crate) fn retried_since(
    connection: &Connection,
    after: i64,
) -> rusqlite::Result<(Vec<(i64, String)>, i64)> {
    let until = events::last_seq(connection)?;
    if until <= after {
        return Ok((Vec::new(), after));
    }
    let jobs = events::of_kind_between(connection, Kind::JobRetried, after, until)?
        .into_iter()
        .filter_map(|event| Some((event.object_id?, event.handler?)))
        .collect();
    Ok((jobs, until))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(handler: &str, state: JobState) -> (String, JobRow) {
        (
            handler.to_owned(),
            JobRow {
                object_id: 1,
                handler: handler.to_owned(),
                state,
                attempts: 1,
                retry_base: 0,
                next_at_ms: 0,
                last_error: None,
            },
        )
    }

    fn chosen(handlers: &[&str]) -> BTreeSet<String> {
        handlers.iter().map(|handler| handler.to_string()).collect()
    }

    /// loader <- probe <- notify; audit runs after nothing.
    fn after(handler: &str) -> Vec<String> {
        match handler {
            "probe" => vec!["loader".into()],
            "notify" => vec!["probe".into()],
            _ => Vec::new(),
        }
    }

    #[test]
    fn the_jobs_that_died_with_a_retried_one_come_back_with_it() {
        let jobs = BTreeMap::from([
            job("loader", JobState::Dead),
            job("probe", JobState::Dead),
            job("notify", JobState::Dead),
            job("audit", JobState::Dead),
        ]);
        let plan = plan(&jobs, chosen(&["loader"]), &after);
        assert_eq!(
            plan.reset,
            [
                ("loader".to_string(), None),
                ("probe".to_string(), Some("loader".to_string())),
                ("notify".to_string(), Some("probe".to_string())),
            ]
        );
        assert!(plan.skipped.is_empty());
        let all = super::plan(&jobs, chosen(&["notify", "probe", "loader"]), &after);
        assert_eq!(
            all.reset[2],
            ("notify".to_string(), Some("probe".to_string()))
        );
    }

    #[test]
    fn a_job_behind_a_handler_still_dead_is_not_reset() {
        let jobs = BTreeMap::from([
            job("loader", JobState::Dead),
            job("probe", JobState::Dead),
            job("notify", JobState::Dead),
        ]);
        let plan = plan(&jobs, chosen(&["notify"]), &after);
        assert!(plan.reset.is_empty(), "{plan:?}");
        assert_eq!(plan.skipped.len(), 1);
        assert!(plan.skipped[0].1.contains("handler probe"), "{plan:?}");
    }

    #[test]
    fn a_done_prerequisite_does_not_hold_a_retried_job() {
        let jobs = BTreeMap::from([job("loader", JobState::Done), job("probe", JobState::Dead)]);
        let plan = plan(&jobs, chosen(&["probe"]), &after);
        assert_eq!(plan.reset, [("probe".to_string(), None)]);
    }
}
