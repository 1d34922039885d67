use justsse::prelude::*;

struct C;
struct User;
struct Admin;

async fn auth(_: &RequestHead) -> Result<User, HttpError> {
    Ok(User)
}

async fn admin(_: &User) -> Result<Admin, HttpError> {
    Ok(Admin)
}

// `admin` runs before `auth`, whose `User` it borrows.
#[controller("/c")]
impl C {
    #[get("/")]
    #[uses(admin)]
    #[uses(auth)]
    async fn list(&self, _admin: Admin) -> Json<u32> {
        Json(1)
    }
}

fn main() {}
