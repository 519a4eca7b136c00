/**
 * Builds the ONNX graph of FFDNet (colour) from its MatConvNet layers:
 * SubP 0.5 (2×2 unshuffle, 3 → 12 channels) · concat σ/255 map (→ 13) · 12 conv 3×3 with ReLU between
 * (13→96, ten 96→96, 96→12) · SubP 2 (shuffle back). The network outputs the clean image directly.
 *
 * Channel order. The authors' `vl_nnSubP` puts, for colour c (0-based) and i = 0..3, the sub-image at
 * row offset i mod 2 and column offset ⌊i/2⌋ into channel 4c + i. ONNX `SpaceToDepth` (and
 * `DepthToSpace` in DCR mode, its inverse) put the sub-image at (row r, column s) of colour c into
 * channel (2r + s)·3 + c instead. Rather than shuffling tensors at run time, the converter permutes the
 * first conv's input channels and the last conv's output channels (and biases) into the ONNX order, so
 * the graph is exactly the authors' network with two standard ops around it.
 *
 * `input` [N,3,H,W] in [0,1], H and W even (callers pad odd sizes by repeating the last row/column, as
 * the authors' demo does); `sigma` [1] on the 0–255 scale. Receptive field: 12 convs at half resolution,
 * ±25 image pixels for tiles that start on even coordinates.
 */
import { convNodes, noiseMapNodes } from './dncnn-graph.ts';
import type { ConvLayer, MatLayer } from './mat-reader.ts';
import type { OnnxGraph, OnnxNode, OnnxValue } from './onnx-writer.ts';

const IMAGE_DIMS = ['N', 3, 'H', 'W'] as const;

/** For ONNX channel k (= (2r + s)·3 + c), the authors' channel 4c + r + 2s. */
export function authorsChannel(onnxChannel: number): number {
  const c = onnxChannel % 3;
  const offset = Math.floor(onnxChannel / 3);
  const r = Math.floor(offset / 2);
  const s = offset % 2;
  return 4 * c + r + 2 * s;
}

/** Reorders the first conv's input channels 0..11 (channel 12, the noise map, stays). */
function permuteInputs(layer: ConvLayer): ConvLayer {
  const [o, i, h, w] = layer.shape;
  const plane = h * w;
  const weight = new Float32Array(layer.weight.length);
  for (let out = 0; out < o; out++)
    for (let k = 0; k < i; k++) {
      const from = k < 12 ? authorsChannel(k) : k;
      weight.set(
        layer.weight.subarray((out * i + from) * plane, (out * i + from + 1) * plane),
        (out * i + k) * plane,
      );
    }
  return { ...layer, weight };
}

/** Reorders the last conv's 12 output channels (filters and biases). */
function permuteOutputs(layer: ConvLayer): ConvLayer {
  const [o, i, h, w] = layer.shape;
  const filter = i * h * w;
  const weight = new Float32Array(layer.weight.length);
  const bias = new Float32Array(o);
  for (let k = 0; k < o; k++) {
    const from = authorsChannel(k);
    weight.set(layer.weight.subarray(from * filter, (from + 1) * filter), k * filter);
    bias[k] = layer.bias[from] ?? 0;
  }
  return { ...layer, weight, bias };
}

function checkLayout(layers: readonly MatLayer[]): readonly MatLayer[] {
  const [first, second] = layers;
  const last = layers[layers.length - 1];
  if (first?.type !== 'SubP' || first.scale !== 0.5 || second?.type !== 'concat')
    throw new Error('FFDNet must start with SubP (scale 0.5) and a concat (noise map) layer');
  if (last?.type !== 'SubP' || last.scale !== 2) throw new Error('FFDNet must end with SubP (scale 2)');
  const body = layers.slice(2, -1);
  const convs = body.filter((l): l is ConvLayer => l.type === 'conv');
  if (convs[0]?.shape[1] !== 13 || convs[convs.length - 1]?.shape[0] !== 12)
    throw new Error(
      `expected convs 13→…→12, got ${convs[0]?.shape[1]}→…→${convs[convs.length - 1]?.shape[0]}`,
    );
  return body;
}

export function buildFFDNetGraph(name: string, layers: readonly MatLayer[]): OnnxGraph {
  const body = checkLayout(layers);
  const firstConv = body.findIndex((l) => l.type === 'conv');
  const lastConv = body.findLastIndex((l) => l.type === 'conv');
  const permuted = body.map((layer, index) => {
    if (layer.type !== 'conv') return layer;
    if (index === firstConv) return permuteInputs(layer);
    return index === lastConv ? permuteOutputs(layer) : layer;
  });
  const unshuffle: OnnxNode = {
    op: 'SpaceToDepth',
    name: 'subp_down',
    inputs: ['input'],
    outputs: ['down'],
    attributes: { blocksize: 2 },
  };
  const map = noiseMapNodes('down');
  const net = convNodes(permuted, map.output);
  const shuffle: OnnxNode = {
    op: 'DepthToSpace',
    name: 'subp_up',
    inputs: [net.last],
    outputs: ['output'],
    attributes: { blocksize: 2 },
  };
  const image: OnnxValue = {
    name: 'input',
    dims: IMAGE_DIMS,
    doc: 'RGB, planar, values in [0,1], even H and W',
  };
  const sigma: OnnxValue = { name: 'sigma', dims: [1], doc: 'noise standard deviation on the 0-255 scale' };
  const output: OnnxValue = { name: 'output', dims: IMAGE_DIMS, doc: 'denoised RGB, not clipped' };
  return {
    name,
    doc: 'FFDNet: output = shuffle(net(concat(unshuffle(input), sigma/255)))',
    nodes: [unshuffle, ...map.nodes, ...net.nodes, shuffle],
    initializers: [...map.tensors, ...net.tensors],
    inputs: [image, sigma],
    outputs: [output],
  };
}
