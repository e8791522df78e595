//! The second thread a large input is worked on with. It gets the main thread's stack size:
//! parsing, emitting and walking a document recurse as deep as it nests (up to the parser's
//! depth limit), and a spawned thread's default stack of 2 MiB is too small for that in a debug
//! build (the fuzz test found it).
//!
//! Work on many independent items is split in two halves ([`map_halves`],
//! [`try_map_halves`]): a post-renderer runs while Helm waits for it, so the second core is free.

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

/// `f` over `items` (with each item's position), in order; with `parallel`, the second half on
/// a second thread while this one does the first. The first error in item order is returned,
/// as a sequential loop would return it: the first half's before the second's.
pub(crate) fn try_map_halves<'a, T: Sync, R: Send, E: Send>(
    items: &'a [T],
    parallel: bool,
    f: impl Fn(usize, &'a T) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E> {
    // `capacity` lets the first half's vector take the second's without growing again.
    let map = |offset: usize, part: &'a [T], capacity: usize| -> Result<Vec<R>, E> {
        let mut out = Vec::with_capacity(capacity);
        for (i, item) in part.iter().enumerate() {
            out.push(f(offset + i, item)?);
        }
        Ok(out)
    };
    if !parallel || items.len() < 2 {
        return map(0, items, items.len());
    }
    let (first, second) = items.split_at(items.len() / 2);
    std::thread::scope(|scope| {
        let other = spawn(scope, || map(first.len(), second, second.len()));
        let mut out = map(0, first, items.len())?;
        out.extend(join(other)?);
        Ok(out)
    })
}

/// [`try_map_halves`] for an `f` that cannot fail.
pub(crate) fn map_halves<'a, T: Sync, R: Send>(
    items: &'a [T],
    parallel: bool,
    f: impl Fn(usize, &'a T) -> R + Sync,
) -> Vec<R> {
    let Ok(out) = try_map_halves(items, parallel, |i, item| {
        Ok::<R, std::convert::Infallible>(f(i, item))
    });
    out
}
