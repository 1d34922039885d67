//! HTTP/2 frames written by hand, for clients no library would be: one that
//! advertises the largest windows and then never reads a byte.

/// An HTTP/2 frame: length, type, flags, stream, payload.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).expect("a small frame");
    let mut out = len.to_be_bytes()[1..].to_vec();
    out.extend([kind, flags]);
    out.extend(stream.to_be_bytes());
    out.extend(payload);
    out
}

/// The client preface, SETTINGS_INITIAL_WINDOW_SIZE = 2^31 - 1, the
/// connection window raised to the same, and an acknowledgement of the
/// server's settings (sent blind: they are never read).
pub fn preface_with_huge_windows() -> Vec<u8> {
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    hello.extend(frame(0x4, 0, 0, &[0, 4, 0x7f, 0xff, 0xff, 0xff]));
    hello.extend(frame(0x8, 0, 0, &(0x7fff_ffffu32 - 65_535).to_be_bytes()));
    hello.extend(frame(0x4, 0x1, 0, &[]));
    hello
}

/// HEADERS (END_HEADERS | END_STREAM) of `GET path` on `stream`, asking for an
/// event stream, with `authorization` when given. HPACK without indexing or
/// Huffman: `:method GET` (static 2), `:scheme http` (6), then literals with
/// indexed names `:path` (4), `:authority` (1), `accept` (19) and
/// `authorization` (23).
pub fn get_event_stream(stream: u32, path: &str, authorization: Option<&str>) -> Vec<u8> {
    let mut block = vec![0x82, 0x86];
    let mut fields: Vec<(&[u8], &[u8])> = vec![
        (&[0x04], path.as_bytes()),
        (&[0x01], b"localhost"),
        (&[0x0f, 0x04], b"text/event-stream"),
    ];
    if let Some(authorization) = authorization {
        fields.push((&[0x0f, 0x08], authorization.as_bytes()));
    }
    for (name, value) in fields {
        block.extend(name);
        block.push(u8::try_from(value.len()).expect("a value under 127 bytes"));
        block.extend(value);
    }
    frame(0x1, 0x5, stream, &block)
}
