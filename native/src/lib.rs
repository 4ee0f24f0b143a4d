//! varinf-native: the CPU kernels of varinf, exported to Node through napi-rs.
//!
//! Every kernel reads and writes the JS typed arrays in place: an [`Arr`] is a borrowed view of a
//! `Float64Array`, `Float32Array` or `Int32Array` that lives for the duration of one synchronous call.
//! Shapes, strides and other integer metadata arrive packed in an `Int32Array` (one napi crossing).
//! The TS wrapper (ts/backends/cpu/index.ts) computes the metadata; each family module documents
//! its layout.

// Kernels take many scalar arguments by design (one napi call, no objects); `!(x > 0)` is the
// deliberate NaN-catching form; index loops mirror the js reference line by line.
#![allow(clippy::too_many_arguments, clippy::neg_cmp_op_on_partial_ord, clippy::needless_range_loop)]

pub mod blocked;
pub mod elementwise;
pub mod fastmath;
pub mod flow;
pub mod fused;
pub mod gauss;
pub mod linalg;
pub mod matmul;
pub mod microkernel;
pub mod mixture;
pub mod mvn;
pub mod narrow;
pub mod par;
pub mod pool;
pub mod random;
pub mod reduce;
pub mod shape;
pub mod special;
pub mod spline;
pub mod svgd;
pub mod vonmises;

use napi::bindgen_prelude::{FromNapiValue, TypeName, ValidateNapiValue};
use napi::{sys, Error, Result, Status, ValueType};

/// The element type of a typed array the kernels accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    F64,
    F32,
    I32,
}

/// A borrowed JS typed array: element kind, data pointer and element count.
pub struct Arr {
    kind: Kind,
    ptr: *mut u8,
    len: usize,
}

impl Arr {
    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn check(&self, want: Kind) -> Result<()> {
        if self.kind == want {
            Ok(())
        } else {
            Err(Error::new(Status::InvalidArg, format!("expected a {want:?} array, got {:?}", self.kind)))
        }
    }

    /// The array as an immutable slice of `T`.
    pub fn get<T: Elem>(&self) -> Result<&[T]> {
        self.check(T::KIND)?;
        if self.len == 0 {
            return Ok(&[]);
        }
        // SAFETY: the kind check guarantees the buffer holds `len` elements of `T`, suitably
        // aligned (typed arrays are aligned to their element size); the JS array outlives this
        // synchronous call and JS cannot run while it executes.
        Ok(unsafe { std::slice::from_raw_parts(self.ptr as *const T, self.len) })
    }

    /// The array as a mutable slice of `T`. Callers pass outputs the engine allocated for this
    /// call, which never alias the inputs.
    #[allow(clippy::mut_from_ref)]
    pub fn get_mut<T: Elem>(&self) -> Result<&mut [T]> {
        self.check(T::KIND)?;
        if self.len == 0 {
            return Ok(&mut []);
        }
        // SAFETY: as in `get`; outputs are fresh engine allocations, distinct from every input,
        // so no other live reference to this memory exists during the call.
        Ok(unsafe { std::slice::from_raw_parts_mut(self.ptr as *mut T, self.len) })
    }
}

impl TypeName for Arr {
    fn type_name() -> &'static str {
        "TypedArray"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ValidateNapiValue for Arr {}

impl FromNapiValue for Arr {
    // SAFETY: napi-rs calls this with the env and value of the current call (the trait's contract);
    // the body only queries the typed array's info through napi.
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        let mut ty = 0;
        let mut len = 0usize;
        let mut data = std::ptr::null_mut();
        let mut buffer = std::ptr::null_mut();
        let mut offset = 0usize;
        // SAFETY: env and value come from napi for this call; the out-pointers are valid locals.
        let status = unsafe {
            sys::napi_get_typedarray_info(env, value, &mut ty, &mut len, &mut data, &mut buffer, &mut offset)
        };
        if status != sys::Status::napi_ok {
            return Err(Error::new(
                Status::InvalidArg,
                "expected a Float64Array, Float32Array or Int32Array".to_owned(),
            ));
        }
        let kind = match ty {
            sys::TypedarrayType::float64_array => Kind::F64,
            sys::TypedarrayType::float32_array => Kind::F32,
            sys::TypedarrayType::int32_array => Kind::I32,
            _ => return Err(Error::new(Status::InvalidArg, format!("unsupported typed array type {ty}"))),
        };
        Ok(Arr { kind, ptr: data as *mut u8, len })
    }
}

/// The element types of tensors.
pub trait Elem: Copy + Send + Sync + PartialOrd + Default + 'static {
    const KIND: Kind;
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
}

impl Elem for f64 {
    const KIND: Kind = Kind::F64;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
}

impl Elem for f32 {
    const KIND: Kind = Kind::F32;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Elem for i32 {
    const KIND: Kind = Kind::I32;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        to_int32(v)
    }
}

/// JavaScript's ToInt32 on an already integral or arbitrary double: truncation, then wrapping
/// modulo 2^32; NaN and infinities give 0 (what storing into an Int32Array does).
#[inline]
pub fn to_int32(v: f64) -> i32 {
    if !v.is_finite() {
        return 0;
    }
    let t = v.trunc();
    if (-2147483648.0..=2147483647.0).contains(&t) {
        t as i32
    } else {
        t.rem_euclid(4294967296.0) as u32 as i32
    }
}

/// An invalid-argument error with a message.
pub fn err(msg: String) -> Error {
    Error::new(Status::InvalidArg, msg)
}

/// Runs `$body` with `$t` bound to the element type of `$kind` (f64, f32 or i32).
#[macro_export]
macro_rules! dispatch {
    ($kind:expr, $t:ident => $body:expr) => {
        match $kind {
            $crate::Kind::F64 => {
                type $t = f64;
                $body
            }
            $crate::Kind::F32 => {
                type $t = f32;
                $body
            }
            $crate::Kind::I32 => {
                type $t = i32;
                $body
            }
        }
    };
}

/// Like [`dispatch!`] for the float kinds only; int32 is an error naming `$op`.
#[macro_export]
macro_rules! dispatch_float {
    ($kind:expr, $op:expr, $t:ident => $body:expr) => {
        match $kind {
            $crate::Kind::F64 => {
                type $t = f64;
                $body
            }
            $crate::Kind::F32 => {
                type $t = f32;
                $body
            }
            $crate::Kind::I32 => Err($crate::err(format!("{}: int32 is not supported", $op))),
        }
    };
}

/// The version of the addon's calling convention; the TS wrapper refuses a mismatch.
#[napi_derive::napi]
pub fn abi_version() -> u32 {
    8
}

/// Number of threads the large kernels use (rayon's count; the kernel pool has as many, the caller included).
#[napi_derive::napi]
pub fn num_threads() -> u32 {
    rayon::current_num_threads() as u32
}
