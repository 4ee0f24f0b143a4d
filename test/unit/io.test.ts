import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromSafetensors, loadInto, loadSafetensors, saveSafetensors, tensor, toArviz, toSafetensors, zeros, ShapeError, ValueError } from '../../ts/index.js';

describe('safetensors', () => {
  it('round-trips a pytree of every dtype with metadata', () => {
    const tree = { enc: { w: tensor([[1.5, -2], [3, 4]]), b: tensor(new Float32Array([0.25, 7])) }, steps: tensor([3], [1], 'int32'), layers: [tensor([9])] };
    const bytes = toSafetensors(tree, { step: '12' });
    // Header length, then JSON, then 8-byte-aligned data.
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const { tensors, metadata } = fromSafetensors(bytes);
    expect(metadata).toEqual({ step: '12' });
    expect(Object.keys(tensors).sort()).toEqual(['enc.b', 'enc.w', 'layers.0', 'steps']);
    const back = loadInto(tree, tensors);
    expect(back.enc.w.toArray()).toEqual([[1.5, -2], [3, 4]]);
    expect(back.enc.b.dtype).toBe('float32');
    expect(back.steps.dtype).toBe('int32');
    const dir = mkdtempSync(join(tmpdir(), 'varinf-'));
    saveSafetensors(join(dir, 'p.safetensors'), tree);
    expect(loadSafetensors(join(dir, 'p.safetensors')).tensors['layers.0'].item()).toBe(9);
  });

  it('names the missing or mismatched tensor', () => {
    const { tensors } = fromSafetensors(toSafetensors({ a: zeros([2]) }));
    expect(() => loadInto({ a: zeros([2]), b: zeros([1]) }, tensors)).toThrow(/tensor 'b' is missing/);
    expect(() => loadInto({ a: zeros([3]) }, tensors)).toThrow(ShapeError);
    expect(() => fromSafetensors(new Uint8Array(4))).toThrow(ValueError);
  });
});

describe('ArviZ export', () => {
  it('splits draws into chains', () => {
    const out = toArviz({ mu: tensor([1, 2, 3, 4]), theta: tensor([[1, 2], [3, 4], [5, 6], [7, 8]]) }, { chains: 2 });
    expect(out.posterior.mu).toEqual([[1, 2], [3, 4]]);
    expect(out.posterior.theta).toEqual([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
    expect(() => toArviz({ mu: tensor([1, 2, 3]) }, { chains: 2 })).toThrow(/not divisible into 2 chains/);
  });
});

describe('SVG line chart', () => {
  it('draws every series with a legend and axes', async () => {
    const { lineChartSvg } = await import('../../ts/index.js');
    const svg = lineChartSvg(
      [
        { label: 'mean-field', values: Float64Array.from({ length: 5000 }, (_, i) => -100 + 60 * (1 - Math.exp(-i / 500))) },
        { label: 'full-rank', values: [[1, -90], [2, -50], [3, -45]] },
      ],
      { title: 'ELBO', xLabel: 'step', yLabel: 'ELBO' },
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<path /g)?.length).toBe(2);
    expect(svg).toContain('mean-field');
    expect(() => lineChartSvg([])).toThrow(/at least one series/);
  });
});
