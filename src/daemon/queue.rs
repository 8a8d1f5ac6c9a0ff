//! The scheduler's memory: which job may run next.
//!
//! The ledger in the warehouse is the truth; this is its working copy for
//! the objects that still have unfinished jobs, built at startup from the
//! ledger and kept in step by the daemon. Per handler, runnable jobs wait
//! in one ordered set per dataset (by rank, then path), and datasets take
//! turns so a busy dataset cannot starve a quiet one. A job whose `after`
//! handlers are not done yet is not runnable; it becomes runnable when they
//! finish, and dead when one of them dies. A job waiting to be retried sits
//! in a timer heap until its time.
//!
//! An `ordered` handler runs a dataset's objects one at a time in order: a
//! job may start only when it is the first unfinished one of its dataset,
//! so a failing object holds the later ones back until it is done. An
//! object whose generation waits for a missing one (`gap_check`, see
//! `generations`) is not runnable for any handler until it is released.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::HandlerSettings;
use crate::lake::DatasetName;
use crate::warehouse::ledger::JobState;

/// An object the daemon works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub id: i64,
    pub dataset: DatasetName,
    /// Its path relative to the lake.
    pub relative: PathBuf,
    /// Its full path.
    pub path: PathBuf,
    /// Its path for people.
    pub name: String,
    pub sha256: String,
    pub size: u64,
    pub mtime_ns: i64,
    pub inode: u64,
    pub rank: i64,
}

/// A job's place in its dataset's order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Key {
    rank: i64,
    path: Vec<u8>,
    object: i64,
}

impl Key {
    fn of(info: &ObjectInfo) -> Key {
        Key {
            rank: info.rank,
            path: info.relative.as_os_str().as_encoded_bytes().to_vec(),
            object: info.id,
        }
    }
}

/// An object's jobs: handler, job, and the time of its next attempt (ms).
pub type Jobs = Vec<(String, Job, i64)>;

/// A job as the scheduler sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    pub state: JobState,
    pub attempts: u32,
}

#[derive(Debug)]
struct Active {
    info: Arc<ObjectInfo>,
    jobs: BTreeMap<String, Job>,
}

/// The scheduler's state.
#[derive(Debug, Default)]
pub struct Queue {
    /// Handler settings by name (after, ordered, concurrency).
    handlers: BTreeMap<String, HandlerSettings>,
    active: HashMap<i64, Active>,
    runnable: HashMap<String, BTreeMap<DatasetName, BTreeSet<Key>>>,
    /// Ordered handlers: every unfinished (or dead) job per dataset.
    unfinished: HashMap<(String, DatasetName), BTreeSet<Key>>,
    timers: BinaryHeap<Reverse<(i64, i64, String)>>,
    /// When each waiting job's retry is due: a timer for another time is
    /// stale (the job was retried by hand and failed again since).
    due: HashMap<(i64, String), i64>,
    running: HashMap<String, usize>,
    /// Per handler, the dataset served last (for taking turns).
    last_served: HashMap<String, DatasetName>,
    /// Ordered heads already reported as holding their dataset back.
    reported: BTreeSet<(String, i64)>,
    /// Per handler, jobs it may hold beyond its concurrency, queued.
    prefetch: HashMap<String, usize>,
    /// Ordered handlers: the dead objects that hold their datasets back.
    dead: HashMap<(String, i64), Arc<ObjectInfo>>,
    /// Objects waiting for a missing generation: none of their jobs is
    /// runnable until they are released.
    gap_held: HashSet<i64>,
}

/// A job the scheduler handed out.
#[derive(Debug, Clone)]
pub struct Next {
    pub info: Arc<ObjectInfo>,
    pub handler: String,
    /// The attempt about to start (1 for the first).
    pub attempt: u32,
}

