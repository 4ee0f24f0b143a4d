//! Fused elementwise loops from compiled steps (ts/compile/native-loop.ts): a small register
//! program over blocks of [`BLOCK`] float64 elements, so a loop of several kernels reads and writes
//! memory once, runs the vectorized float64 transcendentals of `fastmath::f64x`, and splits
//! across cores.
//!
//! Program layout (`Int32Array`): `[registers, then 5 words per instruction: op, a, b, c, d]`.
//!
//! | op | meaning |
//! | --- | --- |
//! | 0 `LOAD r, k` | r[j] = arrays[k][i] |
//! | 1 `GATHER r, k, m` | r[j] = arrays[k][arrays[m][i]] (m an Int32Array; an index outside k gives NaN) |
//! | 2 `SCALAR r, s` | r[j] = scalars[s] |
//! | 3 `UNARY r, x, code` | code as the `unary` kernel's (UNARY_OPS order) |
//! | 4 `BINARY r, x, y, code` | 0 add, 1 sub, 2 mul, 3 div, 4 pow, 5 maximum, 6 minimum, 7 equal, 8 notEqual, 9 less, 10 lessEqual, 11 greater, 12 greaterEqual (comparisons give 1 or 0) |
//! | 5 `WHERE r, c, x, y` | r[j] = c[j] != 0 ? x[j] : y[j] |
//! | 6 `CLAMP r, x, s_min, s_max` | as the clamp kernel (NaN passes through) |
//! | 7 `STORE k, x` | arrays[k][i] = x[j] (into an Int32Array as an integer: the compiler stores only exact ones) |
//! | 8 `SUM a, x` | accumulator a += Σ x |
//! | 9 `COPY r, x` | r[j] = x[j] (with the flag below: a cast to float32) |
//! | 10 `BINARY r, x, s, code` | r[j] = x[j] ∘ scalars[s] (codes as op 4) |
//! | 11 `BINARY r, s, x, code` | r[j] = scalars[s] ∘ x[j] |
//! | 12 `BROADCAST r, k, q, p` | r[j] = arrays[k][⌊i / q⌋ mod p] (a broadcast operand, read in runs) |
//! | 13 `SCATTER k, m, x` | arrays[k][arrays[m][i]] += x[j] (m an Int32Array; needs the serial flag) |
//! | 14 `AXPBY r, x, y, s` | r[j] = x[j]·scalars[s] + y[j]·scalars[s+1] |
//! | 15 `ADAM_DIR r, x, y, s` | r[j] = x[j]·scalars[s] / (√(y[j]·scalars[s+1]) + scalars[s+2]) (Adam's direction) |
//!
//! A header with bit 29 set runs the program on one core, in index order (a scatter's adds).
//! A header with bit 30 set runs the program on float32 registers (the compiler sets it when
//! every value and every array the loop reads is float32, or 0/1 int32).
//! An op word with bit 4 set (op | 16) rounds the instruction's output to float32 afterwards: the
//! js reference computes float32 kernels in double and rounds each result, and so does this.
//! Ops 14 and 15 stand for several kernels in one pass (the compiler fuses them when the partial
//! results have no other reader); with the flag they round every partial result too, so they give
//! the unfused instructions' values exactly.
//! Float32Array inputs load exactly; stores into one round (the compiler stores only rounded values).
//! j is i's place in its block and i runs over 0..n. An instruction's output register differs from
//! its inputs (checked). Sums are deterministic: the range is cut into pieces of [`PIECE`]
//! elements whatever the thread count, each block is summed with [`LANES`] partial sums, and the
//! pieces' sums are added in order.

use crate::elementwise::{js_pow, unary_float};
use crate::fastmath;
use crate::par::SendPtr;
use crate::{err, Arr, Elem, Kind};
use napi::Result;
use napi_derive::napi;

/// Elements per register.
const BLOCK: usize = 128;
/// Elements per unit of parallel work (and of the fixed summation order).
const PIECE: usize = 2048;
/// Work (elements × [`cost`] units of ~0.12 ns) from which a loop splits across cores: about
/// 100 µs on one core, past the cost of waking rayon's sleeping threads (measured before the
/// spinning pool of pool.rs, which forks for less; not re-measured since).
const PAR_WORK: usize = 800_000;

