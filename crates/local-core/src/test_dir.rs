//! Unique temporary directories for tests, removed when dropped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A fresh directory under `std::env::temp_dir()`, deleted on drop.
pub(crate) struct TestDir(PathBuf);

impl TestDir {
    /// Creates `<tmp>/authsidecar-local-core-<label>-<pid>-<n>-<random>`.
    pub(crate) fn new(label: &str) -> TestDir {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let salt: u32 = rand::random();
        let name = format!(
            "authsidecar-local-core-{label}-{}-{n}-{salt:08x}",
            std::process::id()
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).expect("create test dir");
        TestDir(path)
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