/// A job that cannot run because a handler it waits for died.
#[derive(Debug, Clone)]
pub struct Orphan {
    pub info: Arc<ObjectInfo>,
    pub handler: String,
    pub attempts: u32,
    pub because: String,
}

impl Queue {
    pub fn new(handlers: &[HandlerSettings]) -> Queue {
        let mut queue = Queue::default();
        queue.set_handlers(handlers);
        queue
    }

    /// Replaces the handler settings (after a reload), and rebuilds what
    /// ordered handlers wait behind, since `ordered` may have changed.
    pub fn set_handlers(&mut self, handlers: &[HandlerSettings]) {
        self.handlers = handlers
            .iter()
            .map(|handler| (handler.name.clone(), handler.clone()))
            .collect();
        let mut unfinished: HashMap<(String, DatasetName), BTreeSet<Key>> = HashMap::new();
        for active in self.active.values() {
            for (handler, job) in &active.jobs {
                if self.ordered(handler)
                    && !matches!(job.state, JobState::Done | JobState::Duplicate)
                {
                    unfinished
                        .entry((handler.clone(), active.info.dataset.clone()))
                        .or_default()
                        .insert(Key::of(&active.info));
                }
            }
        }
        for ((handler, _), info) in &self.dead {
            if self.ordered(handler) {
                unfinished
                    .entry((handler.clone(), info.dataset.clone()))
                    .or_default()
                    .insert(Key::of(info));
            }
        }
        self.unfinished = unfinished;
    }

    /// Lets `handler` hold `extra` jobs queued beyond its concurrency, so
    /// it never waits for the daemon between jobs (not for ordered ones).
    pub fn set_prefetch(&mut self, handler: &str, extra: usize) {
        self.prefetch.insert(handler.to_owned(), extra);
    }

    /// Whether any object still has unfinished jobs.
    pub fn is_idle(&self) -> bool {
        self.active.is_empty()
    }

    /// Objects with unfinished jobs.
    pub fn unfinished(&self) -> usize {
        self.active.len()
    }

    /// Jobs running now.
    #[cfg(test)]
    fn running(&self) -> usize {
        self.running.values().sum()
    }

    fn ordered(&self, handler: &str) -> bool {
        self.handlers
            .get(handler)
            .is_some_and(|settings| settings.ordered)
    }

    /// Adds an object with its jobs (from registration or from the ledger at
    /// startup). `next_at_ms` gives retry times by handler. A `running` job
    /// is treated as pending: its lease died with its owner. Returns the
    /// pending jobs that wait for a handler already dead on the object (a
    /// crash came between the two records): the caller records them dead.
    pub fn add(&mut self, info: Arc<ObjectInfo>, jobs: &[(String, Job, i64)]) -> Vec<Orphan> {
        let key = Key::of(&info);
        let mut active = Active {
            info: Arc::clone(&info),
            jobs: BTreeMap::new(),
        };
        for (handler, job, next_at_ms) in jobs {
            let mut job = *job;
            if job.state == JobState::Running {
                job.state = JobState::Pending;
            }
            if self.ordered(handler) && !matches!(job.state, JobState::Done | JobState::Duplicate) {
                self.unfinished
                    .entry((handler.clone(), info.dataset.clone()))
                    .or_default()
                    .insert(key.clone());
            }
            if job.state == JobState::Retry {
                self.set_timer(*next_at_ms, info.id, handler);
            }
            active.jobs.insert(handler.clone(), job);
        }
        let mut orphans = Vec::new();
        if active.jobs.values().any(|job| !job.state.is_final()) {
            for (handler, job) in &active.jobs {
                if job.state != JobState::Pending {
                    continue;
                }
                let dead = self.handlers.get(handler).and_then(|settings| {
                    settings.after.iter().find(|before| {
                        active
                            .jobs
                            .get(*before)
                            .is_some_and(|job| job.state == JobState::Dead)
                    })
                });
                if let Some(dead) = dead {
                    orphans.push(Orphan {
                        info: Arc::clone(&info),
                        handler: handler.clone(),
                        attempts: job.attempts,
                        because: format!("not run: handler {dead} died on this object"),
                    });
                }
            }
            self.active.insert(info.id, active);
            for (handler, job, _) in jobs {
                if matches!(job.state, JobState::Pending | JobState::Running) {
                    self.make_runnable_if_ready(info.id, handler);
                }
            }
        }
        orphans
    }

