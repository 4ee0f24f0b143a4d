//! A small work-sharing pool for the kernels a compiled step calls back to back (fused loops,
//! matrix-vector products, elementwise kernels): the calling thread takes parts of the job itself,
//! and the helper threads spin for a while after each job before they sleep. A compiled training
//! step calls several parallel kernels with tens of µs of JavaScript between them; with rayon,
//! whose workers fall asleep within a few µs and whose caller blocks on a latch, each such call paid
//! two thread wake-ups (measured: the logistic regression's 10,000 × 50 matrix-vector product took
//! 102 µs split across two sleeping workers against 77 µs on one thread).
//!
//! Parts are independent and results are placed by part index, so a job's result does not depend
//! on which thread ran which part. A job started from inside a job (or while another thread's job
//! runs) runs serially on the calling thread.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a helper spins for the next job before it sleeps.
const SPIN: Duration = Duration::from_micros(200);
/// Helpers past this many sleep right after a job: on a many-core server a few spinning threads
/// take the next job at once, the rest are woken for it (parts are claimed as threads arrive).
const SPINNERS: usize = 3;

struct Shared {
    /// (generation << 32) | next part to claim.
    claim: AtomicU64,
    parts: AtomicUsize,
    /// The job: a type-erased closure pointer and the function that calls it.
    data: AtomicUsize,
    call: AtomicUsize,
    done: AtomicUsize,
    panicked: AtomicBool,
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
    /// Held by the thread whose job is running.
    busy: Mutex<()>,
    helpers: usize,
}

thread_local! {
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

fn shared() -> &'static Shared {
    static POOL: OnceLock<&'static Shared> = OnceLock::new();
    POOL.get_or_init(|| {
        let helpers = rayon::current_num_threads().saturating_sub(1);
        let s: &'static Shared = Box::leak(Box::new(Shared {
            claim: AtomicU64::new(0),
            parts: AtomicUsize::new(0),
            data: AtomicUsize::new(0),
            call: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            sleepers: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
            busy: Mutex::new(()),
            helpers,
        }));
        for i in 0..helpers {
            std::thread::Builder::new().name(format!("varinf-pool-{i}")).spawn(move || helper(s, i + 1)).expect("varinf: cannot start a pool thread");
        }
        s
    })
}

/// Claims and runs parts of generation `gen` until none is left (`who`: this thread's worker index).
fn work(s: &Shared, gen: u64, who: usize) {
    loop {
        let c = s.claim.load(Acquire);
        if c >> 32 != gen {
            return;
        }
        let k = (c & 0xffff_ffff) as usize;
        if k >= s.parts.load(Acquire) {
            return;
        }
        if s.claim.compare_exchange_weak(c, c + 1, AcqRel, Acquire).is_err() {
            continue;
        }
        // The claim succeeded while part k of this generation was unclaimed, so the job is still
        // running and its pointers are the ones published with this generation.
        let (data, call) = (s.data.load(Acquire), s.call.load(Acquire));
        // SAFETY: `call` is trampoline::<F> for the F that `data` points to (see `for_each_with`).
        let f: fn(usize, usize, usize) = unsafe { std::mem::transmute::<usize, fn(usize, usize, usize)>(call) };
        if catch_unwind(AssertUnwindSafe(|| f(data, who, k))).is_err() {
            s.panicked.store(true, Release);
        }
        s.done.fetch_add(1, AcqRel);
    }
}

fn helper(s: &'static Shared, who: usize) {
    INSIDE.with(|c| c.set(true));
    let spin = if who <= SPINNERS { SPIN } else { Duration::ZERO };
    let mut seen = 0u64;
    loop {
        let start = Instant::now();
        let mut spins = 0u32;
        let gen = loop {
            let g = s.claim.load(Acquire) >> 32;
            if g != seen {
                break g;
            }
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(256) {
                // Let another runnable thread on this core (V8's collector and compiler threads)
                // have it while this one waits.
                std::thread::yield_now();
            }
            if spins.is_multiple_of(256) && start.elapsed() > spin {
                let mut guard = s.lock.lock().unwrap_or_else(|e| e.into_inner());
                s.sleepers.fetch_add(1, SeqCst);
                let g = loop {
                    let g = s.claim.load(SeqCst) >> 32;
                    if g != seen {
                        break g;
                    }
                    guard = s.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
                };
                s.sleepers.fetch_sub(1, SeqCst);
                break g;
            }
            std::hint::spin_loop();
        };
        seen = gen;
        work(s, gen, who);
    }
}

fn trampoline<F: Fn(usize, usize) + Sync>(data: usize, who: usize, i: usize) {
    // SAFETY: `data` is the address of an F that outlives the job (for_each_with waits for every part).
    let f = unsafe { &*(data as *const F) };
    f(who, i)
}

/// The number of threads that may run parts of one job (worker indices are 0..workers()).
pub fn workers() -> usize {
    shared().helpers + 1
}

