/**
 * withSettings: a backend, validation and CUDA-graph default per call tree — kept across awaits
 * and separate between concurrent async tasks, which is what a server running several fits needs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BackendError, cudaGraphsByDefault, getBackend, getValidateArgs, listBackends, Normal, tensor, ValueError, withSettings } from '../../ts/index.js';

const other = listBackends().available.includes('cpu') && getBackend() !== 'js' ? 'js' : undefined;

describe('withSettings', () => {
  it('keeps each concurrent task on its own backend across awaits', async () => {
    const outside = getBackend();
    const target = other ?? outside;
    const seen: string[] = [];
    const scoped = withSettings({ backend: target }, async () => {
      for (let i = 0; i < 5; i++) {
        seen.push(`scoped:${getBackend()}:${tensor([1, 2]).backend.name}`);
        await sleep(1);
      }
    });
    const plain = (async () => {
      for (let i = 0; i < 5; i++) {
        seen.push(`plain:${getBackend()}:${tensor([1, 2]).backend.name}`);
        await sleep(1);
      }
    })();
    await Promise.all([scoped, plain]);
    expect(seen.filter((s) => s.startsWith('scoped'))).toEqual(Array(5).fill(`scoped:${target}:${target}`));
    expect(seen.filter((s) => s.startsWith('plain'))).toEqual(Array(5).fill(`plain:${outside}:${outside}`));
    expect(getBackend()).toBe(outside);
  });

  it('turns validation off in its scope only, and nests', () => {
    expect(() => new Normal(0, -1)).toThrow(ValueError);
    const d = withSettings({ validateArgs: false }, () => {
      expect(getValidateArgs()).toBe(false);
      withSettings({ validateArgs: true }, () => expect(getValidateArgs()).toBe(true));
      return new Normal(0, -1);
    });
    expect(d.validateArgs).toBe(false);
    expect(getValidateArgs()).toBe(true);
  });

  it('scopes the CUDA-graph default', () => {
    const before = cudaGraphsByDefault();
    expect(withSettings({ cudaGraphs: !before }, () => cudaGraphsByDefault())).toBe(!before);
    expect(cudaGraphsByDefault()).toBe(before);
  });

  it('returns what the function returns', async () => {
    expect(withSettings({}, () => 42)).toBe(42);
    await expect(withSettings({}, async () => 'done')).resolves.toBe('done');
  });

  it('names an unavailable backend and a bad value', () => {
    expect(() => withSettings({ backend: 'tpu' }, () => 0)).toThrow(BackendError);
    expect(() => withSettings({ backend: 'tpu' }, () => 0)).toThrow(/withSettings: backend 'tpu' is not available/);
    expect(() => withSettings({ validateArgs: 'no' as unknown as boolean }, () => 0)).toThrow(/withSettings: validateArgs must be a boolean, got no/);
  });
});
