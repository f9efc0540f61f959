// SPDX-License-Identifier: MIT
//! Contexts and their objects across threads: they move (`Send`), and
//! objects of one context used on several threads take turns on its lock,
//! so results and error messages are those of one thread at a time.

use std::thread;

use sgad::{Checkpoint, Context, ContextLock, Dataset, Error, ImageShape, Model, Preset, Status,
           Trainer};

/// Compiles only for `Send` types: the static half of the tests.
fn assert_send<T: Send>() {}

#[test]
fn contexts_and_their_objects_are_send() {
    assert_send::<Context>();
    assert_send::<Trainer>();
    assert_send::<Checkpoint>();
    assert_send::<Dataset>();
    assert_send::<Error>();
    // ContextLock is neither (a held mutex stays on its thread): its doc
    // holds the compile_fail check, as Context's, Trainer's, Checkpoint's
    // and Dataset's hold the ones for Sync.
    let _ = std::mem::size_of::<ContextLock<'static>>();
}

fn preset() -> Preset {
    Preset::new(Model::Sgad, ImageShape::Gray28).with_steps(2)
}

/// A seeded trainer in `ctx` (whose seed fixes the weights).
fn trainer_in(ctx: &Context, seed: u64) -> Trainer {
    let mut t = Trainer::new(ctx, preset()).unwrap();
    t.set_seed(seed).unwrap();
    t
}

fn seeded_context() -> Context {
    let ctx = Context::new().unwrap();
    ctx.set_seed(3).unwrap();
    ctx
}

/// n images in [0, 1], different for each salt.
fn batch(n: usize, salt: u32) -> Vec<f32> {
    (0..n * 784).map(|i| ((i as u32).wrapping_mul(2654435761) ^ salt) % 1000)
        .map(|v| v as f32 / 999.0)
        .collect()
}

#[test]
fn a_trainer_moves_to_a_worker_thread_trains_there_and_comes_back() {
    let reference = {
        let mut t = trainer_in(&seeded_context(), 5);
        t.step(&batch(4, 0)).unwrap();
        (t.stats().unwrap(), t.sample(3, 9).unwrap())
    };
    let ctx = seeded_context();
    let trainer = trainer_in(&ctx, 5);
    drop(ctx); // the trainer's clone keeps the context alive on the worker
    let worker = thread::spawn(move || {
        let mut trainer = trainer;
        trainer.step(&batch(4, 0)).unwrap();
        trainer
    });
    let mut trainer = worker.join().unwrap();
    assert_eq!(trainer.iterations(), 1);
    // Bitwise what the same calls give on one thread.
    assert_eq!((trainer.stats().unwrap(), trainer.sample(3, 9).unwrap()), reference);
    trainer.step(&batch(4, 1)).unwrap();
    assert_eq!(trainer.iterations(), 2);
}

#[test]
fn trainers_of_one_context_on_two_threads_take_turns() {
    // Two trainers of one context, each stepped on its own thread at once,
    // end bitwise as when they are stepped one after the other.
    let run = |parallel: bool| -> Vec<Vec<f32>> {
        let ctx = seeded_context();
        let trainers = [trainer_in(&ctx, 5), trainer_in(&ctx, 6)];
        let work = |mut t: Trainer, salt: u32| {
            for i in 0..3 {
                t.step(&batch(2, salt + i)).unwrap();
            }
            t
        };
        let [a, b] = trainers;
        let done = if parallel {
            let (a, b) = (thread::spawn(move || work(a, 0)), thread::spawn(move || work(b, 10)));
            [a.join().unwrap(), b.join().unwrap()]
        } else {
            [work(a, 0), work(b, 10)]
        };
        done.into_iter().map(|mut t| t.sample(2, 4).unwrap()).collect()
    };
    assert_eq!(run(true), run(false));
}

#[test]
fn each_thread_reads_the_message_of_its_own_failed_call() {
    // The context keeps one last-error text; a thread reads it under the
    // same lock as its call, so another thread's failure cannot show up.
    let ctx = Context::new().unwrap();
    let threads_ctx = ctx.clone();
    let setter = thread::spawn(move || {
        for _ in 0..200 {
            let e = threads_ctx.set_threads(0).unwrap_err();
            assert_eq!(e.status(), Status::InvalidArg);
            assert!(e.message().starts_with("sgad_ctx_set_threads"), "{e}");
        }
    });
    for _ in 0..200 {
        let e = Checkpoint::from_bytes(&ctx, b"not a checkpoint").unwrap_err();
        assert_eq!(e.status(), Status::Format);
        assert!(e.message().contains("checkpoint"), "{e}");
        assert!(!e.message().contains("sgad_ctx_set_threads"), "{e}");
    }
    setter.join().unwrap();
}

#[test]
fn restores_across_two_contexts_in_both_directions_do_not_deadlock() {
    // Thread 1 restores a trainer of A from a checkpoint of B while thread
    // 2 does the reverse: each call holds both locks, taken in one order.
    let (a, b) = (seeded_context(), seeded_context());
    let (ta, tb) = (trainer_in(&a, 1), trainer_in(&b, 2));
    let (ca, cb) = (Checkpoint::from_bytes(&a, &ta.save_to_vec().unwrap()).unwrap(),
                    Checkpoint::from_bytes(&b, &tb.save_to_vec().unwrap()).unwrap());
    let restore = |mut t: Trainer, c: Checkpoint, seed: u64| {
        thread::spawn(move || {
            for _ in 0..20 {
                t.restore(&c).unwrap();
            }
            assert_eq!(t.seed(), seed);
        })
    };
    let one = restore(ta, cb, 2);
    let two = restore(tb, ca, 1);
    one.join().unwrap();
    two.join().unwrap();
}

#[test]
fn the_lock_serves_raw_calls() {
    let ctx = Context::new().unwrap();
    let lock = ctx.lock();
    let status = unsafe { sgad::sys::sgad_ctx_set_threads(lock.raw(), 0) };
    let e = lock.check(status).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArg);
    assert!(e.message().starts_with("sgad_ctx_set_threads"), "{e}");
    assert!(lock.check(sgad::sys::sgad_status::SGAD_OK).is_ok());
    drop(lock);
    assert_eq!(ctx.threads(), 1);
}
