import fc from "fast-check";

/** Keys that pollute a prototype when a merge or an assignment trusts them. */
export const PROTO_KEYS = ["__proto__", "constructor", "prototype"] as const;

/** Bytes that are not UTF-8: lone continuation bytes, overlong forms, surrogates, 0xFF. */
export const invalidUtf8 = fc
  .array(
    fc.constantFrom(
      [0xff],
      [0xc0, 0x80],
      [0xed, 0xa0, 0x80],
      [0x80],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
      [0xe2, 0x82],
      [0x7b, 0x22, 0xfe],
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((parts) => Buffer.from(parts.flat()));

/**
 * A string far past every limit berth documents for a field (names 63 chars,
 * frames 1 MiB), yet well under the transport's 16 MiB so the run stays fast.
 */
export const hugeString = fc
  .tuple(fc.constantFrom(1_000, 70_000, 1_100_000), fc.constantFrom("a", "é", "\u0000", "🐳", "\n"))
  .map(([n, c]) => c.repeat(Math.ceil(n / c.length)));

export const hugeArray = fc.constantFrom(10_000, 100_000).map((n) => new Array(n).fill(0));

/** Objects or arrays nested `depth` deep (berth refuses data nested more than 64 levels). */
export const deepNesting = fc
  .tuple(fc.integer({ min: 60, max: 2_000 }), fc.boolean())
  .map(([depth, arrays]) => {
    let v: unknown = "leaf";
    for (let i = 0; i < depth; i++) v = arrays ? [v] : { a: v };
    return v;
  });

/** An object whose own keys are the prototype's names, as JSON.parse makes them. */
export const protoKeyed = fc
  .tuple(
    fc.constantFrom(...PROTO_KEYS),
    fc.constantFrom<unknown>({ polluted: true }, "x", [1], null, { prototype: { polluted: true } }),
  )
  .map(
    ([key, value]) =>
      JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)}}`) as Record<string, unknown>,
  );

/** Any hostile value: a scalar of the wrong type, binary, huge, deep, prototype-keyed, or anything at all. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.anything({ maxDepth: 3, withObjectString: true, withNullPrototype: true }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(
      null,
      undefined,
      true,
      0,
      -1,
      Number.POSITIVE_INFINITY,
      Number.NaN,
      2 ** 53 + 2,
      -0.5,
      "",
      [],
      {},
    ),
  },
  { weight: 1, arbitrary: invalidUtf8 },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: hugeArray },
  { weight: 1, arbitrary: deepNesting },
  { weight: 2, arbitrary: protoKeyed },
);

/**
 * `base` mutated: one of its fields replaced by a hostile value or removed,
 * hostile keys added, or the whole payload swapped for a hostile value.
 */
export function mutated(base: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(base);
  const replaceOne =
    keys.length === 0
      ? fc.constant(base)
      : fc.tuple(fc.constantFrom(...keys), hostileValue).map(([k, v]) => ({ ...base, [k]: v }));
  const dropOne =
    keys.length === 0
      ? fc.constant(base)
      : fc
          .constantFrom(...keys)
          .map((k) => Object.fromEntries(Object.entries(base).filter(([key]) => key !== k)));
  const withProtoKeys = fc
    .tuple(
      fc.constantFrom(...PROTO_KEYS),
      keys.length === 0 ? fc.constant(undefined) : fc.option(fc.constantFrom(...keys), { nil: undefined }),
    )
    .map(([protoKey, nested]) => {
      const text = JSON.stringify(base);
      const inject = `${JSON.stringify(protoKey)}:{"polluted":true,"prototype":{"polluted":true}}`;
      const field = nested === undefined ? undefined : base[nested];
      const where = field !== null && typeof field === "object" && !Array.isArray(field) ? nested : undefined;
      const copy = JSON.parse(text) as Record<string, unknown>;
      if (where)
        copy[where] = JSON.parse(`{${inject},${JSON.stringify(copy[where]).slice(1)}`.replace(/,}$/, "}"));
      else return JSON.parse(`{${inject}${keys.length ? "," : ""}${text.slice(1)}`);
      return copy;
    });
  // A field inside a nested object (code.files["index.js"], filter.status, env.A) replaced.
  const paths = fieldPaths(base);
  const replaceNested =
    paths.length === 0
      ? replaceOne
      : fc.tuple(fc.constantFrom(...paths), hostileValue).map(([path, v]) => replacedAt(base, path, v));
  return fc.oneof(
    { weight: 3, arbitrary: replaceOne },
    { weight: 2, arbitrary: replaceNested },
    { weight: 1, arbitrary: dropOne },
    { weight: 2, arbitrary: withProtoKeys },
    { weight: 2, arbitrary: hostileValue },
  );
}

/** The paths of the fields below the top level of `value` (plain objects only), at most 3 deep. */
function fieldPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== "object" || Array.isArray(value) || prefix.length >= 3) return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(prefix.length > 0 ? [[...prefix, k]] : []),
    ...fieldPaths(v, [...prefix, k]),
  ]);
}

function replacedAt(base: Record<string, unknown>, path: string[], v: unknown): Record<string, unknown> {
  const copy = structuredClone(base);
  let at: Record<string, unknown> = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
  at[path[path.length - 1] as string] = v;
  return copy;
}
