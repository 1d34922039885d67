//! Application state: values given to [`App::state`](crate::App::state), shared by
//! every request, looked up by type. Handlers take them as
//! [`State`](crate::State) arguments.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use justsse_http::HttpError;

/// The state values of an application, one per type.
#[derive(Default)]
pub struct AppState {
    values: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("values", &self.values.len())
            .finish()
    }
}

impl AppState {
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.values.insert(TypeId::of::<T>(), Arc::new(value));
    }

    pub(crate) fn contains<T: 'static>(&self) -> bool {
        self.values.contains_key(&TypeId::of::<T>())
    }

    /// The value of type `T`, if the application was given one.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.values.get(&TypeId::of::<T>())?.downcast_ref()
    }

    pub(crate) fn get_arc<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.values.get(&TypeId::of::<T>())?.clone().downcast().ok()
    }

    /// The value of type `T`, or the 500 a route that needs it answers. Mounting
    /// checks every route's needs, so this only fails for hand-written code.
    pub(crate) fn require<T: Send + Sync + 'static>(&self) -> Result<&T, HttpError> {
        self.get().ok_or_else(|| missing::<T>())
    }
}

pub(crate) fn missing<T>() -> HttpError {
    HttpError::internal(format!(
        "no app state of type `{}`; add it with App::state",
        std::any::type_name::<T>()
    ))
}
