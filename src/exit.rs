//! The exit codes (docs/reference.md, "Exit codes"), shared by the two front doors: `app` (send, run,
//! check) and `serve`. Each decides its code in one place; this is only the list.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every enabled channel delivered, or nothing to do, or a dry run.
    Ok,
    /// At least one channel failed (and `--fail-on-error` is on).
    ChannelFailed,
    /// Usage or configuration error; nothing was sent.
    Usage,
    /// `onfail serve` could not start or had to stop (the port is taken, the store is not
    /// reachable).
    ServiceFailed,
    /// `onfail run`: the wrapped command's own code.
    Command(u8),
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::ChannelFailed => 1,
            Exit::Usage => 2,
            Exit::ServiceFailed => 1,
            Exit::Command(code) => code,
        }
    }
}
