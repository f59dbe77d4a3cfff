//! `multiprint` (SPEC sections 3 and 4). Its checks are not implemented yet: each reports
//! `error` saying so, never a verdict on the program.

use crate::check::{not_implemented, CheckDef};

/// The checks of SPEC section 4, in order.
pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        id: "every-char-once",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
    CheckDef {
        id: "all-done",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
    CheckDef {
        id: "terminates",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
    CheckDef {
        id: "no-busy-wait",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
    CheckDef {
        id: "race-free",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
];
