//! Parallel helpers: split work over the kernel pool (pool.rs) only when there is enough of it to
//! pay for the fork (the machine this targets has two cores; a fork costs a few microseconds).

/// Element count above which cheap elementwise kernels (add, mul, copies) go parallel.
/// Below it the operands sit in cache and one core keeps up with it (measured: 1M f32 adds ran
/// 159 µs on one thread, 231 µs on two; 8M ran 3.9 ms on one, 2.5 ms on two).
pub const CHEAP_MIN: usize = 1 << 21;
/// Element count above which costly elementwise kernels (exp, lgamma, ...) go parallel.
pub const COSTLY_MIN: usize = 1 << 12;

/// Calls `f(start, chunk)` over disjoint chunks of `out` covering it, in parallel when `out`
/// holds at least `min` elements.
pub fn chunks<T: Send>(out: &mut [T], min: usize, f: impl Fn(usize, &mut [T]) + Sync + Send) {
    let n = out.len();
    let threads = rayon::current_num_threads();
    if n < min || threads < 2 {
        f(0, out);
        return;
    }
    // A few chunks per thread so uneven cores still balance.
    let chunk = n.div_ceil(threads * 4).max(min / 4).max(1);
    crate::pool::chunks_mut(out, chunk, f);
}

/// Calls `f(lo, hi)` over disjoint index ranges covering `0..n`, in parallel when `work`
/// (an estimate of the cost in element operations) reaches `min`.
pub fn ranges(n: usize, work: usize, min: usize, f: impl Fn(usize, usize) + Sync + Send) {
    let threads = rayon::current_num_threads();
    if work < min || threads < 2 || n < 2 {
        f(0, n);
        return;
    }
    let parts = (threads * 4).min(n);
    let step = n.div_ceil(parts);
    crate::pool::for_each(parts, |p| {
        let lo = p * step;
        let hi = ((p + 1) * step).min(n);
        if lo < hi {
            f(lo, hi);
        }
    });
}

/// A raw pointer that may cross threads; users guarantee disjoint writes.
pub struct SendPtr<T>(pub *mut T);
// Copy for any T (a derive would ask T: Copy).
impl<T> Clone for SendPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SendPtr<T> {}
// SAFETY: SendPtr is only used to write disjoint index ranges from parallel tasks that all end
// before the owning slice is touched again.
unsafe impl<T> Send for SendPtr<T> {}
// SAFETY: as above; shared access only hands out the address.
unsafe impl<T> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    /// The pointer (a method, so closures capture the whole Send wrapper, not the raw field).
    #[inline(always)]
    pub fn get(self) -> *mut T {
        self.0
    }
}
