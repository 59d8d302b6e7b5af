/** Type-level equality, for the compiler's checks that a zod schema and the protocol's type say the same. */

/**
 * `true` when A and B are assignable both ways and have the same keys at
 * every depth: assignability alone would not notice an optional field that
 * one of them lacks (a field the document would then leave out).
 */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? SameKeys<A, B> : false) : false;
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type SameKeys<A, B> = [A] extends [readonly (infer X)[]]
  ? [B] extends [readonly (infer Y)[]]
    ? SameKeys<X, Y>
    : false
  : [A] extends [object]
    ? [B] extends [object]
      ? Mutual<keyof A, keyof B> extends true
        ? false extends {
            [K in keyof A & keyof B]-?: SameKeys<NonNullable<A[K]>, NonNullable<B[K]>>;
          }[keyof A & keyof B]
          ? false
          : true
        : false
      : false
    : true;

/** Requires every check in T to be `true`: `tsc` fails on the one that is not, naming it. */
export type AllTrue<T extends Record<string, true>> = T;
