//! A type stand-in for autoref method lookup: the generated code asks
//! `(&Probe::<T>::new()).method()`, and the compiler picks the impl on
//! `Probe<T>` when `T` has a trait, the one on `&Probe<T>` otherwise. Mounting
//! (what an argument needs) and OpenAPI (what it documents) both use it.

/// A handler argument's type, probed for what it needs from the app when the
/// route is mounted: an [`Extract`](crate::extract::Extract) type declares it
/// (`RequireByExtract`), any other argument (a chain value) needs nothing
/// (`RequireNothing`). Method lookup on `&Probe<T>` tries the first before
/// the second, so no specialization is needed.
pub struct Probe<T>(std::marker::PhantomData<T>);

impl<T> Probe<T> {
    /// A probe for `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}
