//! The second thread a large input is worked on with. It gets the main thread's stack size:
//! parsing, emitting and walking a document recurse as deep as it nests (up to the parser's
//! depth limit), and a spawned thread's default stack of 2 MiB is too small for that in a debug
//! build (the fuzz test found it).

use std::thread::{Builder, Scope, ScopedJoinHandle};

/// What Linux gives a main thread.
const STACK_SIZE: usize = 8 << 20;

/// Starts `f` on a new thread of `scope`.
pub(crate) fn spawn<'s, T: Send + 's>(
    scope: &'s Scope<'s, '_>,
    f: impl FnOnce() -> T + Send + 's,
) -> ScopedJoinHandle<'s, T> {
    Builder::new()
        .stack_size(STACK_SIZE)
        .spawn_scoped(scope, f)
        .expect("failed to start a thread")
}

/// Waits for a thread's result; its panic, if any, goes on here.
pub(crate) fn join<T>(handle: ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
