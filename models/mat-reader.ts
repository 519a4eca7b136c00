/**
 * Reads a MatConvNet "simplenn" network (`net.layers`, a cell array of structs) from a MATLAB v7.3
 * .mat file, which is an HDF5 file: the cell array is a dataset of object references into `#refs#`.
 *
 * MATLAB stores arrays column-major, so a conv filter of MATLAB size H×W×Cin×Cout appears in HDF5
 * (row-major) with the dimensions reversed: [Cout][Cin][W][H]. ONNX wants [Cout][Cin][H][W], so the
 * two spatial axes are swapped here. MatConvNet's vl_nnconv is a correlation, like ONNX Conv, so the
 * kernels are not flipped. (Verified against the exact test vectors in the integration test.)
 */
import { resolve } from 'node:path';
import type { Dataset, Group, File as H5File, Reference } from 'h5wasm/node';

// h5wasm is imported lazily: loading it costs ~600 MB of RSS that is never returned, so a process
// that only needs the converted ONNX files (the denoiser) must not pay for it.
type H5 = typeof import('h5wasm/node');

export interface ConvLayer {
  readonly type: 'conv';
  readonly name: string;
  /** OIHW, row-major, ready for ONNX. */
  readonly weight: Float32Array;
  readonly shape: readonly [outChannels: number, inChannels: number, height: number, width: number];
  readonly bias: Float32Array;
  /** ONNX order: [top, left, bottom, right]. */
  readonly pads: readonly [number, number, number, number];
}

export type MatLayer =
  | ConvLayer
  | { readonly type: 'relu'; readonly name: string }
  | { readonly type: 'concat'; readonly name: string }
  /** FFDNet's sub-pixel layer: scale 0.5 is a 2×2 space-to-depth, scale 2 its inverse. */
  | { readonly type: 'SubP'; readonly name: string; readonly scale: number };

let h5: H5 | undefined;

function asGroup(entity: unknown, what: string): Group {
  if (!h5 || !(entity instanceof h5.Group)) throw new Error(`${what}: expected a MATLAB struct (HDF5 group)`);
  return entity;
}

function asDataset(entity: unknown, what: string): Dataset {
  if (!h5 || !(entity instanceof h5.Dataset))
    throw new Error(`${what}: expected a MATLAB array (HDF5 dataset)`);
  return entity;
}

function matString(group: Group, field: string): string {
  const value = asDataset(group.get(field), field).value;
  if (!(value instanceof Uint16Array)) throw new Error(`${field}: expected a MATLAB char array`);
  return String.fromCharCode(...value);
}

function matNumbers(group: Group, field: string, fallback: readonly number[]): number[] {
  if (!group.keys().includes(field)) return [...fallback];
  const value = asDataset(group.get(field), field).value;
  if (!(value instanceof Float64Array)) throw new Error(`${field}: expected a MATLAB double array`);
  return [...value];
}

/** Swaps the last two axes of a [O][I][A][B] array: MATLAB's H×W becomes ONNX's H then W. */
export function swapSpatialAxes(data: Float32Array, [o, i, a, b]: readonly number[]): Float32Array {
  if (o === undefined || i === undefined || a === undefined || b === undefined)
    throw new Error('need 4 dims');
  const out = new Float32Array(data.length);
  for (let oi = 0; oi < o * i; oi++) {
    const base = oi * a * b;
    for (let x = 0; x < a; x++)
      for (let y = 0; y < b; y++) out[base + y * a + x] = data[base + x * b + y] ?? 0;
  }
  return out;
}

function pads(group: Group, name: string): ConvLayer['pads'] {
  const pad = matNumbers(group, 'pad', [0]);
  const [top, bottom, left, right] = pad.length === 1 ? [pad[0], pad[0], pad[0], pad[0]] : pad;
  if ([top, bottom, left, right].some((p) => p === undefined)) throw new Error(`${name}: bad pad ${pad}`);
  return [top ?? 0, left ?? 0, bottom ?? 0, right ?? 0];
}

function convLayer(file: H5File, group: Group, name: string): ConvLayer {
  for (const field of ['stride', 'dilate']) {
    if (matNumbers(group, field, [1]).some((v) => v !== 1))
      throw new Error(`${name}: ${field} ≠ 1 unsupported`);
  }
  const refs = asDataset(group.get('weights'), `${name}.weights`).value as Reference[];
  const [filters, biases] = refs.map((ref) => asDataset(file.dereference(ref), `${name}.weights`));
  if (!filters || !biases) throw new Error(`${name}: expected {filters, biases}`);
  const [o, i, w, h] = filters.shape ?? [];
  if (o === undefined || i === undefined || w === undefined || h === undefined || filters.dtype !== '<f') {
    throw new Error(`${name}: expected single-precision H×W×Cin×Cout filters, got ${filters.shape}`);
  }
  const weight = swapSpatialAxes(filters.value as Float32Array, [o, i, w, h]);
  const bias = Float32Array.from(biases.value as Float32Array);
  if (bias.length !== o) throw new Error(`${name}: ${bias.length} biases for ${o} filters`);
  return { type: 'conv', name, weight, shape: [o, i, h, w], bias, pads: pads(group, name) };
}

function reluLayer(group: Group, name: string): MatLayer {
  if (matNumbers(group, 'leak', [0]).some((v) => v !== 0)) throw new Error(`${name}: leaky ReLU unsupported`);
  return { type: 'relu', name };
}

function readLayer(file: H5File, ref: Reference, index: number): MatLayer {
  const group = asGroup(file.dereference(ref), `layer ${index + 1}`);
  const type = matString(group, 'type');
  const name = group.keys().includes('name') ? matString(group, 'name') : `layer${index + 1}`;
  switch (type) {
    case 'conv':
      return convLayer(file, group, name);
    case 'relu':
      return reluLayer(group, name);
    case 'concat':
      return { type: 'concat', name };
    case 'SubP':
      return { type: 'SubP', name, scale: matNumbers(group, 'scale', [Number.NaN])[0] ?? Number.NaN };
    default:
      throw new Error(`${name}: unsupported MatConvNet layer type "${type}"`);
  }
}

/** Reads every layer of `net.layers` from a MatConvNet simplenn .mat (v7.3) file. */
export async function readSimpleNN(matPath: string): Promise<MatLayer[]> {
  h5 ??= await import('h5wasm/node');
  await h5.ready;
  const file = new h5.File(resolve(matPath), 'r');
  try {
    if (!file.keys().includes('net'))
      throw new Error(`${matPath}: no "net" variable (not a MatConvNet model)`);
    const net = asGroup(file.get('net'), 'net');
    if (!net.keys().includes('layers'))
      throw new Error(`${matPath}: net.layers missing (DagNN is not supported)`);
    const refs = asDataset(net.get('layers'), 'net.layers').value as Reference[];
    return refs.map((ref, index) => readLayer(file, ref, index));
  } finally {
    file.close();
  }
}
