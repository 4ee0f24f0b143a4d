/**
 * A small convolutional U-Net ε-network for one-channel images (28 × 28 MNIST by default), in the
 * shape of Ho et al.'s (2020) network made small: two resolutions below the input, residual blocks
 * with the time embedding added after their first convolution, skip connections by concatenation,
 * no normalization layers. With c = `channels`, E = `embDim`, D = `timeDim`:
 *
 *   temb = Linear(D→D)(SiLU(Linear(E→D)(emb(t))))            emb: the sinusoidal `timeEmbedding`
 *   Res(a→b)(h) = conv3(b→b)(SiLU(conv3(a→b)(SiLU(h)) + Linear(D→b)(SiLU(temb)))) + skip(h)
 *                 (skip: 1×1 conv a→b when a ≠ b, else identity; conv3: 3×3, padding 1)
 *   h0 = conv3(1→c)(x)                                        H × W
 *   r1 = Res(c→c)(h0);   r2 = Res(c→2c)(conv3 s2(c→c)(r1))    H × W, H/2 × W/2
 *   m  = Res(2c→2c)(conv3 s2(2c→2c)(r2))                     H/4 × W/4
 *   u2 = Res(4c→2c)([convT4 s2(2c→2c)(m), r2])               H/2 × W/2
 *   u1 = Res(2c→c)([convT4 s2(2c→c)(u2), r1])                H × W
 *   ε  = conv3(c→1)(SiLU(u1))
 *
 * Every layer starts from PyTorch's default initialization (U(±1/√fan_in) for weights and biases),
 * so a PyTorch module built the same way is the same model (bench/peers/diffusion_torch.py).
 * Images come in flat, x [n, H·W] (as the losses and the bound of this folder take them), or as
 * [n, 1, H, W]; ε comes back in the same shape.
 */
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { add } from '../../ops/elementwise.js';
import { concat, reshape } from '../../ops/shape.js';
import { Conv2d, ConvTranspose2d, type ConvParams } from '../../nn/conv.js';
import { Linear, type LinearParams } from '../../nn/linear.js';
import { silu } from '../../nn/activations.js';
import { split, type Key } from '../../random/key.js';
import type { FloatDType } from '../../random/samplers.js';
import type { EpsilonNet } from './ddpm.js';
import { timeEmbedding } from './embedding.js';

/** Configuration of `UNet`. */
export interface UNetConfig {
  /** Image height, a multiple of 4; default 28. */
  height?: number;
  /** Image width, a multiple of 4; default 28. */
  width?: number;
  /** Base channels c (2c at the lower resolutions); default 16. */
  channels?: number;
  /** Size of the sinusoidal embedding of t; default 32. */
  embDim?: number;
  /** Width of the time MLP; default 64. */
  timeDim?: number;
  /** Parameter dtype; default float32. */
  dtype?: FloatDType;
}

/** Parameters of one residual block. */
export interface ResBlockParams {
  /** First 3×3 convolution, a → b. */
  conv1: ConvParams;
  /** Projection of the time embedding to b channels. */
  time: LinearParams;
  /** Second 3×3 convolution, b → b. */
  conv2: ConvParams;
  /** 1×1 convolution a → b on the skip path (only when a ≠ b). */
  skip?: ConvParams;
}

/** Parameters of a `UNet`. */
export interface UNetParams {
  /** Time MLP, first layer E → D. */
  time1: LinearParams;
  /** Time MLP, second layer D → D. */
  time2: LinearParams;
  /** Input convolution 1 → c. */
  inConv: ConvParams;
  /** Residual block at full resolution, c → c. */
  res1: ResBlockParams;
  /** Stride-2 convolution c → c (H → H/2). */
  down1: ConvParams;
  /** Residual block at H/2, c → 2c. */
  res2: ResBlockParams;
  /** Stride-2 convolution 2c → 2c (H/2 → H/4). */
  down2: ConvParams;
  /** Residual block at H/4, 2c → 2c. */
  mid: ResBlockParams;
  /** Transposed convolution 2c → 2c (H/4 → H/2). */
  up2: ConvParams;
  /** Residual block on [up2, res2], 4c → 2c. */
  res3: ResBlockParams;
  /** Transposed convolution 2c → c (H/2 → H). */
  up1: ConvParams;
  /** Residual block on [up1, res1], 2c → c. */
  res4: ResBlockParams;
  /** Output convolution c → 1. */
  outConv: ConvParams;
}

/** A `UNet`: an `EpsilonNet` on images, with its configuration. */
export interface UNetModel extends EpsilonNet<UNetParams> {
  /** The configuration with every default filled in. */
  readonly config: Readonly<Required<UNetConfig>>;
  /** Pixels per image, H·W. */
  readonly dim: number;
}

function checkPositiveInt(name: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 1)) throw new ValueError(`UNet: ${name} must be a positive integer, got ${v}`);
}

