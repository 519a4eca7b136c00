/**
 * FFDNet conversion exactness. No reference vectors ship with FFDNet, so the ONNX model is checked
 * against a plain re-implementation of the authors' layers written from their definitions (vl_nnSubP:
 * channel 4c + i holds the pixels at row offset i mod 2, column offset ⌊i/2⌋; concat σ/255; conv with
 * zero padding; ReLU) on a small odd-sized image, then tiled inference is checked against untiled.
 * Needs FFDNET_WEIGHTS_DIR.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CATALOG } from '../../../models/catalog.ts';
import { ensureModels } from '../../../models/convert.ts';
import { type ConvLayer, type MatLayer, readSimpleNN } from '../../../models/mat-reader.ts';
import { denoiseImage, denoisePlanar } from './denoise.ts';
import { once, requireEnvDir, syntheticImage, toPlanar } from './fixtures.ts';
import { createSession } from './session.ts';
import type { PlanarImage } from './tiled.ts';

type Tensor = { data: Float32Array; c: number; h: number; w: number };

const at = (t: Tensor, c: number, y: number, x: number) => t.data[(c * t.h + y) * t.w + x] ?? 0;

/** The authors' SubP 0.5 on an even-sized image, in 0-based terms. */
function unshuffle(t: Tensor): Tensor {
  const out: Tensor = { data: new Float32Array(t.data.length), c: t.c * 4, h: t.h / 2, w: t.w / 2 };
  for (let c = 0; c < t.c; c++)
    for (let i = 0; i < 4; i++)
      for (let y = 0; y < out.h; y++)
        for (let x = 0; x < out.w; x++)
          out.data[((4 * c + i) * out.h + y) * out.w + x] = at(
            t,
            c,
            2 * y + (i % 2),
            2 * x + Math.floor(i / 2),
          );
  return out;
}

function shuffle(t: Tensor): Tensor {
  const out: Tensor = { data: new Float32Array(t.data.length), c: t.c / 4, h: t.h * 2, w: t.w * 2 };
  for (let c = 0; c < out.c; c++)
    for (let i = 0; i < 4; i++)
      for (let y = 0; y < t.h; y++)
        for (let x = 0; x < t.w; x++)
          out.data[(c * out.h + 2 * y + (i % 2)) * out.w + 2 * x + Math.floor(i / 2)] = at(
            t,
            4 * c + i,
            y,
            x,
          );
  return out;
}

function conv(t: Tensor, layer: ConvLayer): Tensor {
  const [o, i, kh, kw] = layer.shape;
  const out: Tensor = { data: new Float32Array(o * t.h * t.w), c: o, h: t.h, w: t.w };
  for (let oc = 0; oc < o; oc++)
    for (let y = 0; y < t.h; y++)
      for (let x = 0; x < t.w; x++) {
        let sum = layer.bias[oc] ?? 0;
        for (let ic = 0; ic < i; ic++)
          for (let dy = 0; dy < kh; dy++)
            for (let dx = 0; dx < kw; dx++) {
              const yy = y + dy - 1;
              const xx = x + dx - 1;
              if (yy < 0 || xx < 0 || yy >= t.h || xx >= t.w) continue;
              sum += (layer.weight[((oc * i + ic) * kh + dy) * kw + dx] ?? 0) * at(t, ic, yy, xx);
            }
        out.data[(oc * t.h + y) * t.w + x] = sum;
      }
  return out;
}

/** The network exactly as the authors define it, on a planar image with even sides. */
function reference(layers: readonly MatLayer[], image: PlanarImage, sigma: number): Float32Array {
  let t: Tensor = { data: image.data, c: 3, h: image.height, w: image.width };
  for (const layer of layers) {
    if (layer.type === 'SubP') t = layer.scale === 0.5 ? unshuffle(t) : shuffle(t);
    else if (layer.type === 'concat') {
      const data = new Float32Array((t.c + 1) * t.h * t.w).fill(sigma / 255);
      data.set(t.data);
      t = { ...t, data, c: t.c + 1 };
    } else if (layer.type === 'conv') t = conv(t, layer);
    else t = { ...t, data: t.data.map((v) => Math.max(0, v)) };
  }
  return t.data;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

describe('FFDNet (fast): conversion and tiling', () => {
  const weightsDir = () =>
    requireEnvDir('FFDNET_WEIGHTS_DIR', 'the FFDNet .mat weights (../shared/models/ffdnet)');
  const model = once(async () => {
    const onnxDir = await mkdtemp(join(tmpdir(), 'pixtools-ffdnet-'));
    const dirs = { weightsDir: weightsDir(), ffdnetWeightsDir: weightsDir(), onnxDir };
    const paths = await ensureModels(dirs, { kinds: ['fast'] });
    const session = await createSession(paths.fast, { intraOpNumThreads: 2 });
    const layers = await readSimpleNN(join(weightsDir(), CATALOG.fast.matFile));
    return { session, layers, onnxDir };
  });
  after(async () => {
    const loaded = await model().catch(() => undefined);
    await loaded?.session.release();
    if (loaded) await rm(loaded.onnxDir, { recursive: true, force: true });
  });

  test('ONNX equals the authors’ layers on an odd-sized image (padded by repeating the last row/column)', async () => {
    const { session, layers } = await model();
    const noisy = toPlanar(syntheticImage(17, 11, 25, 7));
    const onnx = await denoisePlanar(session, noisy, { model: 'fast', sigma: 25, tileSize: 64 });
    // Pad as the authors' demo does: repeat the last row and column, run, crop.
    const padded = new Float32Array(3 * 18 * 12);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 12; y++)
        for (let x = 0; x < 18; x++)
          padded[(c * 12 + y) * 18 + x] = noisy.data[(c * 11 + Math.min(y, 10)) * 17 + Math.min(x, 16)] ?? 0;
    const full = reference(layers, { data: padded, width: 18, height: 12 }, 25);
    const expected = new Float32Array(3 * 17 * 11);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 11; y++)
        for (let x = 0; x < 17; x++) expected[(c * 11 + y) * 17 + x] = full[(c * 12 + y) * 18 + x] ?? 0;
    const diff = maxAbsDiff(onnx, expected);
    assert.ok(diff < 1e-4, `max |onnx − reference| = ${diff}`);
  });

  test('tiled (96 px tiles) is bit-identical to untiled on 301×203, float and 8-bit', async () => {
    const { session } = await model();
    const noisy = syntheticImage(301, 203, 25, 42);
    const options = { model: 'fast' as const, sigma: 25 };
    const whole = await denoisePlanar(session, toPlanar(noisy), { ...options, tileSize: 1024 });
    const tiled = await denoisePlanar(session, toPlanar(noisy), { ...options, tileSize: 96 });
    assert.equal(maxAbsDiff(whole, tiled), 0);
    const whole8 = await denoiseImage(session, noisy, { ...options, tileSize: 1024 });
    const tiled8 = await denoiseImage(session, noisy, { ...options, tileSize: 96 });
    assert.ok(whole8.equals(tiled8), 'the 8-bit outputs differ');
  });
});
