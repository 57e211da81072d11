/**
 * A typed ONNX graph builder: named values with dtype and static or symbolic shape, initializers,
 * inputs and outputs, nodes whose output types come from the shape rules in `shapes.ts`, scoped
 * parameter names (`push("layer.0")`) and deterministic serialisation.
 * @module
 */
import { type AttributeProto, AttributeType, encodeModel, type ModelProto, type NodeProto } from "./proto.ts";
import { type DType, dtypeOf, onnxType, type Tensor, tensorFromProto, tensorToProto } from "./tensor.ts";
import { inferTypes } from "./shapes.ts";

/** A dimension: a fixed size, or a symbolic name (`"batch"`, or a product such as `"batch*seq"`). */
export type Dim = number | string;

/** A value's type. */
export interface ValueType {
  dtype: DType;
  shape: Dim[];
}

/** An attribute value: numbers (integers become INT unless the name is a float attribute), strings, arrays, tensors. */
export type AttrValue = number | string | number[] | string[] | Tensor | FloatAttr | FloatsAttr;

/** Forces a FLOAT attribute for an integral number (e.g. `alpha: float(1)`). */
export class FloatAttr {
  constructor(readonly value: number) {}
}
/** Forces a FLOATS attribute. */
export class FloatsAttr {
  constructor(readonly value: number[]) {}
}
/** Wraps a number as a FLOAT attribute. */
export const float = (v: number): FloatAttr => new FloatAttr(v);
/** Wraps numbers as a FLOATS attribute. */
export const floats = (v: number[]): FloatsAttr => new FloatsAttr(v);

const FLOAT_ATTRIBUTE_NAMES = new Set([
  "epsilon",
  "alpha",
  "beta",
  "gamma",
  "ratio",
  "value_float",
  "lambd",
  "bias",
]);

/** Attributes of one node. */
export type Attrs = Record<string, AttrValue>;

/** One node of the graph. */
export interface Node {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Attrs;
}

/** A named value in a graph; every op helper takes and returns these. */
export class Value implements ValueType {
  constructor(
    readonly graph: Graph,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Dim[],
  ) {}
  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }
  /** Shape as text, for error messages. */
  toString(): string {
    return `${this.name}: ${this.dtype}[${this.shape.join(", ")}]`;
  }
}

/** Options of `Graph.op`. */
export interface OpOptions {
  /** Explicit output types (needed for ops without a shape rule). */
  types?: ValueType[];
  /** Number of outputs (default: what the rule returns, or 1). */
  outputs?: number;
  /** Output names (default: generated `val_N`). */
  names?: (string | undefined)[];
  domain?: string;
}

/** Model-level options of `toModel`. */
export interface ModelOptions {
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

/** The ONNX IR version written (ONNX 1.15, opset 20). */
export const IR_VERSION = 9;
/** The default-domain opset written. */
export const OPSET = 20;

/**
 * Builds an ONNX graph.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { add } from "./ops.ts";
 * const g = new Graph("demo");
 * const x = g.input("x", "float32", ["n", 3]);
 * g.output(add(x, x), "y");
 * if (g.nodes.length !== 2) throw new Error("expected Add and the naming Identity");
 * ```
 */
export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  /** Initializers by name, in insertion order. */
  readonly initializers = new Map<string, Tensor>();
  /** Names of initializers that are trainable parameters (not constants). */
  readonly parameters = new Set<string>();
  /** Every value by name. */
  readonly values = new Map<string, Value>();
  /** Extra opset imports besides the default domain, e.g. `{"com.microsoft": 1}`. */
  readonly opsets: Record<string, number> = { "": OPSET };
  /** Model-level fields (producer, doc string, metadata) read by `fromModel`; `toModel` options override them. */
  readonly modelOptions: ModelOptions = {};
  /** Values whose type was given explicitly (`options.types`): `toModel` writes their `value_info`. */
  private readonly explicitTypes = new Set<string>();
  private readonly scopes: string[] = [];
  private counter = 0;
  private dimCounter = 0;
  private readonly constCache = new Map<string, Value>();

  constructor(readonly name = "graph") {}

