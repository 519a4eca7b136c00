/**
 * The ONNX writer and graph builder, checked without the real weights: small random networks are
 * encoded, run in onnxruntime and compared with a plain JavaScript reference implementation.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OPSET } from './convert.ts';
import { buildDnCNNGraph } from './dncnn-graph.ts';
import { type ConvLayer, type MatLayer, swapSpatialAxes } from './mat-reader.ts';
import { encodeModel } from './onnx-writer.ts';
import { ort } from './ort.ts';

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
}

function conv(name: string, inChannels: number, outChannels: number, next: () => number): ConvLayer {
  const weight = Float32Array.from({ length: outChannels * inChannels * 9 }, next);
  const bias = Float32Array.from({ length: outChannels }, next);
  return { type: 'conv', name, weight, bias, shape: [outChannels, inChannels, 3, 3], pads: [1, 1, 1, 1] };
}

/** CHW correlation with zero padding 1, as MatConvNet and ONNX define it. */
function referenceConv(x: Float32Array, h: number, w: number, layer: ConvLayer): Float32Array {
  const [outC, inC] = layer.shape;
  const y = new Float32Array(outC * h * w);
  for (let o = 0; o < outC; o++) {
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        let sum = layer.bias[o] ?? 0;
        for (let i = 0; i < inC; i++) {
          for (let kr = 0; kr < 3; kr++) {
            for (let kc = 0; kc < 3; kc++) {
              const [rr, cc] = [r + kr - 1, c + kc - 1];
              if (rr < 0 || cc < 0 || rr >= h || cc >= w) continue;
              sum += (layer.weight[((o * inC + i) * 3 + kr) * 3 + kc] ?? 0) * (x[(i * h + rr) * w + cc] ?? 0);
            }
          }
        }
        y[(o * h + r) * w + c] = sum;
      }
    }
  }
  return y;
}

function referenceNet(layers: readonly MatLayer[], input: Float32Array, h: number, w: number): Float32Array {
  return layers.reduce((x, layer) => {
    if (layer.type === 'conv') return referenceConv(x, h, w, layer);
    if (layer.type === 'relu') return x.map((v) => Math.max(0, v));
    return x;
  }, input);
}

async function run(layers: readonly MatLayer[], kind: 'blind' | 'clip', feeds: Record<string, ort.Tensor>) {
  const bytes = encodeModel(buildDnCNNGraph(kind, layers), {
    producer: 'test',
    opset: OPSET,
    doc: '',
    metadata: {},
  });
  const session = await ort.InferenceSession.create(bytes);
  const output = (await session.run(feeds)).output?.data;
  await session.release();
  assert.ok(output instanceof Float32Array);
  return output;
}

function assertClose(actual: Float32Array, expected: Float32Array): void {
  assert.equal(actual.length, expected.length);
  for (const [i, v] of actual.entries()) {
    assert.ok(Math.abs(v - (expected[i] ?? 0)) < 1e-5, `at ${i}: ${v} vs ${expected[i]}`);
  }
}

describe('DnCNN graph → ONNX', () => {
  const [h, w] = [7, 9];
  const next = random(7);
  const image = Float32Array.from({ length: 3 * h * w }, () => next() + 0.5);

  test('blind: output = input − net(input), non-square image', async () => {
    const layers: MatLayer[] = [conv('c1', 3, 4, next), { type: 'relu', name: 'r1' }, conv('c2', 4, 3, next)];
    const output = await run(layers, 'blind', { input: new ort.Tensor('float32', image, [1, 3, h, w]) });
    const residual = referenceNet(layers, image, h, w);
    assertClose(
      output,
      image.map((v, i) => v - (residual[i] ?? 0)),
    );
  });

  test('clip: output = net([input, sigma/255 map])', async () => {
    const body: MatLayer[] = [conv('c1', 4, 5, next), { type: 'relu', name: 'r1' }, conv('c2', 5, 3, next)];
    const layers: MatLayer[] = [{ type: 'concat', name: 'cat' }, ...body];
    const sigma = new ort.Tensor('float32', Float32Array.of(30), [1]);
    const output = await run(layers, 'clip', {
      input: new ort.Tensor('float32', image, [1, 3, h, w]),
      sigma,
    });
    const withMap = Float32Array.from([...image, ...new Array<number>(h * w).fill(30 / 255)]);
    assertClose(output, referenceNet(body, withMap, h, w));
  });

  test('rejects a network that does not match the model kind', () => {
    const layers: MatLayer[] = [conv('c1', 3, 3, next)];
    assert.throws(() => buildDnCNNGraph('clip', layers), /concat/);
    assert.throws(() => buildDnCNNGraph('blind', [conv('c1', 4, 3, next)]), /expected convs 3/);
  });
});

test('swapSpatialAxes turns MATLAB [O][I][W][H] storage into ONNX [O][I][H][W]', () => {
  // One 2(H)×3(W) kernel whose value encodes its position: 10·row + col.
  const hdf5Order = Float32Array.of(0, 10, 1, 11, 2, 12); // [W][H]: column-major H×W
  assert.deepEqual([...swapSpatialAxes(hdf5Order, [1, 1, 3, 2])], [0, 1, 2, 10, 11, 12]);
});
