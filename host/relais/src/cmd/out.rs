//! What commands print on standard output. A reader that goes away
//! (`relais runs list | head`) makes a write fail with `BrokenPipe`: the
//! error travels up like any other, and `main` ends the command quietly
//! with success, as other Unix tools do, where `println!` would panic.

/// `println!` that returns the write's failure (`outln!(…)?`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// `print!` that returns the write's failure (`out!(…)?`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        write!(stdout, $($arg)*).and_then(|()| stdout.flush())
    }};
}

pub(crate) use {out, outln};

/// Whether `e` is a write to a reader that went away.
pub fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