    /// Takes in jobs `droplake retry` returned to pending (`jobs`: every
    /// job of the object, as the ledger has them now). A job already
    /// pending or running here is left as it is, so nothing is queued
    /// twice; an object not in hand is added as at startup. Returns the
    /// jobs that can never run, as [`Queue::add`] does.
    pub fn revive(&mut self, info: Arc<ObjectInfo>, jobs: &[(String, Job, i64)]) -> Vec<Orphan> {
        for (handler, job, _) in jobs {
            if job.state != JobState::Dead {
                self.dead.remove(&(handler.clone(), info.id));
            }
        }
        if !self.active.contains_key(&info.id) {
            return self.add(info, jobs);
        }
        let key = Key::of(&info);
        let mut revived = Vec::new();
        if let Some(active) = self.active.get_mut(&info.id) {
            for (handler, job, _) in jobs {
                if job.state != JobState::Pending {
                    continue;
                }
                let queued = active.jobs.get(handler).is_some_and(|here| {
                    matches!(here.state, JobState::Pending | JobState::Running)
                });
                if !queued {
                    active.jobs.insert(handler.clone(), *job);
                    revived.push(handler.clone());
                }
            }
        }
        for handler in revived {
            self.due.remove(&(info.id, handler.clone()));
            if self.ordered(&handler) {
                self.unfinished
                    .entry((handler.clone(), info.dataset.clone()))
                    .or_default()
                    .insert(key.clone());
            }
            self.make_runnable_if_ready(info.id, &handler);
        }
        Vec::new()
    }

    /// The unfinished jobs of `handler`, which is no longer configured,
    /// except running ones (they end on their own): the caller records them
    /// dead.
    pub fn retire(&mut self, handler: &str) -> Vec<Orphan> {
        let mut orphans: Vec<Orphan> = self
            .active
            .values()
            .filter_map(|active| {
                let job = active.jobs.get(handler)?;
                matches!(job.state, JobState::Pending | JobState::Retry).then(|| Orphan {
                    info: Arc::clone(&active.info),
                    handler: handler.to_owned(),
                    attempts: job.attempts,
                    because: format!(
                        "handler {handler} is no longer configured; its job cannot run"
                    ),
                })
            })
            .collect();
        orphans.sort_by_key(|orphan| orphan.info.id);
        orphans
    }

    /// The handlers that have jobs on the objects in hand.
    pub fn handlers_with_jobs(&self) -> BTreeSet<String> {
        self.active
            .values()
            .flat_map(|active| active.jobs.keys().cloned())
            .collect()
    }

    /// Records that `handler`'s job on a finished object is dead: an
    /// ordered handler keeps holding the object's dataset back behind it.
    pub fn hold(&mut self, info: Arc<ObjectInfo>, handler: &str) {
        if self.ordered(handler) {
            self.unfinished
                .entry((handler.to_owned(), info.dataset.clone()))
                .or_default()
                .insert(Key::of(&info));
            self.dead.insert((handler.to_owned(), info.id), info);
        }
    }

    /// Whether every handler `handler` waits for is done with `object`.
    fn prerequisites_done(&self, active: &Active, handler: &str) -> bool {
        let Some(settings) = self.handlers.get(handler) else {
            return true;
        };
        settings.after.iter().all(|before| {
            active
                .jobs
                .get(before)
                .is_none_or(|job| matches!(job.state, JobState::Done | JobState::Duplicate))
        })
    }

