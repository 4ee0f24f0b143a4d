//! Data-movement kernels: strided copies (transpose, slice, broadcastTo, diagonal), pad, gather,
//! scatterAdd, concat, oneHot, diagEmbed, tril. The TS wrapper turns each op into the strides of
//! a strided copy or an (outer, axis, inner) split.

use crate::par::{self, SendPtr};
use crate::{dispatch, err, Arr, Elem};
use napi::Result;
use napi_derive::napi;

/// Writes `out` (row-major over `shape`) from `x[offset + Σ idx[d] * strides[d]]`.
pub fn strided_gather<T: Elem>(x: &[T], out: &mut [T], shape: &[usize], strides: &[usize], offset: usize) {
    // Collapse size-1 dims and dims contiguous with their successor.
    let mut sh: Vec<usize> = Vec::new();
    let mut st: Vec<usize> = Vec::new();
    for (&d, &s) in shape.iter().zip(strides) {
        if d == 1 {
            continue;
        }
        if let (Some(&ld), Some(&ls)) = (sh.last(), st.last()) {
            if ls == s * d {
                let l = sh.len() - 1;
                sh[l] = ld * d;
                st[l] = s;
                continue;
            }
        }
        sh.push(d);
        st.push(s);
    }
    let n = out.len();
    if n == 0 {
        return;
    }
    let inner = sh.pop().unwrap_or(1);
    let sin = st.pop().unwrap_or(0);
    let rows = n / inner;
    let p = SendPtr(out.as_mut_ptr());
    let rank = sh.len();
    par::ranges(rows, n, par::CHEAP_MIN, |r0, r1| {
        // SAFETY: rows r0..r1 of the output belong to this task alone.
        let o = unsafe { std::slice::from_raw_parts_mut(p.get().add(r0 * inner), (r1 - r0) * inner) };
        let mut idx = vec![0usize; rank];
        let mut off = offset;
        let mut rem = r0;
        for d in (0..rank).rev() {
            idx[d] = rem % sh[d];
            rem /= sh[d];
            off += idx[d] * st[d];
        }
        for r in 0..(r1 - r0) {
            let row = &mut o[r * inner..(r + 1) * inner];
            match sin {
                1 => row.copy_from_slice(&x[off..off + inner]),
                0 => row.fill(x[off]),
                s => row.iter_mut().enumerate().for_each(|(j, d)| *d = x[off + j * s]),
            }
            for d in (0..rank).rev() {
                idx[d] += 1;
                off += st[d];
                if idx[d] < sh[d] {
                    break;
                }
                off -= st[d] * sh[d];
                idx[d] = 0;
            }
        }
    });
}

/// out[i] = x[offset + Σ idx_d * stride_d] over out's row-major index; `meta` = [rank, shape,
/// strides]. Serves transpose, slice, broadcastTo and diagonal.
#[napi]
pub fn strided_copy(x: Arr, out: Arr, meta: Arr, offset: f64) -> Result<()> {
    let m = meta.get::<i32>()?;
    let rank = *m.first().ok_or_else(|| err("strided copy: empty metadata".into()))? as usize;
    if m.len() != 1 + 2 * rank {
        return Err(err("strided copy: bad metadata".into()));
    }
    let shape: Vec<usize> = m[1..1 + rank].iter().map(|&v| v as usize).collect();
    let strides: Vec<usize> = m[1 + rank..].iter().map(|&v| v as usize).collect();
    let n: usize = shape.iter().product();
    let off = offset as usize;
    if n != out.len() {
        return Err(err("strided copy: shape does not match the output".into()));
    }
    if n > 0 {
        let last = off + shape.iter().zip(&strides).map(|(&d, &s)| (d - 1) * s).sum::<usize>();
        if last >= x.len() {
            return Err(err("strided copy: reads past the input".into()));
        }
    }
    dispatch!(x.kind(), T => {
        strided_gather(x.get::<T>()?, out.get_mut::<T>()?, &shape, &strides, off);
        Ok(())
    })
}

