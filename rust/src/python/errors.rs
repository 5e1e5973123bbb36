//! Python exceptions of the core's errors: `DecodeError` for streams that do not decode,
//! `ValueError` for everything else.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::error::Error;

// Named after the module users import it from (`tinify.ans.DecodeError`), so that tracebacks
// and `repr` show a name that can be imported.
pyo3::create_exception!(
    tinify.ans,
    DecodeError,
    PyValueError,
    "A byte string is not a valid stream for the given indexes and CDF tables: truncated, corrupt, or decoded with other tables."
);

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        if err.is_decode_error() {
            DecodeError::new_err(err.to_string())
        } else {
            PyValueError::new_err(err.to_string())
        }
    }
}
