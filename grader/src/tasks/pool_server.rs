//! `pool-server` (SPEC sections 3 and 4). Its checks are not implemented yet: each reports
//! `error` saying so, never a verdict on the program.

use crate::check::{not_implemented, CheckDef};

/// The checks of SPEC section 4, in order.
pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        id: "echo",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
    CheckDef {
        id: "fragmented",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
    CheckDef {
        id: "concurrent",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
    CheckDef {
        id: "isolation",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
    CheckDef {
        id: "eof",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
    CheckDef {
        id: "bounded-threads",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
    CheckDef {
        id: "queued-clients",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
];
