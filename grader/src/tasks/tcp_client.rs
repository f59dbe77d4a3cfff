//! `tcp-client` (SPEC sections 3 and 4). Its checks are not implemented yet: each reports
//! `error` saying so, never a verdict on the program.

use crate::check::{not_implemented, CheckDef};

/// The checks of SPEC section 4, in order.
pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        id: "roundtrip",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
    CheckDef {
        id: "fragmented-reply",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
    CheckDef {
        id: "long-reply",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
    CheckDef {
        id: "empty-line-exits",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
    CheckDef {
        id: "stdin-eof",
        summary: "(not implemented yet)",
        run: not_implemented,
    },
];