/// Relative cost per element of a program: 1 for a load, store or arithmetic instruction, 40 for a
/// transcendental (exp, log, softplus, … ~5 ns in double) or a pow.
fn cost(prog: &[Ins]) -> usize {
    prog.iter()
        .map(|i| match i.op {
            3 if (7..=15).contains(&i.c) || i.c >= 19 => 40,
            4 | 10 | 11 if i.d == 4 => 40,
            14 => 3,
            15 => 5,
            _ => 1,
        })
        .sum()
}
/// Partial sums per block sum.
const LANES: usize = 8;

/// A typed array's data and length, shareable across the pool's threads.
#[derive(Clone, Copy)]
enum Src {
    F64(SendPtr<f64>, usize),
    F32(SendPtr<f32>, usize),
    I32(SendPtr<i32>, usize),
}

/// The op-word bit that rounds an instruction's output to float32.
const ROUND: i32 = 16;
/// The header bit that runs the program on float32 registers.
const F32_REGS: i32 = 1 << 30;
/// The header bit that keeps the program on one core.
const SERIAL: i32 = 1 << 29;

/// What an instruction touches: its output register, input registers, arrays read or written at
/// the loop index, other arrays (gather sources) and scalars (at most three of each, no allocation).
struct Operands {
    dst: Option<usize>,
    ins: Few,
    at_i: Few,
    other: Few,
    scal: Few,
}

/// Up to three operand indices.
#[derive(Clone, Copy)]
struct Few {
    v: [usize; 3],
    n: usize,
}

impl Few {
    fn of(s: &[usize]) -> Few {
        let mut v = [0; 3];
        v[..s.len()].copy_from_slice(s);
        Few { v, n: s.len() }
    }
    fn as_slice(&self) -> &[usize] {
        &self.v[..self.n]
    }
}

impl Operands {
    fn new(dst: Option<usize>, ins: &[usize], at_i: &[usize], other: &[usize], scal: &[usize]) -> Self {
        Operands { dst, ins: Few::of(ins), at_i: Few::of(at_i), other: Few::of(other), scal: Few::of(scal) }
    }
}

#[derive(Clone, Copy)]
struct Ins {
    op: i32,
    round: bool,
    a: usize,
    b: usize,
    c: usize,
    d: usize,
}

