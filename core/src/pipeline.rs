//! CPU work beside a single writer, on rayon's one pool.
//!
//! Building, loading and hydrating Automerge documents is CPU work independent per record,
//! while writing them is database work that must happen on the one thread holding the write
//! transaction, in order. [`ordered`] runs the first on the pool, a few chunks ahead, and hands
//! each prepared chunk to the writer in the original order, so what is written, and in which
//! order, is exactly what doing it all on one thread writes.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// Prepares `items` in chunks of `chunk` on rayon's pool, at most `ahead` chunks in flight,
/// and hands each prepared chunk to `consume` on the calling thread, in order. Stops at the
/// first error `consume` returns (chunks already being prepared finish and are dropped).
pub(crate) fn ordered<T, U>(
    items: Vec<T>,
    chunk: usize,
    ahead: usize,
    prepare: impl Fn(Vec<T>) -> U + Sync,
    mut consume: impl FnMut(U) -> Result<()>,
) -> Result<()>
where
    T: Send,
    U: Send,
{
    let chunk = chunk.max(1);
    let mut chunks: Vec<Option<Vec<T>>> = Vec::with_capacity(items.len().div_ceil(chunk));
    let mut rest = items.into_iter();
    loop {
        let next: Vec<T> = rest.by_ref().take(chunk).collect();
        if next.is_empty() {
            break;
        }
        chunks.push(Some(next));
    }
    let total = chunks.len();
    let (send, receive) = std::sync::mpsc::channel::<(usize, U)>();
    let prepare = &prepare;
    rayon::in_place_scope(|scope| {
        let mut spawned = 0;
        let mut spawn_next = |chunks: &mut Vec<Option<Vec<T>>>| {
            if spawned >= total {
                return;
            }
            let index = spawned;
            spawned += 1;
            if let Some(items) = chunks[index].take() {
                let send = send.clone();
                scope.spawn(move |_| {
                    // The writer may have stopped early; nobody to tell then.
                    let _ = send.send((index, prepare(items)));
                });
            }
        };
        for _ in 0..ahead.max(1) {
            spawn_next(&mut chunks);
        }
        let mut waiting = BTreeMap::new();
        let mut next = 0;
        while next < total {
            let Ok((index, prepared)) = receive.recv() else {
                return Err(Error::Internal("a preparing task stopped".into()));
            };
            waiting.insert(index, prepared);
            while let Some(ready) = waiting.remove(&next) {
                spawn_next(&mut chunks);
                consume(ready)?;
                next += 1;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_reach_the_writer_in_order_whatever_order_they_are_prepared_in() {
        let items: Vec<u32> = (0..1_000).collect();
        let mut seen = Vec::new();
        ordered(
            items,
            7,
            4,
            |chunk| {
                // Later chunks finish first now and then.
                if chunk[0] % 3 == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                chunk.into_iter().map(|n| n * 2).collect::<Vec<_>>()
            },
            |chunk| {
                seen.extend(chunk);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, (0..1_000).map(|n| n * 2).collect::<Vec<_>>());
    }

    #[test]
    fn the_first_refusal_stops_the_writer() {
        let mut written = 0;
        let out = ordered(
            (0..100).collect::<Vec<u32>>(),
            10,
            3,
            |chunk| chunk,
            |chunk| {
                if chunk[0] == 30 {
                    return Err(Error::InvalidInput {
                        field: "test",
                        detail: "refused".into(),
                    });
                }
                written += chunk.len();
                Ok(())
            },
        );
        assert!(out.is_err());
        assert_eq!(written, 30);
    }

    #[test]
    fn nothing_to_prepare_is_nothing_to_write() {
        ordered(Vec::<u8>::new(), 8, 2, |c| c, |_| panic!("nothing")).unwrap();
    }
}