  /** Enters a naming scope for parameters (`push("encoder")`, `push("layer.0")`). */
  push(scope: string): void {
    this.scopes.push(scope);
  }
  /** Leaves the innermost naming scope. */
  pop(): void {
    if (!this.scopes.pop()) throw new Error("Graph.pop(): no scope to leave");
  }
  /** Runs `fn` inside a naming scope. */
  scope<T>(scope: string, fn: () => T): T {
    this.push(scope);
    try {
      return fn();
    } finally {
      this.pop();
    }
  }
  /** The current scope joined with `name`, as Hugging Face parameter names are (`a.b.weight`). */
  scoped(name: string): string {
    return [...this.scopes, name].join(".");
  }

  /** A fresh unique value name. */
  fresh(prefix = "val"): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`; while (this.values.has(name));
    return name;
  }

  /** A fresh symbolic dimension (`reshape0`, …), numbered per graph so that equal builds give equal bytes. */
  freshDim(hint: string): string {
    return `${hint}${this.dimCounter++}`;
  }

  private define(name: string, type: ValueType): Value {
    if (this.values.has(name)) throw new Error(`Graph "${this.name}": value "${name}" is already defined`);
    const v = new Value(this, name, type.dtype, [...type.shape]);
    this.values.set(name, v);
    return v;
  }

  /** Declares a graph input. */
  input(name: string, dtype: DType, shape: Dim[]): Value {
    const v = this.define(name, { dtype, shape });
    this.inputs.push(v);
    return v;
  }

  /** Adds a trainable parameter under the current scope (`g.param("weight", t)` → `scope.weight`). */
  param(name: string, t: Tensor): Value {
    const full = this.scoped(name);
    const v = this.initializer(full, t);
    this.parameters.add(full);
    return v;
  }

  /** Adds an initializer with an exact name (not scoped). */
  initializer(name: string, t: Tensor): Value {
    const v = this.define(name, { dtype: t.dtype, shape: t.dims });
    this.initializers.set(name, t);
    return v;
  }

  /** A constant tensor, shared between uses with identical content. */
  constant(t: Tensor): Value {
    const key = `${t.dtype}[${t.dims}]:${Array.from(t.data as ArrayLike<number | bigint>).join(",")}`;
    const cached = key.length < 4096 ? this.constCache.get(key) : undefined;
    if (cached) return cached;
    const v = this.initializer(this.fresh("const"), t);
    if (key.length < 4096) this.constCache.set(key, v);
    return v;
  }

  /** The constant tensor behind a value, if it is an initializer that is not a parameter. */
  constValue(v: Value | string): Tensor | undefined {
    const name = typeof v === "string" ? v : v.name;
    return this.parameters.has(name) ? undefined : this.initializers.get(name);
  }

  /** Adds a node; output types come from the op's shape rule unless `options.types` gives them. */
  op(opType: string, inputs: (Value | undefined)[], attrs: Attrs = {}, options: OpOptions = {}): Value[] {
    for (const x of inputs) {
      if (x && x.graph !== this) throw new Error(`${opType}: input "${x.name}" belongs to another graph`);
    }
    const domain = options.domain ?? "";
    const nodeName = `${[...this.scopes, opType].join("/")}_${this.nodes.length}`;
    let types = options.types;
    if (!types) {
      try {
        types = inferTypes(opType, inputs, attrs, this, domain);
      } catch (e) {
        throw new Error(`${nodeName}: ${(e as Error).message}`);
      }
    }
    const count = options.outputs ?? types.length;
    const outputs = types.slice(0, count).map((t, i) => this.define(options.names?.[i] ?? this.fresh(), t));
    if (options.types) { for (const o of outputs) this.explicitTypes.add(o.name); }
    this.nodes.push({
      opType,
      domain,
      name: nodeName,
      inputs: inputs.map((x) => x?.name ?? ""),
      outputs: outputs.map((o) => o.name),
      attrs,
    });
    return outputs;
  }

  /** Marks `v` as a graph output, named `name` (an Identity is inserted when the names differ). */
  output(v: Value, name?: string): Value {
    let out = v;
    if (name && name !== v.name) {
      out = this.op("Identity", [v], {}, { names: [name] })[0];
    }
    if (this.outputs.includes(out)) {
      throw new Error(`Graph "${this.name}": "${out.name}" is already an output`);
    }
    this.outputs.push(out);
    return out;
  }

  /** The graph as a `ModelProto`, with sorted attributes so that equal graphs give equal bytes. */
  toModel(options: ModelOptions = {}): ModelProto {
    const valueInfo = (v: Value) => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: onnxType(v.dtype),
          shape: { dim: v.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
        },
      },
    });
    const own = this.modelOptions;
    options = { ...own, ...options, metadata: { ...own.metadata, ...options.metadata } };
    const metadata = Object.entries(options.metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    // Outputs of nodes built with explicit types cannot be re-inferred on reading: describe them.
    const typed = this.nodes.flatMap((n) => n.outputs)
      .filter((name) => this.explicitTypes.has(name))
      .map((name) => this.values.get(name)!)
      .filter((v) => !this.outputs.includes(v));
    return {
      irVersion: IR_VERSION,
      opsetImport: Object.entries(this.opsets).sort().map(([domain, version]) => ({ domain, version })),
      producerName: options.producerName ?? "nersota",
      producerVersion: options.producerVersion ?? "0.1.0",
      ...(options.docString ? { docString: options.docString } : {}),
      graph: {
        name: this.name,
        node: this.nodes.map(nodeToProto),
        initializer: [...this.initializers].map(([name, t]) => tensorToProto(name, t)),
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
        ...(typed.length ? { valueInfo: typed.map(valueInfo) } : {}),
      },
      ...(metadata.length ? { metadataProps: metadata.map(([key, value]) => ({ key, value })) } : {}),
    };
  }

  /** Serialises the graph to ONNX bytes. */
  toBytes(options: ModelOptions = {}): Uint8Array {
    return encodeModel(this.toModel(options));
  }

  /**
   * Rebuilds a graph from a `ModelProto` (e.g. a model exported by another tool). Value types come from
   * the shape rules where the op has one, else from the model's `value_info`; `parameters` lists the
   * initializer names to treat as trainable (default: all float initializers). Errors read
   * `Cannot read ONNX model "<source>": …`.
   */
  static fromModel(model: ModelProto, parameters?: Iterable<string>, source = "<model>"): Graph {
    try {
      return Graph.readModel(model, parameters);
    } catch (e) {
      throw new Error(`Cannot read ONNX model "${source}": ${(e as Error).message}`, { cause: e });
    }
  }

  private static readModel(model: ModelProto, parameters?: Iterable<string>): Graph {
    const gp = model.graph;
    if (!gp) throw new Error("it has no graph");
    const g = new Graph(gp.name ?? "graph");
    const info = g.modelOptions;
    if (model.producerName !== undefined) info.producerName = model.producerName;
    if (model.producerVersion !== undefined) info.producerVersion = model.producerVersion;
    if (model.docString) info.docString = model.docString;
    if (model.metadataProps?.length) {
      info.metadata = Object.fromEntries(model.metadataProps.map(({ key, value }) => [key, value]));
    }
    for (const o of model.opsetImport ?? []) g.opsets[o.domain ?? ""] = Number(o.version);
    const declared = new Map<string, ValueType>();
    for (const vi of [...(gp.input ?? []), ...(gp.output ?? []), ...(gp.valueInfo ?? [])]) {
      const tt = vi.type?.tensorType;
      if (!tt) continue;
      declared.set(vi.name, {
        dtype: dtypeOf(tt.elemType ?? 0, `value "${vi.name}"`),
        shape: (tt.shape?.dim ?? []).map((d, i) =>
          d.dimParam ?? (d.dimValue !== undefined ? Number(d.dimValue) : `${vi.name}_${i}`)
        ),
      });
    }
    const trainable = parameters ? new Set(parameters) : undefined;
    for (const t of gp.initializer ?? []) {
      const tensor = tensorFromProto(t);
      const name = t.name ?? "";
      g.initializer(name, tensor);
      if (trainable ? trainable.has(name) : tensor.dtype.startsWith("float")) g.parameters.add(name);
    }
    for (const vi of gp.input ?? []) {
      if (g.values.has(vi.name)) continue; // older exporters list initializers as inputs too
      const t = declared.get(vi.name);
      if (!t) throw new Error(`input "${vi.name}" has no tensor type`);
      g.input(vi.name, t.dtype, t.shape);
    }
    for (const np of gp.node ?? []) {
      const inputs = (np.input ?? []).map((n) => {
        if (n === "") return undefined;
        const v = g.values.get(n);
        if (!v) {
          throw new Error(
            `node "${np.name ?? ""}" (${np.opType}) reads "${n}", which is not defined before it`,
          );
        }
        return v;
      });
      const attrs = Object.fromEntries((np.attribute ?? []).map((a) => [a.name, attrFromProto(a)]));
      const outNames = np.output ?? [];
      let types: ValueType[] | undefined;
      if (outNames.every((n) => declared.has(n) || n === "")) {
        types = outNames.map((n) => declared.get(n) ?? { dtype: "float32", shape: [] });
      }
      const before = g.nodes.length;
      try {
        g.op(np.opType, inputs, attrs, {
          domain: np.domain ?? "",
          names: outNames,
          outputs: outNames.length,
          types: types,
        });
      } catch (e) {
        if (types) throw e;
        throw new Error(`${(e as Error).message} (and the model gives no value_info for its outputs)`);
      }
      if (np.name) g.nodes[before].name = np.name;
    }
    for (const vo of gp.output ?? []) {
      const v = g.values.get(vo.name);
      if (!v) throw new Error(`output "${vo.name}" is never computed`);
      g.outputs.push(v);
    }
    return g;
  }
}

function nodeToProto(n: Node): NodeProto {
  const attribute = Object.keys(n.attrs).sort().map((k) => attrToProto(k, n.attrs[k]));
  return {
    input: n.inputs,
    output: n.outputs,
    name: n.name,
    opType: n.opType,
    ...(n.domain ? { domain: n.domain } : {}),
    ...(attribute.length ? { attribute } : {}),
  };
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function attrToProto(name: string, v: AttrValue): AttributeProto {
  if (v instanceof FloatAttr) return { name, type: AttributeType.FLOAT, f: v.value };
  if (v instanceof FloatsAttr) return { name, type: AttributeType.FLOATS, floats: v.value };
  if (typeof v === "number") {
    return Number.isInteger(v) && !FLOAT_ATTRIBUTE_NAMES.has(name)
      ? { name, type: AttributeType.INT, i: v }
      : { name, type: AttributeType.FLOAT, f: v };
  }
  if (typeof v === "string") return { name, type: AttributeType.STRING, s: utf8.encode(v) };
  if (Array.isArray(v)) {
    if (v.length && v.every((x) => typeof x === "string")) { // an empty list is written as INTS
      return { name, type: AttributeType.STRINGS, strings: (v as string[]).map((s) => utf8.encode(s)) };
    }
    const nums = v as number[];
    return nums.every(Number.isInteger) && !FLOAT_ATTRIBUTE_NAMES.has(name)
      ? { name, type: AttributeType.INTS, ints: nums }
      : { name, type: AttributeType.FLOATS, floats: nums };
  }
  return { name, type: AttributeType.TENSOR, t: tensorToProto("", v) };
}

function attrFromProto(a: AttributeProto): AttrValue {
  switch (a.type) {
    case AttributeType.FLOAT:
      return new FloatAttr(a.f ?? 0);
    case AttributeType.INT:
      return Number(a.i ?? 0);
    case AttributeType.STRING:
      return fromUtf8.decode(a.s ?? new Uint8Array());
    case AttributeType.TENSOR:
      return tensorFromProto(a.t ?? {}, `attribute "${a.name}"`);
    case AttributeType.FLOATS:
      return new FloatsAttr(a.floats ?? []);
    case AttributeType.INTS:
      return (a.ints ?? []).map(Number);
    case AttributeType.STRINGS:
      return (a.strings ?? []).map((s) => fromUtf8.decode(s));
    default:
      throw new Error(`Attribute "${a.name}" has type ${a.type}, which this builder does not read`);
  }
}

/** Reads a numeric attribute whether it was written as number or `float()`. */
export function attrNumber(attrs: Attrs, name: string, fallback: number): number {
  const v = attrs[name];
  if (v === undefined) return fallback;
  if (v instanceof FloatAttr) return v.value;
  if (typeof v === "number") return v;
  throw new Error(`attribute "${name}" must be a number`);
}

/** Reads an integer-list attribute. */
export function attrInts(attrs: Attrs, name: string): number[] | undefined {
  const v = attrs[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v) && v.every((x) => typeof x === "number")) return v as number[];
  throw new Error(`attribute "${name}" must be a list of integers`);
}