    /// Holds `object` back until [`Queue::release_from_gap`]: its
    /// generation waits for a missing one.
    pub fn hold_for_gap(&mut self, object: i64) {
        self.gap_held.insert(object);
        let Some(active) = self.active.get(&object) else {
            return;
        };
        let key = Key::of(&active.info);
        for per_dataset in self.runnable.values_mut() {
            if let Some(keys) = per_dataset.get_mut(&active.info.dataset) {
                keys.remove(&key);
            }
        }
    }

    /// Lets held `objects` go: their pending jobs become runnable, in the
    /// dataset's order.
    pub fn release_from_gap(&mut self, objects: &[i64]) {
        for object in objects {
            if !self.gap_held.remove(object) {
                continue;
            }
            let handlers: Vec<String> = self
                .active
                .get(object)
                .map(|active| active.jobs.keys().cloned().collect())
                .unwrap_or_default();
            for handler in handlers {
                self.make_runnable_if_ready(*object, &handler);
            }
        }
    }

    /// Makes `held` the objects held for a gap (after a reload): others
    /// are released, new ones held.
    pub fn set_gap_held(&mut self, held: HashSet<i64>) {
        let released: Vec<i64> = self.gap_held.difference(&held).copied().collect();
        for object in held
            .difference(&self.gap_held.clone())
            .copied()
            .collect::<Vec<_>>()
        {
            self.hold_for_gap(object);
        }
        self.release_from_gap(&released);
    }

    fn make_runnable_if_ready(&mut self, object: i64, handler: &str) {
        if self.gap_held.contains(&object) {
            return;
        }
        let Some(active) = self.active.get(&object) else {
            return;
        };
        if !active
            .jobs
            .get(handler)
            .is_some_and(|job| job.state == JobState::Pending)
            || !self.prerequisites_done(active, handler)
        {
            return;
        }
        let key = Key::of(&active.info);
        let dataset = active.info.dataset.clone();
        self.runnable
            .entry(handler.to_owned())
            .or_default()
            .entry(dataset)
            .or_default()
            .insert(key);
    }

    fn set_timer(&mut self, at_ms: i64, object: i64, handler: &str) {
        self.timers
            .push(Reverse((at_ms, object, handler.to_owned())));
        self.due.insert((object, handler.to_owned()), at_ms);
    }

    /// Moves retries whose time has come back to runnable.
    pub fn wake(&mut self, now_ms: i64) {
        while let Some(Reverse((at, object, _))) = self.timers.peek()
            && *at <= now_ms
        {
            let (at, object) = (*at, *object);
            let Some(Reverse((_, _, handler))) = self.timers.pop() else {
                break;
            };
            let key = (object, handler);
            if self.due.get(&key) != Some(&at) {
                continue;
            }
            self.due.remove(&key);
            let handler = key.1;
            if let Some(job) = self
                .active
                .get_mut(&object)
                .and_then(|active| active.jobs.get_mut(&handler))
                && job.state == JobState::Retry
            {
                job.state = JobState::Pending;
                self.make_runnable_if_ready(object, &handler);
            }
        }
    }

    /// When the next retry is due, in milliseconds since the epoch.
    pub fn next_timer(&self) -> Option<i64> {
        self.timers.peek().map(|Reverse((at, _, _))| *at)
    }

