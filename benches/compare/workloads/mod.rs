//! The workloads: W1 and W2 replay delivery streams (`replay`, `rounds`, `replay_table`); W3
//! wakes a herd of waiters; W4 and W5 run one contender per process (`crate::child`).

pub mod replay;
pub mod replay_table;
pub mod rounds;
pub mod w1_claim;
pub mod w2_lookups;
pub mod w3_herd;
pub mod w4_churn;
pub mod w4_monitor;
pub mod w5_growth;
