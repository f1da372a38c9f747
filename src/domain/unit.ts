/**
 * A step of a unit of work: a generator that yields the store's operations (opaque to the domain) and
 * returns T. The same generator runs synchronously inside the embedded store's group commit and
 * asynchronously inside a PostgreSQL transaction, so every rule is written once and each store only
 * decides how a transaction is run. Compose steps with `yield*`.
 */
export type Step<T> = Generator<unknown, T, unknown>;

/** A step that does nothing but answer a value (for branches that need no store). */
// biome-ignore lint/correctness/useYield: a step with no operation is still a step
export function* done<T>(value: T): Step<T> {
  return value;
}
