use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::dataloader::Loader;
use futures::future::join_all;
use futures::poll;
use tokio::sync::Semaphore;

use super::{Batcher, MAX_IN_FLIGHT, MAX_KEYS};
use crate::testing::until;

/// Squares every key but 13, which it does not know; records each batch it is given.
#[derive(Clone, Default)]
struct Squares {
    batches: Arc<Mutex<Vec<Vec<u32>>>>,
    failing: bool,
    /// Each load waits for a permit here (after recording its batch), when set.
    gate: Option<Arc<Semaphore>>,
    /// A batch holding this key panics.
    panics_on: Option<u32>,
}

impl Squares {
    fn batches(&self) -> Vec<Vec<u32>> {
        self.batches.lock().unwrap().clone()
    }
}

impl Loader<u32> for Squares {
    type Value = u64;
    type Error = String;

    async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u64>, String> {
        self.batches.lock().unwrap().push(keys.to_vec());
        if let Some(gate) = &self.gate {
            gate.acquire().await.unwrap().forget();
        }
        if self.panics_on.is_some_and(|k| keys.contains(&k)) {
            panic!("the loader broke");
        }
        if self.failing {
            return Err("store down".into());
        }
        Ok(keys
            .iter()
            .filter(|&&k| k != 13)
            .map(|&k| (k, u64::from(k) * u64::from(k)))
            .collect())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn siblings_polled_slowly_still_share_one_batch() {
    let loader = Squares::default();
    let batcher = Batcher::new(loader.clone());
    // Each sibling blocks its thread for 2 ms before asking, as a starved debug build might: a
    // pass over 50 of them takes 100 ms, far beyond any timer-based batching window.
    let answers = join_all((0..50).map(|k| {
        let batcher = &batcher;
        async move {
            std::thread::sleep(Duration::from_millis(2));
            batcher.load_one(k).await
        }
    }))
    .await;

    assert_eq!(loader.batches(), vec![(0..50).collect::<Vec<_>>()]);
    for (k, answer) in (0..50u64).zip(answers) {
        let known = k != 13;
        assert_eq!(answer, Ok(known.then_some(k * k)), "key {k}");
    }
}

#[tokio::test]
async fn a_key_asked_twice_is_loaded_once_and_answers_both() {
    let loader = Squares::default();
    let batcher = Batcher::new(loader.clone());
    let answers = join_all([3, 4, 3].map(|k| batcher.load_one(k))).await;

    assert_eq!(answers, vec![Ok(Some(9)), Ok(Some(16)), Ok(Some(9))]);
    assert_eq!(loader.batches(), vec![vec![3, 4]]);
}

#[tokio::test]
async fn a_key_the_loader_does_not_know_answers_none() {
    let batcher = Batcher::new(Squares::default());
    let answers = join_all([12, 13].map(|k| batcher.load_one(k))).await;

    assert_eq!(answers, vec![Ok(Some(144)), Ok(None)]);
}

#[tokio::test]
async fn a_failed_load_fails_every_key_of_its_batch() {
    let loader = Squares {
        failing: true,
        ..Squares::default()
    };
    let batcher = Batcher::new(loader.clone());
    let answers = join_all([1, 2].map(|k| batcher.load_one(k))).await;

    assert_eq!(
        answers,
        vec![Err("store down".into()), Err("store down".into())]
    );
    assert_eq!(loader.batches().len(), 1);
}

#[tokio::test]
async fn a_full_batch_goes_at_once_and_the_rest_start_the_next() {
    let loader = Squares::default();
    let batcher = Batcher::new(loader.clone());
    let keys = 0..(MAX_KEYS as u32 + 5);
    let answers = join_all(keys.clone().map(|k| batcher.load_one(k))).await;

    assert_eq!(answers.len(), keys.len());
    let sizes: Vec<usize> = loader.batches().iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![MAX_KEYS, 5]);
}

#[tokio::test]
async fn loads_asked_one_after_another_are_separate_batches() {
    let loader = Squares::default();
    let batcher = Batcher::new(loader.clone());
    assert_eq!(batcher.load_one(2).await, Ok(Some(4)));
    assert_eq!(batcher.load_one(3).await, Ok(Some(9)));

    assert_eq!(loader.batches(), vec![vec![2], vec![3]]);
}

#[tokio::test]
async fn a_leader_dropped_before_dispatch_does_not_strand_its_batch() {
    let loader = Squares::default();
    let batcher = Batcher::new(loader.clone());
    let mut leader = Box::pin(batcher.load_one(5));
    assert!(poll!(leader.as_mut()).is_pending());
    let mut follower = Box::pin(batcher.load_one(6));
    assert!(poll!(follower.as_mut()).is_pending());

    drop(leader);
    let answer = tokio::time::timeout(Duration::from_secs(5), follower)
        .await
        .expect("the follower was answered");

    assert_eq!(answer, Ok(Some(36)));
    assert_eq!(loader.batches(), vec![vec![5, 6]]);
}

#[tokio::test]
async fn while_every_slot_is_busy_the_next_batch_gathers_concurrent_requests() {
    let gate = Arc::new(Semaphore::new(0));
    let loader = Squares {
        gate: Some(gate.clone()),
        ..Squares::default()
    };
    let batcher = Arc::new(Batcher::new(loader.clone()));
    let ask = |k: u32| {
        let batcher = batcher.clone();
        tokio::spawn(async move { batcher.load_one(k).await })
    };
    let mut asked = Vec::new();
    for k in 0..MAX_IN_FLIGHT as u32 {
        asked.push(ask(k));
        until("the load to start", Duration::from_secs(5), async || {
            loader.batches().len() == k as usize + 1
        })
        .await;
    }
    // Three requests, one after another, while both slots are taken: they wait together.
    for k in [10, 11, 12] {
        asked.push(ask(k));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(loader.batches().len(), MAX_IN_FLIGHT);

    gate.add_permits(MAX_IN_FLIGHT + 1);
    for request in asked {
        request.await.unwrap().unwrap();
    }
    let mut expected: Vec<Vec<u32>> = (0..MAX_IN_FLIGHT as u32).map(|k| vec![k]).collect();
    expected.push(vec![10, 11, 12]);
    assert_eq!(loader.batches(), expected);
}

#[tokio::test]
async fn a_panicking_load_frees_its_slot() {
    let loader = Squares {
        panics_on: Some(99),
        ..Squares::default()
    };
    let batcher = Arc::new(Batcher::new(loader.clone()));
    for _ in 0..=MAX_IN_FLIGHT {
        let batcher = batcher.clone();
        let asked = tokio::spawn(async move { batcher.load_one(99).await });
        assert!(asked.await.is_err(), "the asker sees the panic");
    }

    let answer = tokio::time::timeout(Duration::from_secs(5), batcher.load_one(7))
        .await
        .expect("a load slot was free");
    assert_eq!(answer, Ok(Some(49)));
}
