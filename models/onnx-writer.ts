/**
 * Minimal ONNX writer: turns a plain graph description into ModelProto bytes with protobufjs,
 * using the subset of the official schema in ./onnx.proto.
 */
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import protobuf from 'protobufjs';

/** A dimension: a fixed size, or a name for a dynamic one. */
export type Dim = number | string;

/** Node attributes: a number is written as INT, an array as INTS (all we need for Conv/Concat). */
export type Attributes = Readonly<Record<string, number | readonly number[]>>;

export interface OnnxNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly attributes?: Attributes;
}

export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

export interface OnnxValue {
  readonly name: string;
  readonly dims: readonly Dim[];
  readonly elemType?: 'float32';
  readonly doc?: string;
}

export interface OnnxGraph {
  readonly name: string;
  readonly doc: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValue[];
  readonly outputs: readonly OnnxValue[];
}

export interface ModelInfo {
  readonly producer: string;
  readonly opset: number;
  readonly doc: string;
  readonly metadata: Readonly<Record<string, string>>;
}

const IR_VERSION = 8; // ONNX 1.10+, understood by every onnxruntime since 1.10
const DATA_TYPE = { float32: 1, int64: 7 } as const;
const ATTRIBUTE_TYPE = { INT: 2, INTS: 7 } as const;

let modelType: protobuf.Type | undefined;

function onnxModelType(): protobuf.Type {
  if (!modelType) {
    const source = readFileSync(new URL('./onnx.proto', import.meta.url), 'utf8');
    modelType = protobuf.parse(source, { keepCase: true }).root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

function littleEndianBytes(data: Float32Array | BigInt64Array): Uint8Array {
  if (endianness() !== 'LE')
    throw new Error('ONNX raw_data is little-endian; big-endian hosts are not supported');
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensorProto(tensor: OnnxTensor) {
  const dataType = tensor.data instanceof Float32Array ? DATA_TYPE.float32 : DATA_TYPE.int64;
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  if (count !== tensor.data.length) {
    throw new Error(
      `tensor ${tensor.name}: dims ${tensor.dims.join('x')} do not match ${tensor.data.length} values`,
    );
  }
  return {
    name: tensor.name,
    dims: [...tensor.dims],
    data_type: dataType,
    raw_data: littleEndianBytes(tensor.data),
  };
}

function attributeProto(name: string, value: number | readonly number[]) {
  if (typeof value === 'number') return { name, type: ATTRIBUTE_TYPE.INT, i: value };
  return { name, type: ATTRIBUTE_TYPE.INTS, ints: [...value] };
}

function nodeProto(node: OnnxNode, index: number) {
  return {
    name: node.name ?? `${node.op.toLowerCase()}_${index}`,
    op_type: node.op,
    input: [...node.inputs],
    output: [...node.outputs],
    attribute: Object.entries(node.attributes ?? {}).map(([name, value]) => attributeProto(name, value)),
  };
}

function valueInfoProto(value: OnnxValue) {
  const dim = value.dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return {
    name: value.name,
    doc_string: value.doc ?? '',
    type: { tensor_type: { elem_type: DATA_TYPE.float32, shape: { dim } } },
  };
}

/** Serialises a graph to the bytes of an .onnx file. */
export function encodeModel(graph: OnnxGraph, info: ModelInfo): Uint8Array {
  const type = onnxModelType();
  const model = type.fromObject({
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: info.opset }],
    producer_name: info.producer,
    doc_string: info.doc,
    metadata_props: Object.entries(info.metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: graph.name,
      doc_string: graph.doc,
      node: graph.nodes.map(nodeProto),
      initializer: graph.initializers.map(tensorProto),
      input: graph.inputs.map(valueInfoProto),
      output: graph.outputs.map(valueInfoProto),
    },
  });
  return type.encode(model).finish();
}