    /// The next job `handler` may start, if any, and marks it running.
    /// Returns heads of ordered datasets that are held back, once each.
    pub fn next(
        &mut self,
        handler: &str,
        held: &mut Vec<(Arc<ObjectInfo>, String)>,
    ) -> Option<Next> {
        let ordered = self.ordered(handler);
        let prefetch = if ordered {
            0
        } else {
            self.prefetch.get(handler).copied().unwrap_or(0)
        };
        let concurrency = self
            .handlers
            .get(handler)
            .map_or(1, |settings| settings.concurrency);
        if self.running.get(handler).copied().unwrap_or(0) >= concurrency + prefetch {
            return None;
        }
        let datasets: Vec<DatasetName> = {
            let per_dataset = self.runnable.get(handler)?;
            let after = self.last_served.get(handler);
            // Take turns: the datasets after the one served last, then the rest.
            let (later, earlier): (Vec<_>, Vec<_>) = per_dataset
                .iter()
                .filter(|(_, keys)| !keys.is_empty())
                .map(|(dataset, _)| dataset.clone())
                .partition(|dataset| after.is_none_or(|last| dataset > last));
            later.into_iter().chain(earlier).collect()
        };
        for dataset in datasets {
            let Some(first) = self
                .runnable
                .get(handler)
                .and_then(|per_dataset| per_dataset.get(&dataset))
                .and_then(|keys| keys.first())
                .cloned()
            else {
                continue;
            };
            if ordered {
                let head = self
                    .unfinished
                    .get(&(handler.to_owned(), dataset.clone()))
                    .and_then(|keys| keys.first())
                    .cloned();
                if head.as_ref() != Some(&first) {
                    // Waiting behind a running object is the order; behind
                    // a failing one it is a hold, reported once.
                    if let Some(head) = head
                        && let Some(info) = self.failing_head(handler, &head)
                        && self.reported.insert((handler.to_owned(), head.object))
                    {
                        held.push((info, handler.to_owned()));
                    }
                    continue;
                }
            }
            if let Some(keys) = self
                .runnable
                .get_mut(handler)
                .and_then(|per_dataset| per_dataset.get_mut(&dataset))
            {
                keys.remove(&first);
            }
            let Some(active) = self.active.get_mut(&first.object) else {
                continue;
            };
            let Some(job) = active.jobs.get_mut(handler) else {
                continue;
            };
            job.state = JobState::Running;
            let attempt = job.attempts + 1;
            let info = Arc::clone(&active.info);
            *self.running.entry(handler.to_owned()).or_default() += 1;
            self.last_served.insert(handler.to_owned(), dataset);
            return Some(Next {
                info,
                handler: handler.to_owned(),
                attempt,
            });
        }
        None
    }

    /// The object at the head of an ordered dataset if its job is failing
    /// (waiting for a retry). A dead head's object is finished and no
    /// longer here; the ledger tells of it.
    fn failing_head(&self, handler: &str, head: &Key) -> Option<Arc<ObjectInfo>> {
        if let Some(info) = self.dead.get(&(handler.to_owned(), head.object)) {
            return Some(Arc::clone(info));
        }
        let active = self.active.get(&head.object)?;
        let job = active.jobs.get(handler)?;
        (job.state == JobState::Retry).then(|| Arc::clone(&active.info))
    }

    /// Puts a started job back as it was (a stop before it ran to an end).
    pub fn put_back(&mut self, object: i64, handler: &str) {
        self.release(handler);
        if let Some(job) = self
            .active
            .get_mut(&object)
            .and_then(|active| active.jobs.get_mut(handler))
        {
            job.state = JobState::Pending;
        }
        self.make_runnable_if_ready(object, handler);
    }

    fn release(&mut self, handler: &str) {
        if let Some(running) = self.running.get_mut(handler) {
            *running = running.saturating_sub(1);
        }
    }

