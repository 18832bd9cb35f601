//! The one mapping of diesel's errors to the service [`Error`], the same on every engine: a
//! unique violation is a conflict, a lost connection or a serialization failure is
//! `Unavailable` (the same call may work later), a full disk is `InsufficientStorage`, a
//! missing row is not found, anything else is internal.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::error::Error;

/// Maps `error`; a unique violation becomes a conflict that says `conflict`.
pub fn map_error(error: DieselError, conflict: &str) -> Error {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            Error::Conflict(conflict.to_owned())
        }
        DieselError::NotFound => Error::NotFound("not found".into()),
        error if is_disk_full(&error) => Error::disk_full(),
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::SerializationFailure,
            _,
        )
        | DieselError::BrokenTransactionManager => Error::unavailable(error),
        other => Error::internal(other),
    }
}

/// Maps a failed BEGIN or COMMIT: nothing was written, and the same call may work later; a
/// full disk says so.
pub fn map_transaction_error(error: DieselError) -> Error {
    if is_disk_full(&error) {
        Error::disk_full()
    } else {
        Error::unavailable(error)
    }
}

/// Whether the engine refused the write for want of disk space: SQLite's `SQLITE_FULL`
/// ("database or disk is full") or PostgreSQL's "No space left on device" (SQLSTATE 53100,
/// which diesel does not expose).
fn is_disk_full(error: &DieselError) -> bool {
    let DieselError::DatabaseError(_, info) = error else {
        return false;
    };
    let message = info.message();
    message.contains("database or disk is full") || message.contains("No space left on device")
}

/// `?` on a diesel error maps it with [`map_error`], with a conflict saying only that the
/// record exists; a caller that expects a unique violation names it with `map_error`.
impl From<DieselError> for Error {
    fn from(error: DieselError) -> Self {
        map_error(error, "the record already exists")
    }
}
