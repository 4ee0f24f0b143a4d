import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BackendError, DTypeError, DistributedError, LocalCommunicator, ShapeError, ValueError, abortOnError, agreeOnSignature, broadcastParams, communicator, gatherStrings, shardOf, tensor, type Communicator } from '../../ts/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('LocalCommunicator', () => {
  it('is rank 0 of 1, and every collective is the identity on float32 and float64 buffers', () => {
    const c = new LocalCommunicator();
    expect([c.rank, c.size, c.kind, c.closed]).toEqual([0, 1, 'local', false]);
    for (const buf of [new Float64Array([1.5, -2]), new Float32Array([1.5, -2])]) {
      for (const op of ['sum', 'mean', 'max', 'min'] as const) expect(Array.from(c.allReduce(buf, op))).toEqual([1.5, -2]);
      expect(c.allReduce(buf)).toBe(buf);
      expect(Array.from(c.broadcast(buf))).toEqual([1.5, -2]);
      const g = c.allGather(buf);
      expect(g).not.toBe(buf);
      expect(g.constructor).toBe(buf.constructor);
      expect(Array.from(g)).toEqual([1.5, -2]);
    }
    expect(Array.from(c.allGather(new Int32Array([7])))).toEqual([7]);
    c.barrier();
    expect(gatherStrings(c, 'héllo')).toEqual(['héllo']);
    agreeOnSignature(c, 'test', { w: tensor([1, 2]) });
    const p = { w: tensor([1, 2]) };
    expect(broadcastParams(c, p)).toBe(p);
  });

  it('shardOf takes block rank of size along an axis, and names the shape when the rows do not split evenly', () => {
    const x = tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [2, 6]);
    expect(shardOf(new LocalCommunicator(), x, 1).toArray()).toEqual(x.toArray());
    const rank1of3 = { rank: 1, size: 3 } as Communicator;
    expect(shardOf(rank1of3, x, 1).toArray()).toEqual([[2, 3], [8, 9]]);
    expect(shardOf(rank1of3, x, -1).toArray()).toEqual([[2, 3], [8, 9]]);
    expect(() => shardOf(rank1of3, x, 0)).toThrow(ShapeError);
    expect(() => shardOf(rank1of3, x, 0)).toThrow(/shardOf: axis 0 of shape \[2, 6\] has 2 rows, not a multiple of the 3 ranks/);
    expect(() => shardOf(rank1of3, x, 2)).toThrow(/shardOf: axis 2 is out of range for a tensor of shape \[2, 6\]/);
  });

  it('agreement and broadcast take any pytree of parameters', () => {
    const c = new LocalCommunicator();
    const tree = { enc: [{ w: tensor([1, 2]) }], dec: { b: tensor([3]) } };
    agreeOnSignature(c, 'test', tree);
    expect(broadcastParams(c, tree)).toBe(tree);
  });

  it('names the op and the argument on bad input', () => {
    const c = new LocalCommunicator();
    expect(() => c.allReduce(new Int32Array(2) as unknown as Float64Array)).toThrow(DTypeError);
    expect(() => c.allReduce(new Int32Array(2) as unknown as Float64Array)).toThrow(/local communicator: allReduce: expected a Float32Array or Float64Array, got Int32Array/);
    expect(() => c.allReduce(new Float64Array(1), 'prod' as 'sum')).toThrow(/allReduce: op must be 'sum', 'mean', 'max' or 'min', got 'prod'/);
    expect(() => c.broadcast(new Float64Array(1), 1)).toThrow(ValueError);
    expect(() => c.broadcast(new Float64Array(1), 1)).toThrow(/broadcast: root must be a rank in 0…0, got 1/);
    expect(() => c.allGather([1, 2] as unknown as Float64Array)).toThrow(/allGather: expected a Float32Array, Float64Array, Int32Array or Uint8Array, got object/);
  });

  it('raises a DistributedError when used after close', () => {
    const c = new LocalCommunicator();
    c.close();
    expect(c.closed).toBe(true);
    expect(() => c.allReduce(new Float64Array(1))).toThrow(DistributedError);
    expect(() => c.barrier()).toThrow(/local communicator: barrier called after close\(\) \(rank 0 of 1\)/);
  });

  it('abortOnError rethrows on one rank (nothing to abort)', async () => {
    await expect(abortOnError(new LocalCommunicator(), () => Promise.reject(new ValueError('boom')))).rejects.toThrow('boom');
    await expect(abortOnError(new LocalCommunicator(), () => 42)).resolves.toBe(42);
  });
});

describe('communicator()', () => {
  it('is the local one outside mpirun', () => {
    expect(communicator().kind).toBe('local');
    expect(communicator('local').size).toBe(1);
  });

  it('says how to install MPI and build the binding when it is missing, and the local communicator still works', () => {
    const code = `import('./ts/index.ts').then((v) => { try { v.communicator('mpi'); } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message, local: v.communicator().size })); } })`;
    const r = spawnSync('node', ['--import', 'tsx', '-e', code], { cwd: root, encoding: 'utf8', env: { ...process.env, VARINF_MPI_ADDON: '/nonexistent/varinf_mpi.node' }, timeout: 60_000 });
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { name: string; code: string; message: string; local: number };
    expect(out.name).toBe('BackendError');
    expect(out.code).toBe(BackendError.CODE);
    expect(out.message).toMatch(/the MPI binding is not built \(no \/nonexistent\/varinf_mpi\.node\); install MPI \(Debian\/Ubuntu: apt-get update && apt-get install -y openmpi-bin libopenmpi-dev\), then build the binding with `npm run build:mpi`/);
    expect(out.local).toBe(1);
  });
});
