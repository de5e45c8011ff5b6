//! The report's header and footer: what ran, where, how it was built, and how it was
//! measured, so a table can be read (and re-run) without anything else.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::adapters::sharded::SHARDS;
use crate::cli::{Plan, Workload};

/// Crates whose versions the header names.
const CRATES: [&str; 9] = [
    "papaya",
    "scc",
    "dashmap",
    "quick_cache",
    "moka",
    "hashbrown",
    "parking_lot",
    "ahash",
    "tokio",
];

pub fn header(plan: &Plan) -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mode = if plan.quick {
        "quick (`--quick`: smaller sizes, fewer repetitions)"
    } else {
        "full"
    };
    format!(
        "# idemstore beside its peers\n\n\
         - command: `{}`\n\
         - mode: {mode}; threads {:?} (W4 and W5: {:?}); workloads {:?}\n\
         - date: {}\n\
         - machine: {cpus} CPUs ({}), {} memory, Linux {}\n\
         - load average (1, 5, 15 min) at start: {}\n\
         - rustc: {}\n\
         - build: the bench profile ({}), debug assertions {}\n\
         - crates: {}\n\
         - hasher: `ahash::RandomState` with random seeds, a new one per map, passed to every \
           peer map (all of them take one); idemstore hashes with its own built-in \
           `ahash::RandomState` (random seeds per store; the builder takes no hasher). The \
           hardware bound uses ahash with fixed seeds, computed before timing.\n\
         - allocator: the system allocator (glibc malloc) behind a counting wrapper with \
           per-thread counters\n\
         - peers (the ratio columns): papaya, scc, dashmap, quick_cache, moka and the two \
           floors (one Mutex around one table; {SHARDS} RwLock shards); idemstore's own \
           variants are not peers and the hardware bound never is. `of bound`: the \
           contender's value as a fraction of the hardware bound's.\n\
         - threads: std threads released together at a barrier; a run lasts from the first \
           start to the last finish. 4 and 8 threads oversubscribe this machine's cores.\n",
        command_line(),
        plan.threads,
        plan.child_threads,
        plan.workloads,
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
        cpu_model(),
        memory_total(),
        read_trimmed("/proc/sys/kernel/osrelease"),
        load_average(),
        rustc_version(),
        bench_profile(),
        if cfg!(debug_assertions) { "on" } else { "off" },
        crate_versions(),
    )
}

pub fn footer(took: Duration) -> String {
    format!(
        "---\n\nRun time {:.0} s. Load average (1, 5, 15 min) at the end: {}.\n",
        took.as_secs_f64(),
        load_average()
    )
}

/// A line under a workload's tables: how long it took, and the load average (the machine is
/// shared, so its load is part of the data). Restarts the lap.
pub fn load_after(lap: &mut Instant, workload: Workload) -> String {
    let took = lap.elapsed();
    *lap = Instant::now();
    format!(
        "_{workload:?} took {:.0} s; load average (1, 5, 15 min) after it: {}._\n",
        took.as_secs_f64(),
        load_average()
    )
}

/// The command that reproduces this run.
fn command_line() -> String {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| arg != "--bench")
        .collect();
    if args.is_empty() {
        "cargo bench --bench compare".into()
    } else {
        format!("cargo bench --bench compare -- {}", args.join(" "))
    }
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path).map_or_else(|_| "unknown".into(), |s| s.trim().to_string())
}

fn load_average() -> String {
    let loadavg = read_trimmed("/proc/loadavg");
    loadavg
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn cpu_model() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    cpuinfo
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == "model name").then(|| value.trim().to_string())
        })
        .unwrap_or_else(|| "unknown model".into())
}

fn memory_total() -> String {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kib: Option<u64> = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok());
    kib.map_or("unknown".into(), |kib| {
        format!("{:.1} GiB", kib as f64 / (1024.0 * 1024.0))
    })
}

fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    Command::new(rustc)
        .arg("-V")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map_or("unknown".into(), |out| {
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        })
}

fn manifest_file(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap_or_default()
}

/// The `[profile.bench]` settings from Cargo.toml, as written there.
fn bench_profile() -> String {
    let manifest = manifest_file("Cargo.toml");
    let settings: Vec<&str> = manifest
        .lines()
        .skip_while(|line| line.trim() != "[profile.bench]")
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with('['))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    if settings.is_empty() {
        "no [profile.bench] settings".into()
    } else {
        settings.join(", ")
    }
}

/// Versions of [`CRATES`] from Cargo.lock.
fn crate_versions() -> String {
    let lock = manifest_file("Cargo.lock");
    let mut versions: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"'));
        } else if let (Some(n), Some(v)) = (name.take(), line.strip_prefix("version = ")) {
            if CRATES.contains(&n) {
                versions.entry(n).or_default().push(v.trim_matches('"'));
            }
        }
    }
    CRATES
        .iter()
        .map(|c| match versions.get(c) {
            Some(v) => format!("{c} {}", v.join("/")),
            None => format!("{c} ?"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
