//! A stream written as one `async` block that hands items out through a [`Yielder`].
//!
//! The turn and agent loops borrow the conversation mutably across many awaits (a chat stream,
//! then tool calls, then the next turn); a hand-written state machine for that is long and easy
//! to get wrong, and `async-stream` is not in our dependency tree. The driver future runs only
//! while the consumer polls, and the one-slot channel makes it wait until each item is taken, so
//! dropping the stream drops the driver at an await point (closing its HTTP stream and
//! cancelling its tool call).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::sync::mpsc;

/// Hands items from the driver future to the stream's consumer.
pub(crate) struct Yielder<T> {
    tx: mpsc::Sender<T>,
}

impl<T> Yielder<T> {
    /// Gives `item` to the consumer; returns once the consumer may take it. `false` when the
    /// stream was dropped (the driver should stop).
    pub(crate) async fn emit(&self, item: T) -> bool {
        self.tx.send(item).await.is_ok()
    }

    /// Whether the consumer dropped the stream.
    pub(crate) fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// The stream behind [`generate`].
pub(crate) struct Generated<'a, T> {
    driver: Option<Pin<Box<dyn Future<Output = ()> + Send + 'a>>>,
    rx: mpsc::Receiver<T>,
}

/// A stream of the items `body` emits.
pub(crate) fn generate<'a, T, F, Fut>(body: F) -> Generated<'a, T>
where
    T: Send + 'a,
    F: FnOnce(Yielder<T>) -> Fut,
    Fut: Future<Output = ()> + Send + 'a,
{
    let (tx, rx) = mpsc::channel(1);
    Generated {
        driver: Some(Box::pin(body(Yielder { tx }))),
        rx,
    }
}

impl<T> Stream for Generated<'_, T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        if let Poll::Ready(Some(item)) = this.rx.poll_recv(cx) {
            return Poll::Ready(Some(item));
        }
        if let Some(driver) = this.driver.as_mut()
            && driver.as_mut().poll(cx).is_ready()
        {
            this.driver = None;
        }
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(item)) => Poll::Ready(Some(item)),
            // The driver has finished and dropped its sender: nothing more will come.
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending if this.driver.is_none() => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn yields_in_order_and_ends_when_the_body_returns() {
        let mut log = Vec::new();
        let items: Vec<u32> = generate(|y| async move {
            for i in 0..5 {
                y.emit(i).await;
                tokio::task::yield_now().await;
            }
        })
        .collect()
        .await;
        log.extend(items);
        assert_eq!(log, [0, 1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn the_body_waits_for_the_consumer() {
        let progress = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let seen = progress.clone();
        let mut stream = Box::pin(generate(move |y| async move {
            for i in 0..3 {
                seen.store(i + 1, std::sync::atomic::Ordering::SeqCst);
                y.emit(i).await;
            }
        }));
        assert_eq!(stream.next().await, Some(0));
        // One item fits in the slot, so the body may run one step ahead, never more.
        assert!(progress.load(std::sync::atomic::Ordering::SeqCst) <= 2);
        drop(stream);
    }
}
