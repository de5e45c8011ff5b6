//! The human summary: a block of counts, the store's health, and each check's verdict.

use std::fmt::Write as _;

use super::{Summary, grouped, live_statuses};

impl Summary {
    /// The human summary.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out)
            .expect("writing to a String cannot fail");
        out
    }

    fn write_text(&self, out: &mut String) -> std::fmt::Result {
        writeln!(out, "idemstore replay of {}", self.source)?;
        writeln!(
            out,
            "  backend {} · {} worker{} · handler {} µs · fail rate {} ({}) · seed {}",
            self.backend,
            self.workers,
            if self.workers == 1 { "" } else { "s" },
            self.handler_us,
            self.fail_rate,
            self.failure_policy,
            self.seed
        )?;
        writeln!(
            out,
            "  ages: completed {} · failed {} · in progress {}",
            self.ttl.completed, self.ttl.failed, self.ttl.in_progress
        )?;
        writeln!(out)?;

        let a = &self.answers;
        let row = |out: &mut String, label: &str, value: u64, note: String| {
            writeln!(out, "{label:<22}{:>12}   {note}", grouped(value))
        };
        row(
            out,
            "deliveries",
            self.deliveries,
            format!(
                "({} distinct ids, {} duplicates)",
                grouped(self.distinct_ids),
                grouped(self.duplicates)
            ),
        )?;
        row(
            out,
            "executions",
            self.executions,
            "(side effects in the handler's ledger)".into(),
        )?;
        row(
            out,
            "duplicates absorbed",
            self.duplicates_absorbed,
            format!(
                "(waited on a running command {}, served from the store {}, failure replayed {})",
                grouped(a.waited),
                grouped(a.cached),
                grouped(a.failed_elsewhere)
            ),
        )?;
        row(
            out,
            "failures",
            a.failed_runs,
            format!(
                "(failed executions; deliveries given another's failure {})",
                grouped(a.failed_elsewhere)
            ),
        )?;
        if a.refused_total() > 0 {
            row(
                out,
                "no outcome",
                a.refused_total(),
                format!("{:?}", a.refused),
            )?;
        }
        writeln!(
            out,
            "{:<22}{:>12}   deliveries/s over {:.3} s",
            "throughput",
            grouped(self.throughput_per_s.round() as u64),
            self.elapsed_s
        )?;
        let l = &self.latency_us;
        writeln!(
            out,
            "{:<22}p50 {:.1} · p90 {:.1} · p99 {:.1} · p99.9 {:.1} · max {:.1} (µs)",
            "latency per delivery", l.p50, l.p90, l.p99, l.p99_9, l.max
        )?;

        let s = &self.store;
        writeln!(out, "\nstore health")?;
        let counts: Vec<String> = live_statuses()
            .map(|status| {
                let n = s.counts.get(status.as_str()).copied().unwrap_or(0);
                format!("{status} {}", grouped(n))
            })
            .collect();
        writeln!(out, "  {} · total {}", counts.join(" · "), grouped(s.total))?;
        writeln!(
            out,
            "  failure rate {:.2} % · stuck {:.2} % · indeterminate {} · expired, not yet removed \
             {} · removed by expiry {} · removed slots {}",
            s.failure_rate_percent,
            s.stuck_percent,
            grouped(s.indeterminate),
            grouped(s.expired_unremoved),
            grouped(s.expired_removed_total),
            grouped(s.removed_slots)
        )?;

        writeln!(out, "\nchecks")?;
        for check in &self.checks {
            let verdict = if check.passed { "ok  " } else { "FAIL" };
            writeln!(
                out,
                "  {verdict}  {:<15}expected {}, found {}",
                check.name.replace('_', " "),
                grouped(check.expected),
                grouped(check.observed),
            )?;
            writeln!(out, "        {}", check.explanation)?;
            for problem in &check.problems {
                writeln!(out, "        - {problem}")?;
            }
        }
        let failed = self.checks.iter().filter(|check| !check.passed).count();
        if failed == 0 {
            writeln!(out, "all {} checks passed", self.checks.len())
        } else {
            writeln!(
                out,
                "FAILED: {failed} of {} checks did not hold",
                self.checks.len()
            )
        }
    }
}