/** A residual block a → b (see the file comment). */
function resBlock(a: number, b: number, timeDim: number, dtype: FloatDType): { init(k: Key): ResBlockParams; apply(p: ResBlockParams, h: Tensor, temb: Tensor): Tensor } {
  const conv1 = Conv2d(a, b, 3, { padding: 1, dtype });
  const conv2 = Conv2d(b, b, 3, { padding: 1, dtype });
  const time = Linear(timeDim, b, { dtype });
  const skip = a === b ? null : Conv2d(a, b, 1, { dtype });
  return {
    init(k) {
      const ks = split(k, 4);
      const p: ResBlockParams = { conv1: conv1.init(ks[0]), time: time.init(ks[1]), conv2: conv2.init(ks[2]) };
      if (skip !== null) p.skip = skip.init(ks[3]);
      return p;
    },
    apply(p, h, temb) {
      const tb = reshape(time.apply(p.time, temb), [h.shape[0], b, 1, 1]);
      const g = conv2.apply(p.conv2, silu(add(conv1.apply(p.conv1, silu(h)), tb)));
      return add(g, skip === null || p.skip === undefined ? h : skip.apply(p.skip, h));
    },
  };
}

/**
 * Builds the U-Net ε-network of the file comment for T diffusion steps.
 * @example
 * const net = UNet(1000, { channels: 16 });
 * const p = net.init(key(0));
 * const eps = net.apply(p, xt, t); // xt [n, 784], t [n] (float, 1..1000) → [n, 784]
 */
export function UNet(T: number, config: UNetConfig = {}): UNetModel {
  const cfg: Required<UNetConfig> = { height: 28, width: 28, channels: 16, embDim: 32, timeDim: 64, dtype: 'float32', ...config };
  const { height: H, width: W, channels: c, timeDim: D, dtype } = cfg;
  for (const [name, v] of [['height', H], ['width', W], ['channels', c], ['timeDim', D]] as const) checkPositiveInt(name, v);
  if (H % 4 !== 0 || W % 4 !== 0) throw new ValueError(`UNet: height and width must be multiples of 4 (two stride-2 levels), got ${H}×${W}`);
  if (dtype !== 'float32' && dtype !== 'float64') throw new ValueError(`UNet: dtype must be 'float32' or 'float64', got '${String(dtype)}'`);
  const emb = timeEmbedding(cfg.embDim, T, dtype, 'UNet');
  const time1 = Linear(cfg.embDim, D, { dtype });
  const time2 = Linear(D, D, { dtype });
  const inConv = Conv2d(1, c, 3, { padding: 1, dtype });
  const res1 = resBlock(c, c, D, dtype);
  const down1 = Conv2d(c, c, 3, { stride: 2, padding: 1, dtype });
  const res2 = resBlock(c, 2 * c, D, dtype);
  const down2 = Conv2d(2 * c, 2 * c, 3, { stride: 2, padding: 1, dtype });
  const mid = resBlock(2 * c, 2 * c, D, dtype);
  const up2 = ConvTranspose2d(2 * c, 2 * c, 4, { stride: 2, padding: 1, dtype });
  const res3 = resBlock(4 * c, 2 * c, D, dtype);
  const up1 = ConvTranspose2d(2 * c, c, 4, { stride: 2, padding: 1, dtype });
  const res4 = resBlock(2 * c, c, D, dtype);
  const outConv = Conv2d(c, 1, 3, { padding: 1, dtype });
  const dim = H * W;
  return {
    config: cfg,
    dim,
    init(k: Key): UNetParams {
      const ks = split(k, 13);
      return {
        time1: time1.init(ks[0]),
        time2: time2.init(ks[1]),
        inConv: inConv.init(ks[2]),
        res1: res1.init(ks[3]),
        down1: down1.init(ks[4]),
        res2: res2.init(ks[5]),
        down2: down2.init(ks[6]),
        mid: mid.init(ks[7]),
        up2: up2.init(ks[8]),
        res3: res3.init(ks[9]),
        up1: up1.init(ks[10]),
        res4: res4.init(ks[11]),
        outConv: outConv.init(ks[12]),
      };
    },
    apply(p: UNetParams, x: Tensor, t: Tensor): Tensor {
      const s = x.shape;
      const flat = s.length === 2 && s[1] === dim;
      if (!flat && !(s.length === 4 && s[1] === 1 && s[2] === H && s[3] === W))
        throw new ShapeError(`UNet: images must be [n, ${dim}] or [n, 1, ${H}, ${W}], got ${fmtShape(s)}`);
      const n = s[0];
      if (t.size !== n) throw new ShapeError(`UNet: t must hold one step per image (${n}), got ${fmtShape(t.shape)}`);
      const temb = silu(time2.apply(p.time2, silu(time1.apply(p.time1, emb(t)))));
      const img = flat ? reshape(x, [n, 1, H, W]) : x;
      const r1 = res1.apply(p.res1, inConv.apply(p.inConv, img), temb);
      const r2 = res2.apply(p.res2, down1.apply(p.down1, r1), temb);
      const m = mid.apply(p.mid, down2.apply(p.down2, r2), temb);
      const u2 = res3.apply(p.res3, concat([up2.apply(p.up2, m), r2], 1), temb);
      const u1 = res4.apply(p.res4, concat([up1.apply(p.up1, u2), r1], 1), temb);
      const out = outConv.apply(p.outConv, silu(u1));
      return flat ? reshape(out, [n, dim]) : out;
    },
  };
}
