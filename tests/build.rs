//! Marks the tests needing a component this machine lacks as ignored
//! (never under `CI=true`): see `justsse_probe`.

use justsse_probe::Component;

fn main() {
    justsse_probe::report(&[
        Component::Redis,
        Component::Postgres,
        Component::Nginx,
        Component::Npm,
        Component::Chromium,
    ]);
}
