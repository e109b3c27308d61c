/**
 * JSON.parse keeps the last of two equal keys in one object, so an audit record with a second
 * `"status"` would read as whatever was appended last while the signed or hashed text says
 * otherwise to another reader. Audit lines are parsed here, which refuses duplicate keys.
 */

export class DuplicateKeyError extends Error {
  constructor(readonly key: string) {
    super(`duplicate key ${JSON.stringify(key)} in one object (an edit added a second value)`);
    this.name = 'DuplicateKeyError';
  }
}

/** The first key that appears twice in one object of valid JSON text, if any. */
export function findDuplicateKey(text: string): string | undefined {
  // Per open container: the keys seen so far, or null for an array.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const keys = stack.at(-1);
      if (expectKey && keys) {
        // Decoded, so `"st\u0061tus"` and `"status"` are the same key.
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
      expectKey = false;
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = stack.at(-1) != null;
    }
  }
  return undefined;
}

/** JSON.parse that also refuses an object with a repeated key. */
export function parseJsonStrict(text: string): unknown {
  const value: unknown = JSON.parse(text);
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) throw new DuplicateKeyError(duplicate);
  return value;
}