/// Calls `f(i)` for every i in 0..parts (see `for_each_with`).
pub fn for_each<F: Fn(usize) + Sync>(parts: usize, f: F) {
    for_each_with(parts, |_, i| f(i))
}

/// Calls `f(who, i)` for every i in 0..parts, spread over the calling thread (who = 0) and the
/// helpers (who = 1..workers()), so `who` can index per-thread scratch; returns when all are done.
/// Serial (who = 0) for one part, inside a job, or while another thread's job runs.
pub fn for_each_with<F: Fn(usize, usize) + Sync>(parts: usize, f: F) {
    let serial = |f: &F| (0..parts).for_each(|i| f(0, i));
    if parts <= 1 || parts >= 0xffff_ffff || INSIDE.with(|c| c.get()) {
        return serial(&f);
    }
    let s = shared();
    if s.helpers == 0 {
        return serial(&f);
    }
    let Ok(_busy) = s.busy.try_lock() else {
        return serial(&f);
    };
    let gen = (s.claim.load(Acquire) >> 32) + 1;
    // Close the finished job's claim word first: a helper that read it as (gen − 1, parts) and then
    // read this job's larger part count must not be able to claim with it.
    s.claim.store(((gen - 1) << 32) | 0xffff_ffff, SeqCst);
    s.data.store(&f as *const F as usize, Release);
    s.call.store(trampoline::<F> as fn(usize, usize, usize) as usize, Release);
    s.parts.store(parts, Release);
    s.done.store(0, Release);
    s.panicked.store(false, Release);
    s.claim.store(gen << 32, SeqCst);
    if s.sleepers.load(SeqCst) > 0 {
        let _l = s.lock.lock().unwrap_or_else(|e| e.into_inner());
        s.wake.notify_all();
    }
    INSIDE.with(|c| c.set(true));
    work(s, gen, 0);
    while s.done.load(Acquire) < parts {
        std::hint::spin_loop();
    }
    INSIDE.with(|c| c.set(false));
    if s.panicked.load(Acquire) {
        panic!("varinf: a pool task panicked");
    }
}

/// `f(start, chunk)` over the chunks of `chunk` elements (the last one shorter) covering `out`,
/// one part each (see `for_each`).
pub fn chunks_mut<T, F: Fn(usize, &mut [T]) + Sync>(out: &mut [T], chunk: usize, f: F) {
    let n = out.len();
    let p = crate::par::SendPtr(out.as_mut_ptr());
    for_each(n.div_ceil(chunk.max(1)), |t| {
        let lo = t * chunk;
        // SAFETY: the chunks are disjoint and `out` outlives the job.
        f(lo, unsafe { std::slice::from_raw_parts_mut(p.get().add(lo), chunk.min(n - lo)) })
    });
}

/// `f(i)` for i in 0..parts (see `for_each`), collected in part order.
pub fn map<R: Send, F: Fn(usize) -> R + Sync>(parts: usize, f: F) -> Vec<R> {
    let mut out: Vec<Option<R>> = (0..parts).map(|_| None).collect();
    let p = crate::par::SendPtr(out.as_mut_ptr());
    for_each(parts, |i| {
        // SAFETY: each part writes its own slot, and `out` outlives the job.
        unsafe { *p.get().add(i) = Some(f(i)) };
    });
    out.into_iter().map(|r| r.expect("every part ran")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_runs_once_in_order_of_results() {
        for parts in [0, 1, 2, 7, 64] {
            let hits: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
            let got = map(parts, |i| {
                hits[i].fetch_add(1, SeqCst);
                // A nested job runs serially inside.
                map(3, |j| i * 10 + j)
            });
            assert!(hits.iter().all(|h| h.load(SeqCst) == 1));
            for (i, v) in got.iter().enumerate() {
                assert_eq!(v, &vec![i * 10, i * 10 + 1, i * 10 + 2]);
            }
        }
    }

    #[test]
    fn back_to_back_jobs_of_changing_sizes_run_each_part_once() {
        // A small job after a larger one (and the reverse), thousands of times: a helper that saw
        // the previous job finished must not claim a part of the next with a stale claim word.
        let hits: Vec<AtomicUsize> = (0..64).map(|_| AtomicUsize::new(0)).collect();
        for round in 0..4000 {
            let parts = if round % 2 == 0 { 2 } else { 64 };
            for_each(parts, |i| {
                hits[i].fetch_add(1, SeqCst);
            });
        }
        assert_eq!(hits[0].load(SeqCst), 4000);
        assert_eq!(hits[1].load(SeqCst), 4000);
        assert!(hits[2..].iter().all(|h| h.load(SeqCst) == 2000));
    }

    #[test]
    fn jobs_after_the_helpers_slept_still_run() {
        let total = AtomicUsize::new(0);
        for_each(4, |i| {
            total.fetch_add(i, SeqCst);
        });
        std::thread::sleep(SPIN * 3);
        for_each(4, |i| {
            total.fetch_add(i, SeqCst);
        });
        assert_eq!(total.load(SeqCst), 12);
    }
}
