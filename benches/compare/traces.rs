//! The delivery streams the workloads replay, and the ids they are made of.
//!
//! # Ids
//!
//! Every key, from a trace or a generator, becomes a 36-byte UUID-shaped id (8-4-4-4-12 lower
//! hex digits). The top 64 bits are a bijective mix of the key, so distinct keys always give
//! distinct ids; the id is the same for every contender. Ids sit back to back in one string,
//! in order of first delivery, with a hash of each made before anything is timed: only the
//! hardware bound uses the hash (it stores no keys); every real store hashes the id itself.
//!
//! # Streams
//!
//! A stream is a list of deliveries, each an index into its ids; an id delivered again is a
//! duplicate. The real traces come from `../shared/traces/` beside the crate; a missing or
//! malformed file is an error with the path in its message, never a skip.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_distr::{Distribution, Zipf};

use crate::adapters::Key;

/// Bytes in every id.
pub const ID_LEN: usize = 36;

/// Distinct ids with their precomputed hashes.
pub struct Ids {
    /// All ids back to back, `ID_LEN` bytes each.
    text: String,
    /// The hardware bound's hash of each id (fixed seeds, so runs are comparable).
    hashes: Vec<u64>,
}

impl Ids {
    /// Ids for `keys`, in order.
    pub fn from_keys(keys: impl IntoIterator<Item = u64>) -> Ids {
        let keys = keys.into_iter();
        let hasher = ahash::RandomState::with_seeds(0x1d, 0xe5, 0x70, 0x7e);
        let mut text = String::with_capacity(keys.size_hint().0 * ID_LEN);
        let mut hashes = Vec::with_capacity(keys.size_hint().0);
        for key in keys {
            let start = text.len();
            push_uuid_like(&mut text, key);
            hashes.push(hasher.hash_one(&text[start..]));
        }
        Ids { text, hashes }
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn id(&self, index: usize) -> &str {
        &self.text[index * ID_LEN..(index + 1) * ID_LEN]
    }

    pub fn key(&self, index: usize) -> Key<'_> {
        Key {
            id: self.id(index),
            hash: self.hashes[index],
        }
    }
}

/// Writes the UUID-shaped id of `key`.
pub fn push_uuid_like(out: &mut String, key: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bits = (u128::from(mix(key)) << 64) | u128::from(mix(key ^ 0x5851_f42d_4c95_7f2d));
    for nibble in 0..32 {
        if matches!(nibble, 8 | 12 | 16 | 20) {
            out.push('-');
        }
        let digit = (bits >> (124 - 4 * nibble)) & 0xf;
        out.push(char::from(HEX[digit as usize]));
    }
}

/// A bijection on `u64` (the splitmix64 finaliser): distinct keys, distinct results.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A replayable stream of deliveries.
pub struct Stream {
    /// What the stream is, for table titles.
    pub name: String,
    pub ids: Ids,
    /// Index into `ids` of each delivery, in delivery order.
    pub deliveries: Vec<u32>,
}

impl Stream {
    /// A stream delivering `keys` in order; ids are numbered by first delivery.
    pub fn from_keys(name: String, keys: impl IntoIterator<Item = u64>) -> Stream {
        let mut first_seen: HashMap<u64, u32, ahash::RandomState> = HashMap::default();
        let mut distinct = Vec::new();
        let deliveries = keys
            .into_iter()
            .map(|key| {
                *first_seen.entry(key).or_insert_with(|| {
                    distinct.push(key);
                    (distinct.len() - 1) as u32
                })
            })
            .collect();
        Stream {
            name,
            ids: Ids::from_keys(distinct),
            deliveries,
        }
    }

    pub fn key_at(&self, delivery: usize) -> Key<'_> {
        self.ids.key(self.deliveries[delivery] as usize)
    }

    pub fn duplicate_share(&self) -> f64 {
        1.0 - self.ids.len() as f64 / self.deliveries.len() as f64
    }
}

/// `../shared/traces/` beside the crate root.
pub fn trace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/traces")
}

/// The Corda vault service trace: gzip of big-endian `i64` keys.
pub fn corda() -> Result<Stream, String> {
    let path = trace_dir().join("corda-vaultservice.i64be.gz");
    let bytes = read_all(
        &path,
        |file| Box::new(flate2::read::GzDecoder::new(file)),
        None,
    )?;
    let keys = decode(&path, &bytes, 8, |b| {
        i64::from_be_bytes(b.try_into().expect("8 bytes")) as u64
    })?;
    Ok(Stream::from_keys("Corda vault service trace".into(), keys))
}

/// The cache2k orm-busy trace: xz of big-endian `i32` keys; `limit` keeps the first deliveries.
pub fn orm_busy(limit: Option<usize>) -> Result<Stream, String> {
    let path = trace_dir().join("cache2k-orm-busy.i32be.xz");
    let open = |file| Box::new(xz2::read::XzDecoder::new(file)) as Box<dyn Read>;
    let bytes = read_all(&path, open, limit.map(|n| n as u64 * 4))?;
    let keys = decode(&path, &bytes, 4, |b| {
        i64::from(i32::from_be_bytes(b.try_into().expect("4 bytes"))) as u64
    })?;
    let name = match limit {
        Some(_) => "cache2k orm-busy trace (first deliveries)",
        None => "cache2k orm-busy trace",
    };
    Ok(Stream::from_keys(name.into(), keys))
}

/// `deliveries` draws from Zipf(`exponent`) over `ids` ids, from a fixed seed.
pub fn zipf(ids: usize, deliveries: usize, exponent: f64) -> Stream {
    let zipf = Zipf::new(ids as u64, exponent).expect("a valid Zipf exponent and id count");
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x21bf_0099);
    let keys = (0..deliveries).map(|_| zipf.sample(&mut rng) as u64);
    let name = format!("synthetic Zipf({exponent}) over {ids} ids");
    Stream::from_keys(name, keys.collect::<Vec<_>>())
}

fn read_all(
    path: &Path,
    open: impl FnOnce(std::fs::File) -> Box<dyn Read>,
    limit: Option<u64>,
) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| {
        format!(
            "cannot open trace {}: {e} (the traces live in ../shared/traces/ beside the crate; \
             see its README)",
            path.display()
        )
    })?;
    let mut bytes = Vec::new();
    let mut reader = open(file);
    let read = match limit {
        Some(limit) => (&mut reader).take(limit).read_to_end(&mut bytes),
        None => reader.read_to_end(&mut bytes),
    };
    read.map_err(|e| format!("cannot decode trace {}: {e}", path.display()))?;
    Ok(bytes)
}

fn decode(
    path: &Path,
    bytes: &[u8],
    width: usize,
    key: impl Fn(&[u8]) -> u64,
) -> Result<Vec<u64>, String> {
    if bytes.is_empty() || bytes.len() % width != 0 {
        return Err(format!(
            "trace {} holds {} bytes, not a whole number of {width}-byte keys",
            path.display(),
            bytes.len()
        ));
    }
    Ok(bytes.chunks_exact(width).map(key).collect())
}
