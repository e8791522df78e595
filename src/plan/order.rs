//! The Job's place among the chart's own hooks (`docs/design.md` §4). Charts ship hooks on
//! the migration's events: a Job that generates the Secret the app (and the migration) reads, a
//! database-creation Job, a schema-wait Job. With a fixed weight the migration would run before
//! a weight-0 hook that creates what it reads, and a first install would hang. So, unless the
//! weight was set, the Job goes after every such hook: the highest of their weights plus one
//! (never below the default), its copies just below it. A hook that names the Job is left out:
//! it waits for the migration, not the other way round.

use crate::input::document::Documents;
use crate::plan::promote;

/// The chart's hooks, gathered once per run: `(document, events, weight)`.
pub(crate) struct ChartHooks(Vec<(usize, Vec<String>, i64)>);

impl ChartHooks {
    pub(crate) fn new(docs: &Documents) -> ChartHooks {
        ChartHooks(
            docs.iter()
                .filter(|d| d.is_hook())
                .map(|d| (d.index, d.hook_events(), d.hook_weight()))
                .collect(),
        )
    }

    /// The hooks the Job `job` on `events` runs after, in stream order, with their weights:
    /// those sharing one of its events and not naming it.
    pub(crate) fn before(
        &self,
        docs: &Documents,
        events: &[String],
        job: &str,
    ) -> Vec<(usize, i64)> {
        self.0
            .iter()
            .filter(|(_, on, _)| on.iter().any(|e| events.contains(e)))
            .filter(|(doc, _, _)| !promote::names(docs.get(*doc).text, job))
            .map(|(doc, _, weight)| (*doc, *weight))
            .collect()
    }
}

/// The weight that puts the Job after `hooks` (`(document, weight)`), or `default` when that is
/// already after them.
pub(crate) fn weight_after(hooks: &[(usize, i64)], default: i64) -> i64 {
    hooks
        .iter()
        .map(|(_, w)| w.saturating_add(1))
        .max()
        .map_or(default, |after| after.max(default))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_the_highest_never_below_the_default() {
        assert_eq!(weight_after(&[], -1), -1);
        assert_eq!(weight_after(&[(0, 0), (3, 5)], -1), 6);
        assert_eq!(weight_after(&[(0, -10)], -1), -1);
        assert_eq!(weight_after(&[(0, i64::MAX)], -1), i64::MAX);
    }
}
