//! How a command's result is stored.
//!
//! A result is a [`CommandResult`]: a cheaply cloned handle to one value shared by every reader.
//! The in-memory store keeps the value itself behind an `Arc` and never serializes it, so a
//! duplicate caller receives the very object the owner produced. A backend that crosses a
//! process boundary stores encoded bytes instead ([`CommandResult::from_bytes`]); both forms
//! travel through the same trait.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// A stored result: either a shared in-process value or encoded bytes.
#[derive(Clone)]
pub struct CommandResult {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    /// A value owned by the process; readers share it through the `Arc`.
    Shared(Arc<dyn Any + Send + Sync>),
    /// Bytes as a remote backend stores them.
    Bytes(Arc<[u8]>),
}

impl CommandResult {
    /// Wraps a value to be shared with every duplicate caller.
    pub fn new<T: Any + Send + Sync>(value: T) -> Self {
        Self::from_arc(Arc::new(value))
    }

    /// Shares an existing `Arc` without copying the value.
    pub fn from_arc<T: Any + Send + Sync>(value: Arc<T>) -> Self {
        CommandResult {
            repr: Repr::Shared(value),
        }
    }

    /// Wraps encoded bytes (what a remote backend stores).
    pub fn from_bytes(bytes: impl Into<Arc<[u8]>>) -> Self {
        CommandResult {
            repr: Repr::Bytes(bytes.into()),
        }
    }

    /// The shared value, if it is a `T`.
    ///
    /// ```
    /// use idemstore::CommandResult;
    /// let result = CommandResult::new(42_u32);
    /// assert_eq!(*result.downcast::<u32>().unwrap(), 42);
    /// assert!(result.downcast::<String>().is_none());
    /// ```
    pub fn downcast<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        match &self.repr {
            Repr::Shared(value) => value.clone().downcast::<T>().ok(),
            Repr::Bytes(_) => None,
        }
    }

    /// A reference to the shared value, if it is a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        match &self.repr {
            Repr::Shared(value) => value.downcast_ref::<T>(),
            Repr::Bytes(_) => None,
        }
    }

    /// The encoded bytes, if this result came from (or is bound for) a remote backend.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.repr {
            Repr::Shared(_) => None,
            Repr::Bytes(bytes) => Some(bytes),
        }
    }

    /// True when both handles point at the same stored value (not merely equal values).
    pub fn same_value(&self, other: &CommandResult) -> bool {
        match (&self.repr, &other.repr) {
            (Repr::Shared(a), Repr::Shared(b)) => Arc::ptr_eq(a, b),
            (Repr::Bytes(a), Repr::Bytes(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Debug for CommandResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Shared(_) => f.write_str("CommandResult(shared)"),
            Repr::Bytes(bytes) => write!(f, "CommandResult({} bytes)", bytes.len()),
        }
    }
}
