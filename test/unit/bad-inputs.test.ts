/**
 * Issue 26: bad inputs that used to give a silently wrong or unclear answer. Each case must raise
 * a VarinfError subclass with a stable code, naming the op, distribution, site or file.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import * as V from '../../ts/index.js';
import { encodeIdx, readIdx } from '../../ts/data/idx.js';
import { logDensity } from '../../ts/ppl/logdensity.js';
import { loadTrainState, saveTrainState } from '../../ts/models/vae/checkpoint.js';

const tmp = mkdtempSync(join(tmpdir(), 'varinf-bad-'));

/** Runs f and returns what it threw (failing the test if it returned). */
function thrown(f: () => unknown): V.VarinfError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(V.VarinfError);
    return e as V.VarinfError;
  }
  throw new Error('expected a throw');
}

describe('silently wrong answers now raise', () => {
  it('eye(n) needs a non-negative integer', () => {
    for (const n of [-2, 1.5, NaN]) expect(thrown(() => V.eye(n))).toMatchObject({ code: 'VARINF_VALUE', message: expect.stringMatching(/^eye: n must be a non-negative integer, got/) });
    expect(V.eye(0).shape).toEqual([0, 0]);
  });

  for (const backend of ['js', 'cpu']) {
    it(`triangularSolve with a zero on the diagonal raises SingularMatrixError (${backend})`, () => {
      const prev = V.getBackend();
      V.setBackend(backend);
      try {
        // Big enough that the cpu backend calls the addon rather than the js kernel.
        const n = 24;
        const a = V.tensor(Array.from({ length: 2 * n * n }, (_, i) => (i % (n * n) === 7 * (n + 1) && i >= n * n ? 0 : i % (n + 1) === 0 ? 2 : 0.01 * ((i * 7) % 5))), [2, n, n]);
        const b = V.ones([2, n, 3]);
        const e = thrown(() => V.triangularSolve(a, b, { lower: true }));
        expect(e).toBeInstanceOf(V.SingularMatrixError);
        expect(e.code).toBe('VARINF_SINGULAR_MATRIX');
        expect(e.message).toBe(`triangularSolve: matrix 1 of a (shape [2, ${n}, ${n}]) is singular: its diagonal element 7 is 0`);
        expect(() => V.triangularSolve(V.tensor([[0, 0], [1, 1]]), V.ones([2, 1]), { transA: true })).toThrow(V.SingularMatrixError);
      } finally {
        V.setBackend(prev);
      }
    });
  }

  it('triangularSolve with a zero diagonal raises under compile too', () => {
    const f = V.compile((a: V.Tensor, b: V.Tensor) => V.triangularSolve(a, b, { lower: true }));
    expect(f(V.tensor([[1, 0], [1, 2]]), V.ones([2, 1])).shape).toEqual([2, 1]);
    expect(() => f(V.tensor([[1, 0], [1, 0]]), V.ones([2, 1]))).toThrow(V.SingularMatrixError);
  });

  const bytes = (): Uint8Array => V.toSafetensors({ a: V.tensor([1, 2, 3]), b: V.tensor([4, 5]) });
  /** Rewrites the header of safetensors bytes with `edit` applied, keeping the data section. */
  const withHeader = (src: Uint8Array, edit: (h: Record<string, { data_offsets: number[]; shape: number[] }>) => void): Uint8Array => {
    const n = Number(new DataView(src.buffer, src.byteOffset).getBigUint64(0, true));
    const h = JSON.parse(new TextDecoder().decode(src.subarray(8, 8 + n))) as Record<string, { data_offsets: number[]; shape: number[] }>;
    edit(h);
    const json = new TextEncoder().encode(JSON.stringify(h));
    const out = new Uint8Array(8 + json.length + src.length - 8 - n);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(src.subarray(8 + n), 8 + json.length);
    return out;
  };

  it('fromSafetensors refuses a file cut short inside the data', () => {
    const b = bytes();
    const e = thrown(() => V.fromSafetensors(b.subarray(0, b.length - 8), 'cut.safetensors'));
    expect(e).toBeInstanceOf(V.FormatError);
    expect(e.code).toBe('VARINF_FORMAT');
    expect(e.message).toMatch(/^fromSafetensors\(cut\.safetensors\): the header's tensors cover 40 data bytes but the file has 32 after the header \(truncated\)/);
    const padded = new Uint8Array(b.length + 8);
    padded.set(b);
    expect(() => V.fromSafetensors(padded)).toThrow(/trailing bytes/);
  });

  it('fromSafetensors validates data_offsets as the specification does', () => {
    const b = bytes();
    expect(() => V.fromSafetensors(withHeader(b, (h) => (h.b.data_offsets = [24, 1000])))).toThrow(/tensor 'b' of F64 shape \[2\] needs 16 bytes, its data_offsets \[24, 1000\] give 976/);
    expect(() => V.fromSafetensors(withHeader(b, (h) => ((h.b.data_offsets = [1000, 1016]))))).toThrow(/tensor 'b' starts at data offset 1000, expected 24 \(a gap precedes it\)/);
    expect(() => V.fromSafetensors(withHeader(b, (h) => ((h.b.data_offsets = [16, 32]))))).toThrow(/tensor 'b' starts at data offset 16, expected 24 \(it overlaps the previous tensor\)/);
    expect(() => V.fromSafetensors(withHeader(b, (h) => ((h.b.data_offsets = [32, 24]))))).toThrow(/data_offsets \[32,24\], not \[begin, end\]/);
    expect(() => V.fromSafetensors(withHeader(b, (h) => ((h.b.shape = [-2]))))).toThrow(/shape \[-2\], not a list of non-negative integers/);
    expect(() => V.fromSafetensors(withHeader(b, (h) => ((h.a.data_offsets = [0, 16]), (h.a.shape = [2]))))).toThrow(/tensor 'b' starts at data offset 24, expected 16/);
    // Offsets listed out of order in the header are fine when they cover the data.
    expect(V.fromSafetensors(bytes()).tensors.b.toArray()).toEqual([4, 5]);
  });

  it('loadTrainState of a truncated checkpoint raises instead of loading zeros', () => {
    const opt = V.adam(1e-2);
    const params = { w: V.tensor(Array.from({ length: 340 }, (_, i) => i + 1), [340], 'float32') };
    const path = join(tmp, 'cut.safetensors');
    saveTrainState(path, { params, optState: opt.init(params), step: 7 });
    const full = readFileSync(path);
    writeFileSync(path, full.subarray(0, Math.floor(full.length * 0.7)));
    const tpl = { params: { w: V.zeros([340], 'float32') }, optState: opt.init(params), step: 0 };
    const e = thrown(() => loadTrainState(path, tpl));
    expect(e.code).toBe('VARINF_FORMAT');
    expect(e.message).toContain(path);
  });
});

describe('unclear errors now name what went wrong', () => {
  it('allocation beyond memory is an AllocationError naming op, shape and bytes', () => {
    const e = thrown(() => V.zeros([1e6, 1e6]));
    expect(e).toBeInstanceOf(V.AllocationError);
    expect(e.code).toBe('VARINF_ALLOCATION');
    expect(e.message).toMatch(/^full: cannot allocate float64 \[1000000, 1000000\]: 1000000000000 elements, 8000000000000 bytes = 7\.45e\+3 GiB/);
    expect(thrown(() => V.ones([2 ** 33], 'float32')).message).toMatch(/^full: cannot allocate float32 \[8589934592\]/);
    const col = V.zeros([1e5, 1]);
    expect(thrown(() => V.matmul(col, col, { transB: true })).message).toMatch(/^matmul: cannot allocate float64 \[100000, 100000\]: 10000000000 elements, 80000000000 bytes/);
    expect(thrown(() => V.arange(0, Infinity)).message).toBe('arange: start, stop and step must be finite, got 0, Infinity, 1');
    expect(thrown(() => V.arange(0, 1e13)).code).toBe('VARINF_ALLOCATION');
  });

  it('SVI.run until aborted: the loss record grows instead of being allocated for 1e10 steps', async () => {
    const model = (): void => {
      V.sample('x', new V.Normal(0, 1));
    };
    for (const compile of [true, false]) {
      const svi = new V.SVI(model, new V.AutoNormal(model), V.adam(0.01), new V.TraceELBO());
      const ac = new AbortController();
      // Past the first 1024-entry buffer, so the record has grown at least once.
      const onProgress = (step: number): void => (step >= 1500 ? ac.abort() : undefined);
      const err = await svi.run(V.key(0), 1e10, [], { signal: ac.signal, progressBar: false, compile, progressEvery: 100, onProgress }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(V.AbortError);
      const r = (err as InstanceType<typeof V.AbortError<V.SVIResult>>).partial;
      expect(r.steps).toBe(1500);
      expect(r.losses.length).toBe(r.steps);
      expect(r.losses.every(Number.isFinite)).toBe(true);
    }
  });

  it('an optimizer state or parameters of another shape raise instead of broadcasting (same mistake, optimizers)', () => {
    const p = { a: V.tensor([1]) };
    for (const opt of [V.adam(0.1), V.sgd(0.1, { momentum: 0.9 }), V.rmsprop(0.1), V.adagrad(0.1)]) {
      const s = opt.init(p);
      expect(() => opt.update({ a: V.tensor([5, 6]) }, s, p)).toThrow(/tensor 0 of the gradients\/updates has shape \[2\], but its counterpart in the optimizer state has \[1\]/);
      expect(() => opt.update({ a: V.tensor([5]), b: V.tensor([1]) } as unknown as typeof p, s, p)).toThrow(/the gradients\/updates have 2 tensors but the optimizer state has 1/);
    }
    expect(() => V.applyUpdates(p, { a: V.tensor([1, 2]) })).toThrow('applyUpdates: tensor 0 of the gradients/updates has shape [2], but its counterpart in the parameters has [1]');
  });

  it('every error class has a stable code, and tensor misuse raises library errors', () => {
    const codes = [V.VarinfError, V.ShapeError, V.DTypeError, V.AxisError, V.ValueError, V.FormatError, V.NotPositiveDefiniteError, V.SingularMatrixError, V.AllocationError, V.DisposedError, V.BackendError, V.CompileError].map(
      (C) => new C('x').code,
    );
    expect(codes).toEqual(['VARINF_ERROR', 'VARINF_SHAPE', 'VARINF_DTYPE', 'VARINF_AXIS', 'VARINF_VALUE', 'VARINF_FORMAT', 'VARINF_NOT_POSITIVE_DEFINITE', 'VARINF_SINGULAR_MATRIX', 'VARINF_ALLOCATION', 'VARINF_DISPOSED', 'VARINF_BACKEND', 'VARINF_COMPILE']);
    expect(thrown(() => V.zeros([2, 2]).item())).toMatchObject({ code: 'VARINF_SHAPE', message: 'item: tensor has shape [2, 2] (4 elements), not one element' });
    const t = V.tensor([1, 2]);
    t.dispose();
    const e = thrown(() => V.add(t, 1));
    expect(e).toBeInstanceOf(V.DisposedError);
    expect(e.message).toMatch(/^tensor #\d+ \(float64 of shape \[2\]\) was disposed, or its tidy scope ended/);
    let inner: V.Tensor | null = null;
    V.tidy(() => {
      inner = V.ones([3]);
      return V.scalar(0);
    });
    expect(thrown(() => (inner as unknown as V.Tensor).dataSync()).code).toBe('VARINF_DISPOSED');
  });

  it("MultivariateNormal with PyTorch's covarianceMatrix names the accepted keys", () => {
    const mk = (): unknown => new V.MultivariateNormal(V.zeros([2]), { covarianceMatrix: V.eye(2) } as unknown as V.MvnScale);
    const e = thrown(mk);
    expect(e.code).toBe('VARINF_VALUE');
    expect(e.message).toBe("MultivariateNormal: scale must be an object with exactly one of 'scaleTril', 'covariance', 'precision', got { covarianceMatrix }; 'covarianceMatrix' is spelled 'covariance' here");
    expect(() => new V.MultivariateNormal(V.zeros([2]), V.eye(2) as unknown as V.MvnScale)).toThrow(/got a Tensor or array/);
    expect(() => new V.Wishart(3, { covariance: V.eye(2), precision: V.eye(2) })).toThrow(/Wishart: scale must be an object with exactly one of .*got \{ covariance, precision \}/);
    expect(() => new V.Bernoulli(0.3 as unknown as V.ProbsOrLogits)).toThrow("Bernoulli: the probs/logits argument must be an object with exactly one of 'probs', 'logits', got the number 0.3");
    expect(() => new V.Binomial(3, { prob: 0.3 } as unknown as V.ProbsOrLogits)).toThrow(/Binomial: .*got \{ prob \}; 'prob' is spelled 'probs' here/);
    // The same mistake in positional parameters: a plain array or a missing value.
    expect(() => new V.Normal([0, 1] as unknown as number, 1)).toThrow('distribution parameter: expected a number or a Tensor, got the array [0,1] (wrap it in tensor(...))');
    expect(() => new V.Normal(0, undefined as unknown as number)).toThrow(V.ValueError);
    expect(() => new V.Normal(0, 1).logProb([1, 2] as unknown as number)).toThrow('Normal.logProb: value must be a number or a Tensor, got an array (wrap it in tensor(...))');
    expect(() => V.tensor(['a', 'b'] as unknown as number[])).toThrow('tensor: values must be numbers, nested arrays of numbers or a typed array; found the string "a" at depth 1');
    expect(() => V.tensor(undefined as unknown as number[])).toThrow(/found undefined at depth 0/);
  });

  it('Bernoulli and Categorical logProb accept int32 data (what their samplers return)', () => {
    const x = V.bernoulli(V.key(0), 0.3, [5]);
    expect(x.dtype).toBe('int32');
    const bern = new V.Bernoulli({ probs: 0.3 });
    expect(bern.logProb(x).dataSync()).toEqual(bern.logProb(V.cast(x, 'float64')).dataSync());
    const logits = V.tensor([0.1, 0.5, -1]);
    const c = V.categorical(V.key(1), logits, [4]);
    const cat = new V.Categorical({ logits });
    expect(cat.logProb(c).dataSync()).toEqual(cat.logProb(V.cast(c, 'float64')).dataSync());
    expect(new V.Poisson(2).logProb(V.tensor([1, 3], [2], 'int32')).shape).toEqual([2]);
  });

  it('an observed value of the wrong shape inside a plate names the site', () => {
    const model = (y: V.Tensor): void => {
      const mu = V.sample('mu', new V.Normal(0, 1));
      V.plate('p', 8, () => V.sample('y', new V.Normal(mu, 1), { obs: y }));
    };
    const e = thrown(() => logDensity(model, [V.zeros([5])], { mu: V.scalar(0) }));
    expect(e).toBeInstanceOf(V.ShapeError);
    expect(e.message).toMatch(/^sample site 'y' \(observed\), value of shape \[5\] under plate 'p' of size 8 at dim -1: Normal\.logProb: value of shape \[5\] does not broadcast with the batch shape \[8\]/);
  });

  it('a corrupt gzip and a non-JSON header name the file and the reader', () => {
    const gz = gzipSync(encodeIdx('uint8', [4], new Uint8Array([1, 2, 3, 4])));
    const path = join(tmp, 'labels-idx1-ubyte.gz');
    writeFileSync(path, gz.subarray(0, gz.length - 6));
    const e = thrown(() => readIdx(path));
    expect(e.code).toBe('VARINF_FORMAT');
    expect(e.message).toMatch(new RegExp(`^parseIdx: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} starts with the gzip magic but does not gunzip`));
    const st = join(tmp, 'bad.safetensors');
    const head = new TextEncoder().encode('{"a": nope}');
    const b = new Uint8Array(8 + head.length);
    new DataView(b.buffer).setBigUint64(0, BigInt(head.length), true);
    b.set(head, 8);
    writeFileSync(st, b);
    const j = thrown(() => V.loadSafetensors(st));
    expect(j.code).toBe('VARINF_FORMAT');
    expect(j.message).toMatch(/^fromSafetensors\(.*bad\.safetensors\): the 11-byte header is not valid JSON/);
    expect(j.cause).toBeInstanceOf(SyntaxError);
  });
});

afterEach(() => {
  V.setBackend(V.getBackend());
});
