// js-yaml returns plain values without positions. Its listener sees every node
// as it is composed, so we record the start line of each mapping/sequence by
// identity, then find a scalar key's own line by scanning from its parent's.
import yaml from 'js-yaml';

export interface LocatedYaml {
  value: unknown;
  /** 1-based line of a path such as ['users', 1, 'memory'], when it can be found. */
  lineOf(path: ReadonlyArray<PropertyKey>): number | undefined;
}

interface ListenerState { line: number; result: unknown }

export function loadLocated(text: string, options: yaml.LoadOptions = {}): LocatedYaml {
  const starts = new Map<object, number>();
  const stack: number[] = [];
  const value = yaml.load(text, {
    ...options,
    listener(this: ListenerState, event: 'open' | 'close', state: ListenerState) {
      if (event === 'open') {
        stack.push(state.line);
      } else {
        const line = stack.pop();
        if (line !== undefined && state.result !== null && typeof state.result === 'object' && !starts.has(state.result)) {
          starts.set(state.result, line);
        }
      }
    },
  });
  const lines = text.split('\n');

  const lineOf = (path: ReadonlyArray<PropertyKey>): number | undefined => {
    let node: unknown = value;
    let found: number | undefined = node !== null && typeof node === 'object' ? (starts.get(node) ?? 0) + 1 : undefined;
    for (const key of path) {
      if (node === null || typeof node !== 'object') break;
      const child: unknown = (node as Record<PropertyKey, unknown>)[key as string];
      if (child !== null && typeof child === 'object' && starts.has(child)) {
        found = (starts.get(child) as number) + 1;
        // A sequence item's mapping starts on its "- " line; a mapping value can
        // start on the line after its key: prefer the key's own line then.
        if (typeof key === 'string') found = keyLine(lines, key, Math.max(0, (starts.get(node) ?? 0)), found) ?? found;
      } else if (typeof key === 'string' && child !== undefined) {
        found = keyLine(lines, key, found === undefined ? 0 : found - 1, undefined) ?? found;
      }
      node = child;
      if (child === undefined) break;
    }
    return found;
  };
  return { value, lineOf };
}

function keyLine(lines: string[], key: string, from: number, limit: number | undefined): number | undefined {
  const pattern = new RegExp(`^\\s*(?:-\\s+)?["']?${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?\\s*:`);
  const end = limit === undefined ? lines.length : Math.min(lines.length, limit);
  for (let i = from; i < end; i++) {
    if (pattern.test(lines[i] ?? '')) return i + 1;
  }
  return undefined;
}
