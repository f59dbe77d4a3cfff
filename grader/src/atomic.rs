//! Writing a file so that a reader never sees half of it: through a temporary file in the
//! same folder and a rename. Reports, CSVs and a batch's per-student results are written
//! this way, by the commands and by the batch alike.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("writing {}", path.display())]
pub(crate) struct WriteError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// Writes `data` to `path` through a temporary file and a rename, so a reader never sees
/// half a report. The file gets the mode of any new file (0666 less the umask), not the
/// temporary file's 0600: a report is meant to be read by others (a web server, a TA).
pub(crate) fn write(path: &Path, data: &[u8]) -> Result<(), WriteError> {
    let fail = |source: std::io::Error| WriteError {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(data).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn written_files_follow_the_umask_like_any_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::File::create(&plain).unwrap();
        let report = dir.path().join("report.json");
        write(&report, b"{}").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&report), mode(&plain));
        assert_eq!(std::fs::read(&report).unwrap(), b"{}");
    }
}
