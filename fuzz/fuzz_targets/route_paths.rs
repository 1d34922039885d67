//! Route paths and path parameters: parsing any text never panics, a parsed
//! path keeps its parameters in order, and numbers are canonical only (a
//! number that parses prints back as the same text: no `+1`, `01`, spaces).
#![no_main]

use justsse::extract::PathParam;
use justsse_http::RoutePath;
use libfuzzer_sys::fuzz_target;

fn canonical<P: PathParam<Raw = P> + ToString>(text: &str) {
    if let Ok(value) = P::parse(text) {
        assert_eq!(value.to_string(), text, "{} accepted a non-canonical number", std::any::type_name::<P>());
    }
}

fuzz_target!(|text: &str| {
    if let Ok(path) = RoutePath::parse(text) {
        let names: Vec<&str> = text
            .split('/')
            .filter_map(|segment| segment.strip_prefix(':').or_else(|| segment.strip_prefix('*')))
            .collect();
        let params: Vec<&str> = path.params().iter().map(String::as_str).collect();
        assert_eq!(params, names, "{text:?}");
    }
    canonical::<u8>(text);
    canonical::<u16>(text);
    canonical::<u32>(text);
    canonical::<u64>(text);
    canonical::<i32>(text);
    canonical::<i64>(text);
});