/// Checks every operand of `prog` and decodes it: (registers, instructions).
fn decode(prog: &[i32], srcs: &[Src], n: usize, n_scalars: usize, n_acc: usize) -> Result<(usize, Vec<Ins>)> {
    let bad = |what: String, at: usize| err(format!("fusedLoop: instruction {at}: {what}"));
    // The header: the register count, with the F32_REGS and SERIAL flags masked off.
    let regs = match prog.first().map(|&w| w & !(F32_REGS | SERIAL)) {
        Some(r) if r > 0 => r as usize,
        _ => return Err(err("fusedLoop: the program must start with a positive register count".into())),
    };
    let body = &prog[1..];
    if !body.len().is_multiple_of(5) {
        return Err(err(format!("fusedLoop: program length {} is not 1 + 5k", prog.len())));
    }
    let full = |k: usize| match srcs[k] {
        Src::F64(_, l) | Src::F32(_, l) | Src::I32(_, l) => l >= n,
    };
    let mut out = Vec::with_capacity(body.len() / 5);
    for (at, w) in body.chunks_exact(5).enumerate() {
        if w[1..].iter().any(|&v| v < 0) {
            return Err(bad("negative operand".into(), at));
        }
        let i = Ins { op: w[0] & !ROUND, round: w[0] & ROUND != 0, a: w[1] as usize, b: w[2] as usize, c: w[3] as usize, d: w[4] as usize };
        let Operands { dst, ins, at_i, other, scal } = match i.op {
            0 => Operands::new(Some(i.a), &[], &[i.b], &[], &[]),
            1 => Operands::new(Some(i.a), &[], &[i.c], &[i.b], &[]),
            2 => Operands::new(Some(i.a), &[], &[], &[], &[i.b]),
            3 => Operands::new(Some(i.a), &[i.b], &[], &[], &[]),
            4 => Operands::new(Some(i.a), &[i.b, i.c], &[], &[], &[]),
            5 => Operands::new(Some(i.a), &[i.b, i.c, i.d], &[], &[], &[]),
            6 => Operands::new(Some(i.a), &[i.b], &[], &[], &[i.c, i.d]),
            7 => Operands::new(None, &[i.b], &[i.a], &[], &[]),
            8 => Operands::new(None, &[i.b], &[], &[], &[]),
            9 => Operands::new(Some(i.a), &[i.b], &[], &[], &[]),
            10 => Operands::new(Some(i.a), &[i.b], &[], &[], &[i.c]),
            11 => Operands::new(Some(i.a), &[i.c], &[], &[], &[i.b]),
            14 => Operands::new(Some(i.a), &[i.b, i.c], &[], &[], &[i.d, i.d + 1]),
            15 => Operands::new(Some(i.a), &[i.b, i.c], &[], &[], &[i.d, i.d + 1, i.d + 2]),
            13 => {
                if !matches!(srcs.get(i.b), Some(Src::I32(..))) || !matches!(srcs.get(i.a), Some(Src::F64(..) | Src::F32(..))) {
                    return Err(bad("a scatter needs Int32Array indices and a float destination".into(), at));
                }
                Operands::new(None, &[i.c], &[i.b], &[i.a], &[])
            }
            12 => {
                let len = match srcs.get(i.b) {
                    Some(Src::F64(_, l) | Src::F32(_, l) | Src::I32(_, l)) => *l,
                    None => 0,
                };
                if i.c == 0 || i.d == 0 || i.d > len {
                    return Err(bad(format!("broadcast period {} or repeat {} does not fit an array of {len}", i.d, i.c), at));
                }
                Operands::new(Some(i.a), &[], &[], &[i.b], &[])
            }
            op => return Err(bad(format!("unknown op {op}"), at)),
        };
        let (ins, at_i) = (ins.as_slice(), at_i.as_slice());
        let reg_ok = dst.iter().chain(ins).all(|&r| r < regs);
        let arr_ok = at_i.iter().chain(other.as_slice()).all(|&k| k < srcs.len());
        if !reg_ok || !arr_ok || scal.as_slice().iter().any(|&s| s >= n_scalars) || (i.op == 8 && i.a >= n_acc) {
            return Err(bad("operand out of range".into(), at));
        }
        if let Some(d) = dst {
            if ins.contains(&d) {
                return Err(bad("output register is also an input".into(), at));
            }
        } else if i.round {
            return Err(bad("the float32 flag on an instruction without an output register".into(), at));
        }
        if at_i.iter().any(|&k| !full(k)) {
            return Err(bad(format!("an array read or written at every index has fewer than {n} elements"), at));
        }
        if i.op == 1 && !matches!(srcs[i.c], Src::I32(..)) {
            return Err(bad("gather indices must be an Int32Array".into(), at));
        }
        if (i.op == 3 && i.c > 25) || ((i.op == 4 || i.op == 10 || i.op == 11) && i.d > 12) {
            return Err(bad("unknown operation code".into(), at));
        }
        out.push(i);
    }
    Ok((regs, out))
}

/// A register element: float64, or float32 for loops whose values are all float32 (the compiler
/// says so in the program header). Float32 arithmetic gives the js kernels' results exactly: for
/// addition, subtraction, multiplication, division and square root, rounding the double result to
/// float32 equals the float32 operation (double has more than 2·24 + 2 bits), and comparisons,
/// selections and copies are exact.
trait Reg: Elem + std::ops::Add<Output = Self> + std::ops::Sub<Output = Self> + std::ops::Mul<Output = Self> + std::ops::Div<Output = Self> + std::ops::Neg<Output = Self> {
    const ZERO: Self;
    const ONE: Self;
    fn sqrt(self) -> Self;
    fn floor(self) -> Self;
    fn ceil(self) -> Self;
    fn abs(self) -> Self;
    fn is_nan(self) -> bool;
    /// Rounds to float32 (the identity on float32 registers).
    fn round32(self) -> Self;
    /// The vectorized fast path of a transcendental, if there is one for this type.
    fn fast(op: fastmath::Op, x: &[Self], o: &mut [Self]) -> bool;
}

