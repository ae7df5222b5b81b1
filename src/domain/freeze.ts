/**
 * Deep freezing for shared, never-changing data: catalogues and the store's cached
 * records. Frozen objects are also what the XML serializer checks for escaping only once.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
