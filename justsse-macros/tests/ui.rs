//! Misused macros fail to compile with an error at the offending span; correct
//! use compiles. Each `fail/*.rs` has its expected `.stderr` beside it.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
