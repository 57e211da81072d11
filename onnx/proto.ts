/**
 * ONNX protobuf messages (the subset of `onnx.proto` this project reads and writes), encoded and
 * decoded with protobufjs. Field numbers follow onnx/onnx `onnx.proto` (proto2 syntax).
 * @module
 */
import protobuf from "npm:protobufjs@8.8.1";

/** `TensorProto.DataType` numbers. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;

/** `AttributeProto.AttributeType` numbers. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

/** `TensorProto`; integers are JS numbers (int64 values beyond 2^53 are refused on decode). */
export interface TensorProto {
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
}

/** `AttributeProto`. */
export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  docString?: string;
}

/** `NodeProto`. */
export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute?: AttributeProto[];
  docString?: string;
}

/** `TensorShapeProto.Dimension`: a fixed size or a symbolic name. */
export interface DimensionProto {
  dimValue?: number;
  dimParam?: string;
}

/** `TypeProto` (tensor types only). */
export interface TypeProto {
  tensorType?: { elemType?: number; shape?: { dim?: DimensionProto[] } };
}

/** `ValueInfoProto`. */
export interface ValueInfoProto {
  name: string;
  type?: TypeProto;
  docString?: string;
}

/** `GraphProto`. */
export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  docString?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}

/** `OperatorSetIdProto`. */
export interface OperatorSetIdProto {
  domain?: string;
  version: number;
}

/** `ModelProto`. */
export interface ModelProto {
  irVersion?: number;
  opsetImport?: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: { key: string; value: string }[];
}

const f = (id: number, type: string, rule?: "repeated") => ({ id, type, ...(rule ? { rule } : {}) });

// proto2 in onnx.proto: repeated scalars are not packed, as the reference Python writer emits them.
const unpacked = (id: number, type: string) => ({ id, type, rule: "repeated", options: { packed: false } });

const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: f(1, "string"),
            f: f(2, "float"),
            i: f(3, "int64"),
            s: f(4, "bytes"),
            t: f(5, "TensorProto"),
            g: f(6, "GraphProto"),
            floats: unpacked(7, "float"),
            ints: unpacked(8, "int64"),
            strings: f(9, "bytes", "repeated"),
            tensors: f(10, "TensorProto", "repeated"),
            graphs: f(11, "GraphProto", "repeated"),
            docString: f(13, "string"),
            type: f(20, "int32"),
            refAttrName: f(21, "string"),
          },
        },
        ValueInfoProto: {
          fields: { name: f(1, "string"), type: f(2, "TypeProto"), docString: f(3, "string") },
        },
        NodeProto: {
          fields: {
            input: f(1, "string", "repeated"),
            output: f(2, "string", "repeated"),
            name: f(3, "string"),
            opType: f(4, "string"),
            attribute: f(5, "AttributeProto", "repeated"),
            docString: f(6, "string"),
            domain: f(7, "string"),
          },
        },
        StringStringEntryProto: { fields: { key: f(1, "string"), value: f(2, "string") } },
        OperatorSetIdProto: { fields: { domain: f(1, "string"), version: f(2, "int64") } },
        ModelProto: {
          fields: {
            irVersion: f(1, "int64"),
            producerName: f(2, "string"),
            producerVersion: f(3, "string"),
            domain: f(4, "string"),
            modelVersion: f(5, "int64"),
            docString: f(6, "string"),
            graph: f(7, "GraphProto"),
            opsetImport: f(8, "OperatorSetIdProto", "repeated"),
            metadataProps: f(14, "StringStringEntryProto", "repeated"),
          },
        },
        GraphProto: {
          fields: {
            node: f(1, "NodeProto", "repeated"),
            name: f(2, "string"),
            initializer: f(5, "TensorProto", "repeated"),
            docString: f(10, "string"),
            input: f(11, "ValueInfoProto", "repeated"),
            output: f(12, "ValueInfoProto", "repeated"),
            valueInfo: f(13, "ValueInfoProto", "repeated"),
          },
        },
        TensorProto: {
          fields: {
            dims: unpacked(1, "int64"),
            dataType: f(2, "int32"),
            floatData: { id: 4, type: "float", rule: "repeated", options: { packed: true } },
            int32Data: { id: 5, type: "int32", rule: "repeated", options: { packed: true } },
            stringData: f(6, "bytes", "repeated"),
            int64Data: { id: 7, type: "int64", rule: "repeated", options: { packed: true } },
            name: f(8, "string"),
            rawData: f(9, "bytes"),
            doubleData: { id: 10, type: "double", rule: "repeated", options: { packed: true } },
            docString: f(12, "string"),
            dataLocation: f(14, "int32"),
          },
        },
        TensorShapeProto: {
          fields: { dim: f(1, "Dimension", "repeated") },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ["dimValue", "dimParam"] } },
              fields: { dimValue: f(1, "int64"), dimParam: f(2, "string"), denotation: f(3, "string") },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ["tensorType"] } },
          fields: { tensorType: f(1, "Tensor"), denotation: f(6, "string") },
          nested: { Tensor: { fields: { elemType: f(1, "int32"), shape: f(2, "TensorShapeProto") } } },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(SCHEMA as protobuf.INamespace);
const Model = root.lookupType("onnx.ModelProto");
const Tensor = root.lookupType("onnx.TensorProto");

/** Encodes a model to ONNX bytes; the same object always yields the same bytes. */
export function encodeModel(model: ModelProto): Uint8Array {
  return Model.encode(Model.fromObject(model as Record<string, unknown>)).finish();
}

/** Encodes one tensor to `TensorProto` bytes (the form external `.pb` test data uses). */
export function encodeTensor(tensor: TensorProto): Uint8Array {
  return Tensor.encode(Tensor.fromObject(tensor as Record<string, unknown>)).finish();
}

/** Decodes ONNX bytes to a plain `ModelProto`, with a clear error naming `source` when they are not a model. */
export function decodeModel(bytes: Uint8Array, source = "<bytes>"): ModelProto {
  if (bytes.byteLength === 0) throw new Error(`Cannot read ONNX model "${source}": the file is empty`);
  let message: protobuf.Message;
  try {
    message = Model.decode(bytes);
  } catch (e) {
    const why = (e as Error).message;
    const truncated = /^index out of range/.test(why)
      ? "the data ends inside a field (a truncated file?)"
      : why;
    throw new Error(`Cannot read ONNX model "${source}": not a valid protobuf ModelProto (${truncated})`);
  }
  const model = Model.toObject(message, {
    longs: Number,
    bytes: Uint8Array as unknown as StringConstructor,
  }) as ModelProto;
  if (!model.graph) throw new Error(`Cannot read ONNX model "${source}": it has no graph`);
  if (!model.opsetImport?.length) throw new Error(`Cannot read ONNX model "${source}": it declares no opset`);
  return model;
}

/** Decodes `TensorProto` bytes. */
export function decodeTensor(bytes: Uint8Array, source = "<bytes>"): TensorProto {
  try {
    return Tensor.toObject(Tensor.decode(bytes), {
      longs: Number,
      bytes: Uint8Array as unknown as StringConstructor,
    }) as TensorProto;
  } catch (e) {
    throw new Error(`Cannot read tensor "${source}": ${(e as Error).message}`);
  }
}
