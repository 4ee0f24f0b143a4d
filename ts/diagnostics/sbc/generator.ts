/**
 * SBC generators: each simulation draws parameters θ* from the prior and data y from the model
 * given θ* (Talts et al., "Validating Bayesian inference algorithms with simulation-based
 * calibration", 2018). A generator is any object with `generate(key, index)`; `functionGenerator`
 * wraps a plain function and `modelGenerator` draws from a varinf model's prior predictive.
 */
import { ValueError } from '../../core/errors.js';
import { Tensor } from '../../core/tensor.js';
import type { ModelFn } from '../../ppl/runtime.js';
import type { Key } from '../../random/key.js';
import { seed, trace } from '../../ppl/handlers.js';

/** A parameter's value: a number, a flat array of numbers, or a tensor (flattened in row-major order). */
export type ParameterValue = number | ArrayLike<number> | Tensor;

/** One simulated data set: the true parameters θ* and the data y drawn given them. */
export interface SbcDataset<D> {
  /** θ* by parameter name (each flattened row-major into variables `name[i]`, or `name` when scalar). */
  parameters: Record<string, ParameterValue>;
  /** The data the backend fits. */
  data: D;
}

/** Draws (θ*, y) for simulation `index` from `key` (the key alone decides the draw). */
export interface SbcGenerator<D> {
  /** One simulated data set. */
  generate(key: Key, index: number): SbcDataset<D>;
}

/**
 * A generator from a function (the R package SBC's `SBC_generator_function`).
 * @example
 * const gen = functionGenerator((k) => { const mu = normal(k).item(); return { parameters: { mu }, data: mu + 0.1 }; });
 */
export function functionGenerator<D>(fn: (key: Key, index: number) => SbcDataset<D>): SbcGenerator<D> {
  return { generate: fn };
}

/** Options of {@link modelGenerator}. */
export interface ModelGeneratorOptions {
  /** The observed sites, whose prior-predictive draws are the data; the other sample sites are the parameters. */
  dataSites: string[];
  /** Latent sites to report as parameters (default: every sample site that is not a data site). */
  parameterSites?: string[];
}

/**
 * A generator that draws one joint sample of `model(...args)` from its prior predictive (a
 * seeded trace): `args` leave the observed values undefined so that the data sites are drawn.
 * The data are the `dataSites` values by name; the parameters are the other sample sites.
 *
 * Shapes: each site's value has the shape the model gives it (a scalar site is a scalar).
 * @example
 * const gen = modelGenerator(eightSchools, [undefined, sigma], { dataSites: ['obs'] });
 * const { parameters, data } = gen.generate(key(0), 0); // data.obs: [8]
 */
export function modelGenerator<A extends unknown[]>(model: ModelFn<A>, args: A, opts: ModelGeneratorOptions): SbcGenerator<Record<string, Tensor>> {
  if (opts.dataSites.length === 0) throw new ValueError('modelGenerator: dataSites is empty; name the observed sites whose draws are the data');
  return {
    generate(key: Key): SbcDataset<Record<string, Tensor>> {
      // One joint draw from the prior predictive: a trace of the model with its data arguments undefined.
      const tr = trace(seed(model, key)).getTrace(...args);
      const draw: Record<string, Tensor> = {};
      for (const s of tr.values()) if (s.type === 'sample' && s.value !== null) draw[s.name] = s.value;
      const observed = [...tr.values()].filter((s) => s.isObserved && opts.dataSites.includes(s.name));
      if (observed.length > 0) throw new ValueError(`modelGenerator: data site '${observed[0].name}' is observed; pass its argument as undefined so that it is drawn`);
      const data: Record<string, Tensor> = {};
      const parameters: Record<string, Tensor> = {};
      for (const name of opts.dataSites) {
        const v = draw[name];
        if (v === undefined) throw new ValueError(`modelGenerator: data site '${name}' is not among the model's sites (${Object.keys(draw).join(', ')})`);
        data[name] = v;
      }
      const wanted = opts.parameterSites ?? Object.keys(draw).filter((n) => !opts.dataSites.includes(n));
      for (const name of wanted) {
        const v = draw[name];
        if (v === undefined) throw new ValueError(`modelGenerator: parameter site '${name}' is not among the model's sites (${Object.keys(draw).join(', ')})`);
        parameters[name] = v;
      }
      return { parameters, data };
    },
  };
}

/**
 * The first non-finite value among the parameters and data (searched through numbers, arrays,
 * tensors and plain objects of them), as `"site[i] = NaN"`, or null when all are finite.
 * @example firstNonFinite({ mu: NaN }) // "mu = NaN"
 */
export function firstNonFinite(value: unknown, path = ''): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${path || 'value'} = ${value}`;
  if (value instanceof Tensor) return firstNonFinite(value.dataSync(), path);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const a = value as unknown as ArrayLike<number>;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return `${path}[${i}] = ${a[i]}`;
    return null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const r = firstNonFinite(value[i], `${path}[${i}]`);
      if (r !== null) return r;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const r = firstNonFinite(v, path ? `${path}.${k}` : k);
      if (r !== null) return r;
    }
  }
  return null;
}
