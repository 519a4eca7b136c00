/**
 * Builds the ONNX graph of a DnCNN-family network from its MatConvNet layers.
 *
 * - blind (CDnCNN-B): `input` [N,3,H,W] in [0,1] → `output` = input − net(input).
 * - clip (FDnCNN):    `input` [N,3,H,W] in [0,1] and `sigma` [1] on the 0–255 scale → `output` =
 *   net(concat(input, sigma/255 broadcast to [N,1,H,W])). The map is built inside the graph, so
 *   callers never allocate it and tiles can be any size.
 * Height and width are dynamic; every conv is 3×3 with padding 1, so the receptive field is 41×41.
 */
import type { ConvLayer, MatLayer } from './mat-reader.ts';
import type { OnnxGraph, OnnxNode, OnnxTensor, OnnxValue } from './onnx-writer.ts';

const IMAGE_DIMS = ['N', 3, 'H', 'W'] as const;

export function convNodes(
  layers: readonly MatLayer[],
  input: string,
): { nodes: OnnxNode[]; tensors: OnnxTensor[]; last: string } {
  const nodes: OnnxNode[] = [];
  const tensors: OnnxTensor[] = [];
  let last = input;
  for (const [index, layer] of layers.entries()) {
    const out = `x${index + 1}`;
    if (layer.type === 'conv') {
      tensors.push({ name: `${layer.name}.weight`, dims: layer.shape, data: layer.weight });
      tensors.push({ name: `${layer.name}.bias`, dims: [layer.bias.length], data: layer.bias });
      nodes.push(convNode(layer, last, out));
    } else if (layer.type === 'relu') {
      nodes.push({ op: 'Relu', name: layer.name, inputs: [last], outputs: [out] });
    } else {
      throw new Error(`${layer.name}: a ${layer.type} layer is only supported as the first layer`);
    }
    last = out;
  }
  return { nodes, tensors, last };
}

function convNode(layer: ConvLayer, input: string, output: string): OnnxNode {
  const [top, left, bottom, right] = layer.pads;
  return {
    op: 'Conv',
    name: layer.name,
    inputs: [input, `${layer.name}.weight`, `${layer.name}.bias`],
    outputs: [output],
    attributes: {
      kernel_shape: [layer.shape[2], layer.shape[3]],
      pads: [top, left, bottom, right],
      strides: [1, 1],
      dilations: [1, 1],
    },
  };
}

/** Nodes that turn `sigma` [1] (0–255) into a [N,1,H,W] map of sigma/255 and append it to `source`. */
export function noiseMapNodes(source = 'input'): {
  nodes: OnnxNode[];
  tensors: OnnxTensor[];
  output: string;
} {
  const tensors: OnnxTensor[] = [
    { name: 'c255', dims: [1], data: Float32Array.of(255) },
    { name: 'shape_1111', dims: [4], data: BigInt64Array.of(1n, 1n, 1n, 1n) },
    { name: 'i0', dims: [1], data: BigInt64Array.of(0n) },
    { name: 'i1', dims: [1], data: BigInt64Array.of(1n) },
    { name: 'i2', dims: [1], data: BigInt64Array.of(2n) },
    { name: 'i4', dims: [1], data: BigInt64Array.of(4n) },
  ];
  const nodes: OnnxNode[] = [
    { op: 'Div', inputs: ['sigma', 'c255'], outputs: ['sigma_unit'] },
    { op: 'Reshape', inputs: ['sigma_unit', 'shape_1111'], outputs: ['sigma_4d'] },
    { op: 'Shape', inputs: [source], outputs: ['input_shape'] },
    { op: 'Slice', inputs: ['input_shape', 'i0', 'i1'], outputs: ['dim_n'] },
    { op: 'Slice', inputs: ['input_shape', 'i2', 'i4'], outputs: ['dim_hw'] },
    { op: 'Concat', inputs: ['dim_n', 'i1', 'dim_hw'], outputs: ['map_shape'], attributes: { axis: 0 } },
    { op: 'Expand', inputs: ['sigma_4d', 'map_shape'], outputs: ['noise_map'] },
    { op: 'Concat', inputs: [source, 'noise_map'], outputs: ['x0'], attributes: { axis: 1 } },
  ];
  return { nodes, tensors, output: 'x0' };
}

function checkChannels(convs: readonly ConvLayer[], inChannels: number): void {
  const first = convs[0];
  const last = convs[convs.length - 1];
  if (!first || !last || first.shape[1] !== inChannels || last.shape[0] !== 3) {
    throw new Error(`expected convs ${inChannels}→…→3, got ${first?.shape[1]}→…→${last?.shape[0]}`);
  }
}

/** Builds the graph for one model kind; throws if the layers do not look like that kind. */
export function buildDnCNNGraph(kind: 'blind' | 'clip', layers: readonly MatLayer[]): OnnxGraph {
  const hasConcat = layers[0]?.type === 'concat';
  if (hasConcat !== (kind === 'clip')) {
    throw new Error(`${kind} model ${hasConcat ? 'must not' : 'must'} start with a concat (noise map) layer`);
  }
  const body = hasConcat ? layers.slice(1) : layers;
  checkChannels(
    body.filter((l): l is ConvLayer => l.type === 'conv'),
    kind === 'clip' ? 4 : 3,
  );
  const image: OnnxValue = { name: 'input', dims: IMAGE_DIMS, doc: 'RGB, planar, values in [0,1]' };
  const sigma: OnnxValue = { name: 'sigma', dims: [1], doc: 'noise standard deviation on the 0-255 scale' };
  const output: OnnxValue = { name: 'output', dims: IMAGE_DIMS, doc: 'denoised RGB, not clipped' };
  if (kind === 'blind') {
    const net = convNodes(body, 'input');
    const sub: OnnxNode = { op: 'Sub', name: 'residual', inputs: ['input', net.last], outputs: ['output'] };
    return {
      name: 'dncnn_color_blind',
      doc: 'CDnCNN-B: output = input - residual(input)',
      nodes: [...net.nodes, sub],
      initializers: net.tensors,
      inputs: [image],
      outputs: [output],
    };
  }
  const map = noiseMapNodes();
  const net = convNodes(body, map.output);
  const identity: OnnxNode = { op: 'Identity', inputs: [net.last], outputs: ['output'] };
  return {
    name: 'fdncnn_clip_color',
    doc: 'FDnCNN (clip): output = net(concat(input, sigma/255))',
    nodes: [...map.nodes, ...net.nodes, identity],
    initializers: [...map.tensors, ...net.tensors],
    inputs: [image, sigma],
    outputs: [output],
  };
}
