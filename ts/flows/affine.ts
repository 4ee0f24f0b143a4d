/**
 * The conditional elementwise affine layer: y = x ⊙ e^{s(c)} + shift(c) with (shift, s) from an MLP
 * of the context. With a standard-normal base it is the Gaussian encoder q(z|x) = N(μ(x), σ(x)²)
 * of a VAE, and the flow layers after it make that encoder an IAF-VAE or NSF-VAE.
 */
import type { Tensor } from '../core/tensor.js';
import { ValueError } from '../core/errors.js';
import { affineFlow } from '../ops/flow.js';
import { sliceLast } from '../bijectors/transform.js';
import type { Key } from '../random/key.js';
import type { FloatDType } from '../random/samplers.js';
import type { Activation } from '../nn/activations.js';
import type { LinearParams } from '../nn/linear.js';
import { checkFeatures, zeroLastMLP } from './conditioner.js';
import { checkContext, FlowTransform, type FlowLayer } from './core.js';

class ConditionalAffineTransform extends FlowTransform {
  constructor(
    d: number,
    private readonly shift: Tensor,
    private readonly s: Tensor,
  ) {
    super('conditionalAffine', d);
  }
  protected callForward(x: Tensor): [Tensor, Tensor] {
    return affineFlow(x, this.shift, this.s);
  }
  protected callInverse(y: Tensor): [Tensor, Tensor] {
    return affineFlow(y, this.shift, this.s, { inverse: true });
  }
}

/**
 * y = x ⊙ e^{s} + shift with (shift, s) = MLP(context) (last layer starting at zero: the identity),
 * log|det J| = Σ s; inverse in closed form. The context [..., c] is required; its batch axes
 * broadcast with the input's. Shapes: [..., d] → [..., d], ladj [...].
 * @example
 * // A VAE encoder: q(z | x) = N(μ(h), σ(h)²) followed by two IAF layers, all fed the encoder's h [B, 64].
 * const q = new Flow([conditionalAffine(16, { contextFeatures: 64 }), iaf(16, { contextFeatures: 64 }), permute(16), iaf(16, { contextFeatures: 64 })]);
 * const [z, logq] = q.apply(params, h).rsampleWithLogProb(k); // z [B, 16], logq [B]
 */
export function conditionalAffine(features: number, opts: { contextFeatures: number; hidden?: readonly number[]; activation?: Activation }): FlowLayer<LinearParams[]> {
  checkFeatures('conditionalAffine', features);
  const c = opts.contextFeatures;
  if (!Number.isInteger(c) || c < 1) throw new ValueError(`conditionalAffine: contextFeatures must be a positive integer, got ${c}`);
  const hidden = opts.hidden ?? [];
  const net = zeroLastMLP([c, ...hidden, 2 * features], opts.activation ?? 'relu');
  return {
    name: 'conditionalAffine',
    features,
    contextFeatures: c,
    init: (k: Key, dtype: FloatDType) => net.init(k, dtype),
    bind(p: LinearParams[], context?: Tensor): FlowTransform {
      checkContext('conditionalAffine', c, context);
      const h = net.apply(p, context as Tensor);
      return new ConditionalAffineTransform(features, sliceLast(h, 0, features), sliceLast(h, features, features));
    },
  };
}
