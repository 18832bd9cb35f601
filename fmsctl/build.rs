//! Sets `FMS_VERSION`: the version and, from a git checkout, the commit.

include!("../build/git_version.rs");