/// Pads `x` with `value`: meta = [rank, x shape, before, after].
#[napi]
pub fn pad(x: Arr, out: Arr, meta: Arr, value: f64) -> Result<()> {
    let m = meta.get::<i32>()?;
    let rank = *m.first().ok_or_else(|| err("pad: empty metadata".into()))? as usize;
    if m.len() != 1 + 3 * rank {
        return Err(err("pad: bad metadata".into()));
    }
    let xs: Vec<usize> = m[1..1 + rank].iter().map(|&v| v as usize).collect();
    let before: Vec<usize> = m[1 + rank..1 + 2 * rank].iter().map(|&v| v as usize).collect();
    let after: Vec<usize> = m[1 + 2 * rank..].iter().map(|&v| v as usize).collect();
    let os: Vec<usize> = (0..rank).map(|d| xs[d] + before[d] + after[d]).collect();
    let mut ost = vec![1usize; rank];
    for d in (0..rank.saturating_sub(1)).rev() {
        ost[d] = ost[d + 1] * os[d + 1];
    }
    dispatch!(x.kind(), T => {
        let src = x.get::<T>()?;
        let o = out.get_mut::<T>()?;
        if o.len() != os.iter().product::<usize>() || src.len() != xs.iter().product::<usize>() {
            return Err(err("pad: shape does not match the arrays".into()));
        }
        o.fill(T::from_f64(value));
        if src.is_empty() {
            return Ok(());
        }
        let inner = if rank == 0 { 1 } else { xs[rank - 1] };
        let rows = src.len() / inner.max(1);
        let base: usize = (0..rank).map(|d| before[d] * ost[d]).sum();
        let mut idx = vec![0usize; rank.saturating_sub(1)];
        for r in 0..rows {
            let mut off = base;
            for (d, &i) in idx.iter().enumerate() {
                off += i * ost[d];
            }
            o[off..off + inner].copy_from_slice(&src[r * inner..(r + 1) * inner]);
            for d in (0..idx.len()).rev() {
                idx[d] += 1;
                if idx[d] < xs[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
        Ok(())
    })
}

fn check_index(op: &str, v: i32, size: usize, axis: u32) -> Result<usize> {
    if v < 0 || v as usize >= size {
        return Err(err(format!("{op}: index {v} is out of range for axis {axis} of size {size}")));
    }
    Ok(v as usize)
}

/// out (outer, nIdx, inner) = x (outer, size, inner) at indices `idx` along the middle axis.
#[napi]
pub fn gather(x: Arr, idx: Arr, out: Arr, outer: u32, size: u32, inner: u32, axis: u32) -> Result<()> {
    let (outer, size, inner) = (outer as usize, size as usize, inner as usize);
    let ix = idx.get::<i32>()?;
    let ni = ix.len();
    let pos: Vec<usize> = ix.iter().map(|&v| check_index("gather", v, size, axis)).collect::<Result<_>>()?;
    dispatch!(x.kind(), T => {
        let src = x.get::<T>()?;
        let o = out.get_mut::<T>()?;
        if src.len() != outer * size * inner || o.len() != outer * ni * inner {
            return Err(err("gather: shape does not match the arrays".into()));
        }
        for b in 0..outer {
            for (k, &p) in pos.iter().enumerate() {
                let s = (b * size + p) * inner;
                let d = (b * ni + k) * inner;
                o[d..d + inner].copy_from_slice(&src[s..s + inner]);
            }
        }
        Ok(())
    })
}

/// out (outer, size, inner) = Σ of updates (outer, nIdx, inner) scattered to `idx` along the
/// middle axis; zero elsewhere.
#[napi]
pub fn scatter_add(upd: Arr, idx: Arr, out: Arr, outer: u32, size: u32, inner: u32, axis: u32) -> Result<()> {
    let (outer, size, inner) = (outer as usize, size as usize, inner as usize);
    let ix = idx.get::<i32>()?;
    let ni = ix.len();
    let pos: Vec<usize> = ix.iter().map(|&v| check_index("scatterAdd", v, size, axis)).collect::<Result<_>>()?;
    dispatch!(upd.kind(), T => {
        let src = upd.get::<T>()?;
        let o = out.get_mut::<T>()?;
        if src.len() != outer * ni * inner || o.len() != outer * size * inner {
            return Err(err("scatterAdd: shape does not match the arrays".into()));
        }
        o.fill(T::default());
        for b in 0..outer {
            for (k, &p) in pos.iter().enumerate() {
                let s = (b * ni + k) * inner;
                let d = (b * size + p) * inner;
                for j in 0..inner {
                    o[d + j] = T::from_f64(o[d + j].to_f64() + src[s + j].to_f64());
                }
            }
        }
        Ok(())
    })
}

/// Concatenates blocks: input i contributes `blocks[i]` contiguous elements to each of the
/// `outer` rows of `out`.
#[napi]
pub fn concat(xs: Vec<Arr>, out: Arr, outer: u32, blocks: Arr) -> Result<()> {
    let bl = blocks.get::<i32>()?;
    if bl.len() != xs.len() {
        return Err(err("concat: one block size per input".into()));
    }
    let outer = outer as usize;
    let row: usize = bl.iter().map(|&b| b as usize).sum();
    dispatch!(out.kind(), T => {
        let o = out.get_mut::<T>()?;
        if o.len() != outer * row {
            return Err(err("concat: output size mismatch".into()));
        }
        let mut col = 0usize;
        for (x, &b) in xs.iter().zip(bl) {
            let b = b as usize;
            let src = x.get::<T>()?;
            if src.len() != outer * b {
                return Err(err("concat: input size mismatch".into()));
            }
            for r in 0..outer {
                o[r * row + col..r * row + col + b].copy_from_slice(&src[r * b..(r + 1) * b]);
            }
            col += b;
        }
        Ok(())
    })
}

/// out[..., depth] = 1 where the last index equals `idx[...]`, else 0 (out-of-range: all 0).
#[napi]
pub fn one_hot(idx: Arr, out: Arr, depth: u32) -> Result<()> {
    let ix = idx.get::<i32>()?;
    let depth = depth as usize;
    dispatch!(out.kind(), T => {
        let o = out.get_mut::<T>()?;
        if o.len() != ix.len() * depth {
            return Err(err("oneHot: output size mismatch".into()));
        }
        o.fill(T::default());
        for (i, &v) in ix.iter().enumerate() {
            if v >= 0 && (v as usize) < depth {
                o[i * depth + v as usize] = T::from_f64(1.0);
            }
        }
        Ok(())
    })
}

/// out[b, i, j] = i == j ? x[b, i] : 0 for x of shape (batch, n).
#[napi]
pub fn diag_embed(x: Arr, out: Arr, n: u32) -> Result<()> {
    let n = n as usize;
    dispatch!(x.kind(), T => {
        let src = x.get::<T>()?;
        let o = out.get_mut::<T>()?;
        if o.len() != src.len() * n {
            return Err(err("diagEmbed: output size mismatch".into()));
        }
        o.fill(T::default());
        for (k, &v) in src.iter().enumerate() {
            let (b, i) = (k / n, k % n);
            o[b * n * n + i * n + i] = v;
        }
        Ok(())
    })
}

/// out[b, i, j] = j - i <= k ? x[b, i, j] : 0 over (batch, m, n).
#[napi]
pub fn tril(x: Arr, out: Arr, m: u32, n: u32, k: i32) -> Result<()> {
    let (m, n) = (m as usize, n as usize);
    dispatch!(x.kind(), T => {
        let src = x.get::<T>()?;
        let o = out.get_mut::<T>()?;
        if o.len() != src.len() || (m * n > 0 && src.len() % (m * n) != 0) {
            return Err(err("tril: shape does not match the arrays".into()));
        }
        for (e, (d, &v)) in o.iter_mut().zip(src).enumerate() {
            let i = (e / n.max(1)) % m.max(1);
            let j = e % n.max(1);
            *d = if (j as i64) - (i as i64) <= k as i64 { v } else { T::default() };
        }
        Ok(())
    })
}
