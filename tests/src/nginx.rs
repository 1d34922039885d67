//! nginx in front of instances of an example, for tests of load balancing:
//! its own configuration on free ports, killed with the test and its folder
//! removed.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A child process killed when the test ends, passed or not.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// nginx running from its own folder: killed, and the folder removed, when
/// the test ends.
pub struct Nginx {
    process: Process,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.process.0.kill();
        let _ = self.process.0.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// nginx in front of `upstreams`, round-robin, on `port`, configured as
/// docs/scaling.md shows for event streams (no buffering, HTTP/1.1 upstream);
/// its configuration, logs and temporary files in `dir`, removed with it.
pub fn nginx(binary: &Path, dir: &Path, port: u16, upstreams: &[u16]) -> Nginx {
    let servers: String = upstreams
        .iter()
        .map(|p| format!("    server 127.0.0.1:{p};\n"))
        .collect();
    let d = dir.display();
    // One process (no master and workers): killing it leaves nothing behind.
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 512; }}\n\
         http {{\n  access_log off;\n\
           client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
           fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
           upstream tickets {{\n{servers}  }}\n\
           server {{\n    listen 127.0.0.1:{port};\n\
             location / {{\n      proxy_pass http://tickets;\n      proxy_http_version 1.1;\n\
               proxy_set_header Connection \"\";\n      proxy_buffering off;\n\
               proxy_read_timeout 1h;\n    }}\n  }}\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).expect("the nginx configuration");
    let process = Process(
        Command::new(binary)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts"),
    );
    Nginx {
        process,
        dir: dir.to_owned(),
    }
}

/// nginx on the `PATH`, or where Debian puts it (`/usr/sbin`, not on every
/// user's `PATH`); fails the test when it is not installed (a test needing it
/// carries `#[cfg_attr(missing_nginx, ignore = ..)]`).
pub fn nginx_binary() -> PathBuf {
    ["nginx", "/usr/sbin/nginx"]
        .into_iter()
        .find(|nginx| Command::new(nginx).arg("-v").output().is_ok())
        .map(PathBuf::from)
        .expect("nginx is not installed (apt-get install nginx)")
}
