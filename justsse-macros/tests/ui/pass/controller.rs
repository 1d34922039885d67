use justsse::prelude::*;

#[derive(Clone)]
struct User {
    is_admin: bool,
}

async fn auth(_: &RequestHead) -> Result<User, HttpError> {
    Ok(User { is_admin: true })
}

fn is_admin(user: &User) -> bool {
    user.is_admin
}

struct Things;

#[controller("/things")]
#[uses(auth)]
impl Things {
    /// All things.
    #[get("/")]
    async fn list(&self, user: User) -> Json<bool> {
        Json(user.is_admin)
    }

    #[post("/:id")]
    #[guard(is_admin)]
    async fn touch(&self, id: u32, Json(body): Json<String>) -> String {
        format!("{id} {body}")
    }

    #[sse("/:id/events")]
    #[guard(|user: &User, id: &u32| user.is_admin && *id > 0)]
    async fn events(&self, id: u32, last: LastEventId) -> impl EventStream {
        stream! {
            yield Event::named("id").id(id).data(last.as_deref().unwrap_or_default());
        }
    }

    #[get("/:id/status", sse, retry = 2000)]
    async fn status(&self, id: u32, updates: Option<Channel<u32>>) -> Json<u32> {
        drop(updates);
        Json(id)
    }

    fn helper(&self) -> u32 {
        1
    }
}

fn main() {
    let _ = Things.helper();
    let _ = App::new().controller(Things).routes();
}
