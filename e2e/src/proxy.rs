//! A TCP relay in front of a real server that a test can cut and restore: a network outage of
//! that server for the clients pointed at the relay, while clients pointed at the server
//! directly (and the server itself, with its data) carry on.
//!
//! Cut: every relayed connection is closed and new ones are accepted and closed at once (what a
//! client sees of a server that went away). Restored: connections are relayed again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Relay {
    port: u16,
    cut: Arc<AtomicBool>,
    /// Bumped on every cut: relayed connections watch it and close.
    generation: watch::Sender<u64>,
    accept: tokio::task::JoinHandle<()>,
}

impl Relay {
    /// Relays `127.0.0.1:<port>` to `upstream` (`host:port`), on the current runtime.
    pub async fn start(upstream: &str) -> std::io::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let cut = Arc::new(AtomicBool::new(false));
        let (generation, _) = watch::channel(0u64);
        let upstream = upstream.to_owned();
        let accept = tokio::spawn({
            let cut = cut.clone();
            let generation = generation.clone();
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if cut.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let upstream = upstream.clone();
                    let mut closed = generation.subscribe();
                    tokio::spawn(async move {
                        let Ok(mut server) = TcpStream::connect(&upstream).await else {
                            return;
                        };
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                            _ = closed.changed() => {}
                        }
                    });
                }
            }
        });
        Ok(Relay {
            port,
            cut,
            generation,
            accept,
        })
    }

    /// The relay's address for a `redis://` (or any) URL.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Closes every relayed connection and refuses new ones until [`Relay::restore`].
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}
