/**
 * A minimal PNG writer (ISO/IEC 15948): 8-bit greyscale or RGB, no interlace, filter type 0 on
 * every row, the image data deflated by node:zlib, each chunk closed by its CRC-32. Plus a grid
 * layout for looking at model samples and reconstructions.
 */
import { writeFileAtomic } from './atomic.js';
import { deflateSync } from 'node:zlib';
import { ShapeError, ValueError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32 (the polynomial 0xEDB88320 of PNG, zlib and Ethernet) of `bytes`.
 * @example crc32(new TextEncoder().encode('IEND')) // 0xae426082
 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length, false);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)), false);
  return out;
}

/**
 * Encodes 8-bit pixels (row-major, `channels` interleaved: 1 grey, 3 RGB) as PNG bytes.
 * @example encodePng(new Uint8Array([0, 255, 255, 0]), 2, 2) // a 2×2 checkerboard
 */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3 = 1): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new ValueError(`encodePng: width and height must be positive integers, got ${width}×${height}`);
  if (channels !== 1 && channels !== 3) throw new ValueError(`encodePng: channels must be 1 or 3, got ${String(channels)}`);
  if (pixels.length !== width * height * channels) throw new ShapeError(`encodePng: ${pixels.length} bytes do not fill ${width}×${height}×${channels}`);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width, false);
  v.setUint32(4, height, false);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 1 ? 0 : 2; // colour type: greyscale or truecolour
  // Bytes 10–12: deflate compression, adaptive filtering, no interlace, all 0.
  const row = width * channels;
  const raw = new Uint8Array((row + 1) * height);
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * row, (y + 1) * row), y * (row + 1) + 1); // filter byte 0 (None)
  const sig = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const parts = [sig, chunk('IHDR', ihdr), chunk('IDAT', new Uint8Array(deflateSync(raw))), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Options of `imageGrid`. */
export interface GridOptions {
  /** Images per row; default ⌈√n⌉. */
  cols?: number;
  /** Pixels between images (drawn in `padValue`); default 2. */
  pad?: number;
  /** Grey level of the padding, 0–255; default 128. */
  padValue?: number;
}

/**
 * Lays out n greyscale images of h×w pixels with values in [0, 1] (clipped) in a grid: returns
 * 8-bit pixels and the grid's size. `images` is [n, h·w] or [n, h, w], a tensor or a Float32Array.
 * @example const g = imageGrid(xs, 28, 28, { cols: 10 }); savePng('grid.png', g.pixels, g.width, g.height)
 */
export function imageGrid(images: Tensor | Float32Array | Float64Array, h: number, w: number, opts: GridOptions = {}): {
  /** 8-bit grey pixels, height × width, row-major. */
  pixels: Uint8Array;
  /** The grid's width in pixels. */
  width: number;
  /** The grid's height in pixels. */
  height: number;
} {
  const data = images instanceof Tensor ? images.dataSync() : images;
  const d = h * w;
  if (d < 1 || data.length % d !== 0) throw new ShapeError(`imageGrid: ${data.length} values are not a whole number of ${h}×${w} images`);
  const n = data.length / d;
  const cols = opts.cols ?? Math.max(1, Math.ceil(Math.sqrt(n)));
  const rows = Math.max(1, Math.ceil(n / cols));
  const pad = opts.pad ?? 2;
  const width = cols * w + (cols + 1) * pad;
  const height = rows * h + (rows + 1) * pad;
  const pixels = new Uint8Array(width * height).fill(opts.padValue ?? 128);
  for (let i = 0; i < n; i++) {
    const oy = pad + Math.floor(i / cols) * (h + pad);
    const ox = pad + (i % cols) * (w + pad);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const v = data[i * d + y * w + x];
        pixels[(oy + y) * width + ox + x] = Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)));
      }
  }
  return { pixels, width, height };
}

/**
 * Writes a PNG file (see `encodePng`).
 * @example savePng('samples.png', pixels, 300, 300)
 */
export function savePng(path: string, pixels: Uint8Array, width: number, height: number, channels: 1 | 3 = 1): void {
  writeFileAtomic(path, encodePng(pixels, width, height, channels));
}

/**
 * Writes a grid of [0, 1] greyscale images as a PNG (see `imageGrid`).
 * @example saveImageGrid('recon.png', xs, 28, 28, { cols: 10 })
 */
export function saveImageGrid(path: string, images: Tensor | Float32Array | Float64Array, h: number, w: number, opts: GridOptions = {}): void {
  const g = imageGrid(images, h, w, opts);
  savePng(path, g.pixels, g.width, g.height);
}