macro_rules! reg_impl {
    ($t:ty, |$x:ident| $round:expr, |$op:ident, $xs:ident, $os:ident| $fast:expr) => {
        impl Reg for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn floor(self) -> Self {
                <$t>::floor(self)
            }
            #[inline(always)]
            fn ceil(self) -> Self {
                <$t>::ceil(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn round32(self) -> Self {
                let $x = self;
                $round
            }
            #[inline(always)]
            fn fast($op: fastmath::Op, $xs: &[Self], $os: &mut [Self]) -> bool {
                $fast
            }
        }
    };
}
reg_impl!(f64, |x| x as f32 as f64, |op, xs, os| fastmath::f64x::has(op) && {
    fastmath::f64x::map(op, xs, os);
    true
});
reg_impl!(f32, |x| x, |op, xs, os| {
    fastmath::map(op, xs, os);
    true
});

/// Element type of a typed array, converted to a register (exactly: the compiler loads float64
/// arrays only into float64 registers, and int32 ones hold exact small integers).
trait Widen: Copy {
    fn to<R: Reg>(self) -> R;
}
impl Widen for f64 {
    #[inline(always)]
    fn to<R: Reg>(self) -> R {
        R::from_f64(self)
    }
}
impl Widen for f32 {
    #[inline(always)]
    fn to<R: Reg>(self) -> R {
        R::from_f64(self as f64)
    }
}
impl Widen for i32 {
    #[inline(always)]
    fn to<R: Reg>(self) -> R {
        R::from_f64(self as f64)
    }
}

#[inline(always)]
fn widen<T: Widen, R: Reg>(s: &[T], d: &mut [R]) {
    for (v, &w) in d.iter_mut().zip(s) {
        *v = w.to();
    }
}

/// `d` from `s`: element by element when they have the same length, else s[0] repeated.
#[inline(always)]
fn spread<T: Widen, R: Reg>(s: &[T], d: &mut [R]) {
    if s.len() == d.len() {
        widen(s, d);
    } else {
        d.fill(s[0].to());
    }
}

/// d[j] = s[idx[j]], NaN for an index outside s.
#[inline(always)]
fn gather<T: Widen, R: Reg>(s: &[T], idx: &[i32], d: &mut [R]) {
    for (v, &k) in d.iter_mut().zip(idx) {
        *v = s.get(k as usize).map_or(R::from_f64(f64::NAN), |w| w.to());
    }
}

/// `Σ x` in float64 with [`LANES`] partial sums (a fixed order).
#[inline(always)]
fn block_sum<R: Reg>(x: &[R]) -> f64 {
    let mut acc = [0.0; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for l in 0..LANES {
            acc[l] += c[l].to_f64();
        }
    }
    let mut tail = 0.0;
    for &v in rest {
        tail += v.to_f64();
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// `v`, rounded to float32 when `R` (float64 registers holding float32 values).
#[inline(always)]
fn rd<const R: bool, T: Reg>(v: T) -> T {
    if R {
        v.round32()
    } else {
        v
    }
}

/// An operand of a binary op: a register's block or a scalar (repeated).
trait Operand<T: Reg>: Copy {
    type It: Iterator<Item = T>;
    fn it(self) -> Self::It;
}
impl<'a, T: Reg> Operand<T> for &'a [T] {
    type It = std::iter::Copied<std::slice::Iter<'a, T>>;
    #[inline(always)]
    fn it(self) -> Self::It {
        self.iter().copied()
    }
}
impl<T: Reg> Operand<T> for T {
    type It = std::iter::Repeat<T>;
    #[inline(always)]
    fn it(self) -> Self::It {
        std::iter::repeat(self)
    }
}

/// Binary op `code` over a block, each result rounded to float32 when `R` (in the same pass).
#[inline(always)]
fn binary<const R: bool, T: Reg, X: Operand<T>, Y: Operand<T>>(code: usize, x: X, y: Y, o: &mut [T]) {
    macro_rules! each {
        (|$a:ident, $b:ident| $e:expr) => {
            for ((d, $a), $b) in o.iter_mut().zip(x.it()).zip(y.it()) {
                *d = rd::<R, T>($e);
            }
        };
    }
    let t = |c: bool| if c { T::ONE } else { T::ZERO };
    match code {
        0 => each!(|a, b| a + b),
        1 => each!(|a, b| a - b),
        2 => each!(|a, b| a * b),
        3 => each!(|a, b| a / b),
        4 => each!(|a, b| T::from_f64(js_pow(a.to_f64(), b.to_f64()))),
        5 => each!(|a, b| if a > b || a.is_nan() { a } else { b }),
        6 => each!(|a, b| if a < b || a.is_nan() { a } else { b }),
        7 => each!(|a, b| t(a == b)),
        8 => each!(|a, b| t(a != b)),
        9 => each!(|a, b| t(a < b)),
        10 => each!(|a, b| t(a <= b)),
        11 => each!(|a, b| t(a > b)),
        _ => each!(|a, b| t(a >= b)),
    }
}

/// [`binary`], rounding to float32 or not.
#[inline(always)]
fn binary_any<T: Reg, X: Operand<T>, Y: Operand<T>>(round: bool, code: usize, x: X, y: Y, o: &mut [T]) {
    if round {
        binary::<true, T, X, Y>(code, x, y, o)
    } else {
        binary::<false, T, X, Y>(code, x, y, o)
    }
}

/// Unary op `code` over a block: the cheap ops inline (vectorized in the AVX2 clone), the fast
/// transcendentals of `fastmath` (float32 ones for float32 results, as the eager float32
/// kernels), the rest through the `unary` kernel's functions.
#[inline(always)]
fn unary_block<const R: bool, T: Reg>(code: u32, x: &[T], o: &mut [T]) {
    macro_rules! each {
        (|$v:ident| $e:expr) => {
            for (d, &$v) in o.iter_mut().zip(x) {
                *d = rd::<R, T>($e);
            }
        };
    }
    match code {
        0 => each!(|v| -v),
        1 => each!(|v| v.abs()),
        3 => each!(|v| T::ONE / v),
        4 => each!(|v| v * v),
        5 => each!(|v| v.sqrt()),
        6 => each!(|v| T::ONE / v.sqrt()),
        16 => each!(|v| if v > T::ZERO { v } else { T::ZERO }),
        17 => each!(|v| v.floor()),
        18 => each!(|v| v.ceil()),
        _ => {
            match fastmath::Op::from_code(code) {
                // A float32 result in float64 registers: the float32 fast path.
                Some(f) if R => {
                    let mut xs = [0f32; BLOCK];
                    let mut os = [0f32; BLOCK];
                    let m = x.len();
                    for (d, &v) in xs.iter_mut().zip(x) {
                        *d = v.to_f64() as f32;
                    }
                    fastmath::map(f, &xs[..m], &mut os[..m]);
                    for (d, &v) in o.iter_mut().zip(&os[..m]) {
                        *d = T::from_f64(v as f64);
                    }
                    return;
                }
                Some(f) if T::fast(f, x, o) => {}
                // Codes were checked in `decode`; one block is below every parallel threshold.
                _ => unary_float(code, x, o).expect("unary code checked in decode"),
            }
            if R {
                for v in o.iter_mut() {
                    *v = v.round32();
                }
            }
        }
    }
}

/// `o = x·a + y·b`, each product and the sum rounded to float32 when `R` (as three kernels would).
#[inline(always)]
fn axpby<const R: bool, T: Reg>(x: &[T], y: &[T], a: T, b: T, o: &mut [T]) {
    for ((d, &u), &v) in o.iter_mut().zip(x).zip(y) {
        *d = rd::<R, T>(rd::<R, T>(u * a) + rd::<R, T>(v * b));
    }
}

/// `o = x·s₀ / (√(y·s₁) + s₂)`, each partial result rounded to float32 when `R` (as five kernels would).
#[inline(always)]
fn adam_dir<const R: bool, T: Reg>(x: &[T], y: &[T], s: [T; 3], o: &mut [T]) {
    for ((d, &u), &v) in o.iter_mut().zip(x).zip(y) {
        let den = rd::<R, T>(rd::<R, T>(rd::<R, T>(v * s[1]).sqrt()) + s[2]);
        *d = rd::<R, T>(rd::<R, T>(u * s[0]) / den);
    }
}

/// Register file: one block per register, with views of an input and of a distinct output.
struct Regs<T>(Vec<T>);

impl<T: Reg> Regs<T> {
    fn get(&self, r: usize, m: usize) -> &[T] {
        &self.0[r * BLOCK..r * BLOCK + m]
    }
    fn out(&mut self, r: usize, m: usize) -> &mut [T] {
        &mut self.0[r * BLOCK..r * BLOCK + m]
    }
    /// Input registers `xs` (read) and output register `o` (written): `o` differs from every x
    /// (checked in `decode`), so the views are disjoint.
    fn io<const K: usize>(&mut self, xs: [usize; K], o: usize, m: usize) -> ([&[T]; K], &mut [T]) {
        let base = self.0.as_mut_ptr();
        // SAFETY: every register lies inside the file (checked in `decode`) and `o` differs from
        // each x, so the mutable view overlaps none of the shared ones.
        unsafe {
            let ins = xs.map(|x| std::slice::from_raw_parts(base.add(x * BLOCK) as *const T, m));
            (ins, std::slice::from_raw_parts_mut(base.add(o * BLOCK), m))
        }
    }
}

/// Runs the program over elements lo..hi, adding into `acc` (one slot per accumulator), on the
/// AVX2/FMA clone where the CPU has it (FMA is never contracted into: results are the same).
fn run_range<T: Reg>(regs: &mut Regs<T>, prog: &[Ins], srcs: &[Src], scalars: &[T], scalars64: &[f64], lo: usize, hi: usize, acc: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        // SAFETY: the features were just detected.
        return unsafe { run_range_avx2(regs, prog, srcs, scalars, scalars64, lo, hi, acc) };
    }
    run_range_body(regs, prog, srcs, scalars, scalars64, lo, hi, acc)
}

/// [`run_range_body`] compiled with AVX2 and FMA.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_range_avx2<T: Reg>(regs: &mut Regs<T>, prog: &[Ins], srcs: &[Src], scalars: &[T], scalars64: &[f64], lo: usize, hi: usize, acc: &mut [f64]) {
    run_range_body(regs, prog, srcs, scalars, scalars64, lo, hi, acc)
}

/// The interpreter. `scalars` are the scalars as registers, `scalars64` as given (clamp bounds
/// compare in double, as the js kernel does).
#[inline(always)]
fn run_range_body<T: Reg>(regs: &mut Regs<T>, prog: &[Ins], srcs: &[Src], scalars: &[T], scalars64: &[f64], lo: usize, hi: usize, acc: &mut [f64]) {
    let mut off = lo;
    while off < hi {
        let m = BLOCK.min(hi - off);
        for ins in prog {
            match ins.op {
                0 => {
                    let d = regs.out(ins.a, m);
                    // SAFETY: arrays read at i hold at least n ≥ hi elements (checked in `decode`).
                    match srcs[ins.b] {
                        Src::F64(p, _) => widen(unsafe { std::slice::from_raw_parts(p.get().add(off), m) }, d),
                        Src::F32(p, _) => widen(unsafe { std::slice::from_raw_parts(p.get().add(off), m) }, d),
                        Src::I32(p, _) => widen(unsafe { std::slice::from_raw_parts(p.get().add(off), m) }, d),
                    }
                }
                12 => {
                    let d = regs.out(ins.a, m);
                    let (q, p) = (ins.c, ins.d);
                    let (mut j, mut i) = (0, off);
                    while j < m {
                        let idx = (i / q) % p;
                        // q = 1: a run of consecutive elements; q > 1: one element repeated.
                        let len = if q == 1 { (p - idx).min(m - j) } else { (q - i % q).min(m - j) };
                        let seg = &mut d[j..j + len];
                        let span = if q == 1 { len } else { 1 };
                        // SAFETY: idx + span ≤ p ≤ the array's length (checked in `decode`).
                        match srcs[ins.b] {
                            Src::F64(a, _) => spread(unsafe { std::slice::from_raw_parts(a.get().add(idx), span) }, seg),
                            Src::F32(a, _) => spread(unsafe { std::slice::from_raw_parts(a.get().add(idx), span) }, seg),
                            Src::I32(a, _) => spread(unsafe { std::slice::from_raw_parts(a.get().add(idx), span) }, seg),
                        }
                        j += len;
                        i += len;
                    }
                }
                1 => {
                    let Src::I32(ip, _) = srcs[ins.c] else { unreachable!("checked in decode") };
                    // SAFETY: index arrays are read at i and hold at least n ≥ hi elements.
                    let idx = unsafe { std::slice::from_raw_parts(ip.get().add(off), m) };
                    let d = regs.out(ins.a, m);
                    // SAFETY: the source holds `len` elements; `gather` checks k against it.
                    match srcs[ins.b] {
                        Src::F64(p, len) => gather(unsafe { std::slice::from_raw_parts(p.get(), len) }, idx, d),
                        Src::F32(p, len) => gather(unsafe { std::slice::from_raw_parts(p.get(), len) }, idx, d),
                        Src::I32(p, len) => gather(unsafe { std::slice::from_raw_parts(p.get(), len) }, idx, d),
                    }
                }
                2 => regs.out(ins.a, m).fill(scalars[ins.b]),
                3 => {
                    let ([x], o) = regs.io([ins.b], ins.a, m);
                    if ins.round {
                        unary_block::<true, T>(ins.c as u32, x, o);
                    } else {
                        unary_block::<false, T>(ins.c as u32, x, o);
                    }
                    continue;
                }
                4 => {
                    let ([x, y], o) = regs.io([ins.b, ins.c], ins.a, m);
                    binary_any(ins.round, ins.d, x, y, o);
                    continue;
                }
                10 => {
                    let ([x], o) = regs.io([ins.b], ins.a, m);
                    binary_any(ins.round, ins.d, x, scalars[ins.c], o);
                    continue;
                }
                11 => {
                    let ([y], o) = regs.io([ins.c], ins.a, m);
                    binary_any(ins.round, ins.d, scalars[ins.b], y, o);
                    continue;
                }
                14 => {
                    let ([x, y], o) = regs.io([ins.b, ins.c], ins.a, m);
                    let (sa, sb) = (scalars[ins.d], scalars[ins.d + 1]);
                    if ins.round {
                        axpby::<true, T>(x, y, sa, sb, o);
                    } else {
                        axpby::<false, T>(x, y, sa, sb, o);
                    }
                    continue;
                }
                15 => {
                    let ([x, y], o) = regs.io([ins.b, ins.c], ins.a, m);
                    let s = [scalars[ins.d], scalars[ins.d + 1], scalars[ins.d + 2]];
                    if ins.round {
                        adam_dir::<true, T>(x, y, s, o);
                    } else {
                        adam_dir::<false, T>(x, y, s, o);
                    }
                    continue;
                }
                5 => {
                    let ([c, x, y], o) = regs.io([ins.b, ins.c, ins.d], ins.a, m);
                    // Both operands loaded, then selected: a vector blend (indexing in the branch
                    // compiled to a scalar select of addresses).
                    for ((d, (&cv, &xv)), &yv) in o.iter_mut().zip(c.iter().zip(x)).zip(y) {
                        *d = if cv != T::ZERO { xv } else { yv };
                    }
                }
                6 => {
                    let (lo_v, hi_v) = (scalars64[ins.c], scalars64[ins.d]);
                    let ([x], o) = regs.io([ins.b], ins.a, m);
                    for (d, &v) in o.iter_mut().zip(x) {
                        let w = v.to_f64();
                        *d = if w < lo_v { T::from_f64(lo_v) } else if w > hi_v { T::from_f64(hi_v) } else { v };
                    }
                }
                7 => {
                    let s = regs.get(ins.b, m);
                    // SAFETY: arrays written at i hold at least n ≥ hi elements, and pieces write
                    // disjoint ranges.
                    match srcs[ins.a] {
                        Src::F64(p, _) => store(s, unsafe { std::slice::from_raw_parts_mut(p.get().add(off), m) }),
                        Src::F32(p, _) => store(s, unsafe { std::slice::from_raw_parts_mut(p.get().add(off), m) }),
                        Src::I32(p, _) => {
                            let d = unsafe { std::slice::from_raw_parts_mut(p.get().add(off), m) };
                            store_i32(s, d);
                        }
                    }
                }
                8 => acc[ins.a] += block_sum(regs.get(ins.b, m)),
                13 => {
                    let Src::I32(ip, _) = srcs[ins.b] else { unreachable!("checked in decode") };
                    // SAFETY: index arrays are read at i and hold at least n ≥ hi elements; the
                    // destination holds `len` elements and is written by this (serial) loop only.
                    let idx = unsafe { std::slice::from_raw_parts(ip.get().add(off), m) };
                    let x = regs.get(ins.c, m);
                    match srcs[ins.a] {
                        Src::F64(p, len) => {
                            let o = unsafe { std::slice::from_raw_parts_mut(p.get(), len) };
                            for (&k, &v) in idx.iter().zip(x) {
                                if let Some(d) = o.get_mut(k as usize) {
                                    *d += v.to_f64();
                                }
                            }
                        }
                        Src::F32(p, len) => {
                            let o = unsafe { std::slice::from_raw_parts_mut(p.get(), len) };
                            for (&k, &v) in idx.iter().zip(x) {
                                if let Some(d) = o.get_mut(k as usize) {
                                    *d = (*d as f64 + v.to_f64()) as f32;
                                }
                            }
                        }
                        Src::I32(..) => unreachable!("checked in decode"),
                    }
                }
                _ => {
                    let ([x], o) = regs.io([ins.b], ins.a, m);
                    o.copy_from_slice(x);
                }
            }
            if ins.round {
                for v in regs.out(ins.a, m) {
                    *v = v.round32();
                }
            }
        }
        off += m;
    }
}

/// A register block into an int32 array. The compiler stores only integers in int32 range (0/1
/// masks, mostly); a block that holds only such values (checked, vectorized) converts without
/// the saturating conversion's NaN and range handling, which does not vectorize.
#[inline(always)]
fn store_i32<R: Reg>(s: &[R], d: &mut [i32]) {
    let in_range = s.iter().fold(true, |a, &v| {
        let w = v.to_f64();
        a & (w >= i32::MIN as f64) & (w <= i32::MAX as f64)
    });
    if in_range {
        for (w, &v) in d.iter_mut().zip(s) {
            // SAFETY: every value of the block lies in [i32::MIN, i32::MAX] (so it is not NaN).
            *w = unsafe { v.to_f64().to_int_unchecked::<i32>() };
        }
    } else {
        for (w, &v) in d.iter_mut().zip(s) {
            *w = v.to_f64() as i32;
        }
    }
}

/// A register block into a float array (rounding to float32 there: the compiler stores only
/// values of the array's type).
#[inline(always)]
fn store<R: Reg, E: Elem>(s: &[R], d: &mut [E]) {
    for (w, &v) in d.iter_mut().zip(s) {
        *w = E::from_f64(v.to_f64());
    }
}

/// The pieces' partial sums, run in parallel where there are several.
fn run_pieces<T: Reg>(nregs: usize, prog: &[Ins], srcs: &[Src], scalars: &[T], scalars64: &[f64], n: usize, n_acc: usize, serial: bool) -> Vec<Vec<f64>> {
    let pieces = n.div_ceil(PIECE);
    // Under rayon, waking the sleeping threads cost tens of µs (the threshold dates from then): a loop of 20,000 elements and 25 cheap
    // instructions (~60 µs on one core) ran 3× slower split across two, while the logistic
    // regression's 10,000-element loop with softplus and sigmoid (~130 µs) gains from it.
    let parallel = !serial && pieces > 1 && rayon::current_num_threads() > 1 && n * cost(prog) >= PAR_WORK;
    let run_piece = |regs: &mut Regs<T>, p: usize| -> Vec<f64> {
        let mut part = vec![0.0; n_acc];
        run_range(regs, prog, srcs, scalars, scalars64, p * PIECE, ((p + 1) * PIECE).min(n), &mut part);
        part
    };
    let new_regs = || Regs(vec![T::ZERO; nregs * BLOCK]);
    if parallel {
        crate::pool::map(pieces, |p| run_piece(&mut new_regs(), p))
    } else {
        let mut regs = new_regs();
        (0..pieces).map(|p| run_piece(&mut regs, p)).collect()
    }
}

/// Runs a fused loop: `prog` (layout in the module docs) over i in 0..n with `arrays`
/// (Float64Array or Int32Array; those read or written at i hold at least n elements) and
/// `scalars`; accumulator a's sum is written to `acc[a]`. Arrays written must not be read by the
/// same loop at other indices (the compiler's buffer assignment guarantees it).
#[napi(js_name = "fusedLoop")]
pub fn fused_loop(prog: Arr, scalars: Arr, arrays: Vec<Arr>, n: u32, acc: Arr) -> Result<()> {
    let (prog, scalars, acc) = (prog.get::<i32>()?, scalars.get::<f64>()?, acc.get_mut::<f64>()?);
    let n = n as usize;
    let mut srcs = Vec::with_capacity(arrays.len());
    for a in &arrays {
        srcs.push(match a.kind() {
            Kind::F64 => Src::F64(SendPtr(a.get::<f64>()?.as_ptr() as *mut f64), a.len()),
            Kind::I32 => Src::I32(SendPtr(a.get::<i32>()?.as_ptr() as *mut i32), a.len()),
            Kind::F32 => Src::F32(SendPtr(a.get::<f32>()?.as_ptr() as *mut f32), a.len()),
        });
    }
    let f32_regs = prog.first().is_some_and(|&w| w & F32_REGS != 0);
    let serial = prog.first().is_some_and(|&w| w & SERIAL != 0);
    let (nregs, prog) = decode(prog, &srcs, n, scalars.len(), acc.len())?;
    let parts = if f32_regs {
        let s32: Vec<f32> = scalars.iter().map(|&v| v as f32).collect();
        run_pieces::<f32>(nregs, &prog, &srcs, &s32, scalars, n, acc.len(), serial)
    } else {
        run_pieces::<f64>(nregs, &prog, &srcs, scalars, scalars, n, acc.len(), serial)
    };
    acc.fill(0.0);
    for part in &parts {
        for (a, &v) in acc.iter_mut().zip(part) {
            *a += v;
        }
    }
    Ok(())
}