    /// Records a job's new state. Returns the jobs that can now never run
    /// (they wait for a handler that died) — the caller records them dead
    /// and reports them back with [`Queue::finished`] — and whether the
    /// object has no unfinished job left.
    pub fn finished(
        &mut self,
        object: i64,
        handler: &str,
        state: JobState,
        attempts: u32,
        next_at_ms: i64,
        was_running: bool,
    ) -> (Vec<Orphan>, bool) {
        if was_running {
            self.release(handler);
        }
        let ordered = self.ordered(handler);
        let Some(active) = self.active.get_mut(&object) else {
            return (Vec::new(), false);
        };
        if let Some(job) = active.jobs.get_mut(handler) {
            *job = Job { state, attempts };
        }
        let info = Arc::clone(&active.info);
        if ordered && matches!(state, JobState::Done | JobState::Duplicate) {
            let key = Key::of(&info);
            if let Some(keys) = self
                .unfinished
                .get_mut(&(handler.to_owned(), info.dataset.clone()))
            {
                keys.remove(&key);
            }
        }
        let mut orphans = Vec::new();
        match state {
            JobState::Retry => self.set_timer(next_at_ms, object, handler),
            JobState::Done | JobState::Duplicate => {
                let dependents: Vec<String> = self.dependents_of(handler);
                for dependent in dependents {
                    self.make_runnable_if_ready(object, &dependent);
                }
            }
            JobState::Dead => {
                if ordered {
                    self.dead
                        .insert((handler.to_owned(), object), Arc::clone(&info));
                }
                let dependents = self.dependents_of(handler);
                if let Some(active) = self.active.get(&object) {
                    for dependent in dependents {
                        if let Some(job) = active.jobs.get(&dependent)
                            && job.state == JobState::Pending
                        {
                            orphans.push(Orphan {
                                info: Arc::clone(&info),
                                handler: dependent,
                                attempts: job.attempts,
                                because: format!("not run: handler {handler} died on this object"),
                            });
                        }
                    }
                }
            }
            JobState::Pending => self.make_runnable_if_ready(object, handler),
            JobState::Running => {}
        }
        let complete = self
            .active
            .get(&object)
            .is_some_and(|active| active.jobs.values().all(|job| job.state.is_final()));
        if complete {
            self.active.remove(&object);
            self.gap_held.remove(&object);
        }
        (orphans, complete)
    }

