//! Marks the tests needing a component this machine lacks as ignored
//! (never under `CI=true`): see `justsse_probe`.

use justsse_probe::Component;

fn main() {
    justsse_probe::report(&[
        Component::Redis,
        Component::Nginx,
        Component::Python,
        Component::Npm,
    ]);
}
