//! Writes a self-signed certificate for `localhost` and 127.0.0.1, made now,
//! as `cert.pem` and `key.pem` in the directory given: the browser tests serve
//! HTTPS with it (no private key is committed).
//!
//! ```text
//! cargo run -p justsse-tests --bin test-cert -- /tmp/certs
//! ```

use justsse_tests::tls::TestCert;

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: test-cert <directory>");
        std::process::exit(2);
    };
    let dir = std::path::PathBuf::from(dir);
    let cert = TestCert::new();
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("cert.pem"), &cert.cert_pem))
        .and_then(|()| std::fs::write(dir.join("key.pem"), &cert.key_pem));
    if let Err(err) = written {
        eprintln!("cannot write to {}: {err}", dir.display());
        std::process::exit(1);
    }
}
