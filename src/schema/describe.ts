/** Enum values with a description each, keyed by the domain's own list so the two cannot drift apart. */
export const describedValues = <const V extends readonly string[]>(values: V, descriptions: { [K in V[number]]: string }) =>
  Object.fromEntries(values.map((v: V[number]) => [v, { description: descriptions[v] }])) as { [K in V[number]]: { description: string } };