    fn dependents_of(&self, handler: &str) -> Vec<String> {
        self.handlers
            .values()
            .filter(|settings| settings.after.iter().any(|before| before == handler))
            .map(|settings| settings.name.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: i64, dataset: &str, rank: i64) -> Arc<ObjectInfo> {
        Arc::new(ObjectInfo {
            id,
            dataset: DatasetName::new(dataset).expect("name"),
            relative: PathBuf::from(format!("{dataset}/{id}.csv")),
            path: PathBuf::from(format!("/lake/{dataset}/{id}.csv")),
            name: format!("{dataset}/{id}.csv"),
            sha256: String::new(),
            size: 0,
            mtime_ns: rank,
            inode: 0,
            rank,
        })
    }

    fn pending() -> Job {
        Job {
            state: JobState::Pending,
            attempts: 0,
        }
    }

    fn handler(name: &str, concurrency: usize) -> HandlerSettings {
        let mut settings = HandlerSettings::new(name);
        settings.concurrency = concurrency;
        settings
    }

    fn take(queue: &mut Queue, handler: &str) -> Option<i64> {
        queue
            .next(handler, &mut Vec::new())
            .map(|next| next.info.id)
    }

    #[test]
    fn jobs_run_in_rank_order_and_no_more_at_once_than_the_concurrency() {
        let mut queue = Queue::new(&[handler("h", 2)]);
        for (id, rank) in [(1, 30), (2, 10), (3, 20)] {
            queue.add(info(id, "a", rank), &[("h".into(), pending(), 0)]);
        }
        assert_eq!(take(&mut queue, "h"), Some(2));
        assert_eq!(take(&mut queue, "h"), Some(3));
        assert_eq!(take(&mut queue, "h"), None, "two are running");
        queue.finished(2, "h", JobState::Done, 1, 0, true);
        assert_eq!(take(&mut queue, "h"), Some(1));
    }

    #[test]
    fn a_prefetching_handler_holds_more_jobs_than_it_runs() {
        let mut queue = Queue::new(&[handler("h", 1)]);
        queue.set_prefetch("h", 2);
        for id in 1..=5 {
            queue.add(info(id, "a", id), &[("h".into(), pending(), 0)]);
        }
        let taken: Vec<i64> = std::iter::from_fn(|| take(&mut queue, "h")).collect();
        assert_eq!(taken, [1, 2, 3]);
    }

    #[test]
    fn datasets_take_turns() {
        let mut queue = Queue::new(&[handler("h", 1)]);
        for id in 1..=3 {
            queue.add(info(id, "busy", id), &[("h".into(), pending(), 0)]);
        }
        queue.add(info(9, "quiet", 100), &[("h".into(), pending(), 0)]);
        let mut order = Vec::new();
        while let Some(id) = take(&mut queue, "h") {
            order.push(id);
            queue.finished(id, "h", JobState::Done, 1, 0, true);
        }
        assert_eq!(order, [1, 9, 2, 3]);
    }

    #[test]
    fn a_handler_after_another_waits_for_it_and_dies_with_it() {
        let mut after = handler("notify", 1);
        after.after = vec!["loader".into()];
        let mut queue = Queue::new(&[handler("loader", 1), after]);
        let jobs = [
            ("loader".into(), pending(), 0),
            ("notify".into(), pending(), 0),
        ];
        queue.add(info(1, "a", 1), &jobs);
        queue.add(info(2, "a", 2), &jobs);
        assert_eq!(take(&mut queue, "notify"), None, "the loader has not run");
        assert_eq!(take(&mut queue, "loader"), Some(1));
        queue.finished(1, "loader", JobState::Done, 1, 0, true);
        assert_eq!(take(&mut queue, "notify"), Some(1));
        assert_eq!(take(&mut queue, "loader"), Some(2));
        let (orphans, complete) = queue.finished(2, "loader", JobState::Dead, 1, 0, true);
        assert!(!complete);
        assert_eq!(orphans.len(), 1);
        assert_eq!(orphans[0].handler, "notify");
        let (_, complete) = queue.finished(2, "notify", JobState::Dead, 0, 0, false);
        assert!(complete, "every job of object 2 is final");
    }

    #[test]
    fn an_ordered_handler_holds_later_objects_back_behind_a_failing_one() {
        let mut ordered = handler("h", 4);
        ordered.ordered = true;
        let mut queue = Queue::new(&[ordered]);
        for id in 1..=3 {
            queue.add(info(id, "a", id), &[("h".into(), pending(), 0)]);
        }
        assert_eq!(take(&mut queue, "h"), Some(1));
        assert_eq!(take(&mut queue, "h"), None, "one at a time");
        queue.finished(1, "h", JobState::Retry, 1, 5_000, true);
        let mut held = Vec::new();
        assert!(queue.next("h", &mut held).is_none(), "2 waits behind 1");
        assert_eq!(held.len(), 1, "the hold is reported");
        queue.wake(4_999);
        assert_eq!(take(&mut queue, "h"), None);
        queue.wake(5_000);
        assert_eq!(take(&mut queue, "h"), Some(1));
        queue.finished(1, "h", JobState::Done, 2, 0, true);
        assert_eq!(take(&mut queue, "h"), Some(2));
    }

    #[test]
    fn a_dead_object_found_at_startup_still_holds_an_ordered_dataset_back() {
        let mut ordered = handler("h", 1);
        ordered.ordered = true;
        let mut queue = Queue::new(&[ordered]);
        queue.hold(info(1, "a", 1), "h");
        queue.add(info(2, "a", 2), &[("h".into(), pending(), 0)]);
        assert_eq!(take(&mut queue, "h"), None);
    }

    #[test]
    fn turning_ordered_on_keeps_the_handler_running_in_order() {
        let mut queue = Queue::new(&[handler("h", 1)]);
        for id in 1..=2 {
            queue.add(info(id, "a", id), &[("h".into(), pending(), 0)]);
        }
        let mut ordered = handler("h", 1);
        ordered.ordered = true;
        queue.set_handlers(&[ordered]);
        assert_eq!(take(&mut queue, "h"), Some(1));
        queue.finished(1, "h", JobState::Done, 1, 0, true);
        assert_eq!(take(&mut queue, "h"), Some(2));
    }

    #[test]
    fn a_pending_job_behind_a_dead_prerequisite_is_an_orphan_at_startup() {
        let mut after = handler("notify", 1);
        after.after = vec!["loader".into()];
        let mut queue = Queue::new(&[handler("loader", 1), after]);
        let dead = Job {
            state: JobState::Dead,
            attempts: 1,
        };
        let orphans = queue.add(
            info(1, "a", 1),
            &[("loader".into(), dead, 0), ("notify".into(), pending(), 0)],
        );
        assert_eq!(orphans.len(), 1);
        assert_eq!(orphans[0].handler, "notify");
    }

    #[test]
    fn a_job_retried_by_hand_is_queued_once_and_its_dependents_wait_for_it() {
        let mut after = handler("notify", 1);
        after.after = vec!["loader".into()];
        let mut queue = Queue::new(&[handler("loader", 1), after]);
        let dead = Job {
            state: JobState::Dead,
            attempts: 3,
        };
        let reset = Job {
            state: JobState::Pending,
            attempts: 3,
        };
        // Finished and gone from the queue; then both jobs are reset.
        let jobs = [
            ("loader".into(), reset, 0),
            (
                "notify".into(),
                Job {
                    attempts: 0,
                    ..reset
                },
                0,
            ),
        ];
        assert!(queue.revive(info(1, "a", 1), &jobs).is_empty());
        assert!(queue.revive(info(1, "a", 1), &jobs).is_empty());
        assert_eq!(take(&mut queue, "notify"), None, "the loader first");
        let next = queue
            .next("loader", &mut Vec::new())
            .expect("the loader's job");
        assert_eq!(next.attempt, 4, "attempts keep their numbers");
        assert_eq!(take(&mut queue, "loader"), None, "queued once");
        queue.finished(1, "loader", JobState::Done, 4, 0, true);
        assert_eq!(take(&mut queue, "notify"), Some(1));
        // An object still in hand with a dead job: the job comes back.
        queue.add(
            info(2, "a", 2),
            &[("loader".into(), dead, 0), ("notify".into(), pending(), 0)],
        );
        queue.revive(info(2, "a", 2), &[("loader".into(), reset, 0)]);
        assert_eq!(take(&mut queue, "loader"), Some(2));
    }

    #[test]
    fn a_job_retried_before_its_time_is_not_woken_by_its_old_timer() {
        let mut queue = Queue::new(&[handler("h", 1)]);
        queue.add(info(1, "a", 1), &[("h".into(), pending(), 0)]);
        assert_eq!(take(&mut queue, "h"), Some(1));
        queue.finished(1, "h", JobState::Retry, 1, 1_000, true);
        let reset = Job {
            state: JobState::Pending,
            attempts: 1,
        };
        queue.revive(info(1, "a", 1), &[("h".into(), reset, 0)]);
        assert_eq!(take(&mut queue, "h"), Some(1), "retried now");
        queue.finished(1, "h", JobState::Retry, 2, 9_000, true);
        queue.wake(1_000);
        assert_eq!(take(&mut queue, "h"), None, "the old timer is stale");
        queue.wake(9_000);
        assert_eq!(take(&mut queue, "h"), Some(1));
    }

    #[test]
    fn a_job_put_back_runs_again() {
        let mut queue = Queue::new(&[handler("h", 1)]);
        queue.add(info(1, "a", 1), &[("h".into(), pending(), 0)]);
        assert_eq!(take(&mut queue, "h"), Some(1));
        queue.put_back(1, "h");
        assert_eq!(queue.running(), 0);
        assert_eq!(take(&mut queue, "h"), Some(1));
    }
}
