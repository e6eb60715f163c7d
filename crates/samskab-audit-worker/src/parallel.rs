//! Work over many records on every core. An export of a pool-year reads, checks and writes
//! some 40,000 records, each on its own; on a 2-core machine that work done on both halves at
//! once is most of the difference between an export in 0.8 s and one in 0.5 s. Results come
//! back in the items' order; few items are done on the calling thread.

use std::num::NonZeroUsize;
use std::thread;

/// Below this many items, one thread: a thread costs more than the work it would share.
const AT_LEAST: usize = 2_048;

fn threads_for(items: usize) -> usize {
    if items < AT_LEAST {
        return 1;
    }
    thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .clamp(1, 8)
        .min(items / (AT_LEAST / 2))
        .max(1)
}

fn join<U>(handle: thread::ScopedJoinHandle<'_, U>) -> U {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// `f` of every item, in order.
pub(crate) fn map<T: Send, U: Send>(items: Vec<T>, f: impl Fn(T) -> U + Sync) -> Vec<U> {
    let threads = threads_for(items.len());
    if threads == 1 {
        return items.into_iter().map(f).collect();
    }
    let size = items.len().div_ceil(threads);
    let mut rest = items.into_iter();
    let chunks: Vec<Vec<T>> = (0..threads)
        .map(|_| rest.by_ref().take(size).collect())
        .collect();
    let f = &f;
    thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || chunk.into_iter().map(f).collect::<Vec<U>>()))
            .collect();
        handles.into_iter().flat_map(join).collect()
    })
}

/// `f` of consecutive runs of `items` that together are all of them, in order.
pub(crate) fn chunks<T: Sync, U: Send>(items: &[T], f: impl Fn(&[T]) -> U + Sync) -> Vec<U> {
    let threads = threads_for(items.len());
    if threads == 1 {
        return vec![f(items)];
    }
    let f = &f;
    thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(items.len().div_ceil(threads))
            .map(|chunk| scope.spawn(move || f(chunk)))
            .collect();
        handles.into_iter().map(join).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_for_few_and_for_many() {
        for n in [0, 1, 5, AT_LEAST - 1, AT_LEAST, 10_001] {
            let items: Vec<usize> = (0..n).collect();
            let doubled = map(items.clone(), |i| 2 * i);
            assert_eq!(doubled, (0..n).map(|i| 2 * i).collect::<Vec<_>>());
            let runs = chunks(&items, <[usize]>::to_vec);
            assert_eq!(runs.concat(), items);
        }
    }
}
