//! The one mapping of diesel's errors to the service [`Error`], the same on every engine: a
//! unique violation is a conflict, a lost connection or a serialization failure is
//! `Unavailable` (the same call may work later), a missing row is not found, anything else is
//! internal.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::error::Error;

/// Maps `error`; a unique violation becomes a conflict that says `conflict`.
pub fn map_error(error: DieselError, conflict: &str) -> Error {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            Error::Conflict(conflict.to_owned())
        }
        DieselError::NotFound => Error::NotFound("not found".into()),
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

/// `?` on a diesel error maps it with [`map_error`], with a conflict saying only that the
/// record exists; a caller that expects a unique violation names it with `map_error`.
impl From<DieselError> for Error {
    fn from(error: DieselError) -> Self {
        map_error(error, "the record already exists")
    }
}
