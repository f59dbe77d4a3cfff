//! The `grader` binary: parse the command line, run, turn the outcome into an exit code.
//! Everything else lives in the library so tests and other front ends share it.

fn main() {
    std::process::exit(grader::cli::main());
}
