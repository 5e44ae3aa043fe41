// Splits a server-sent event stream into whole events without holding more
// than the event being read, so each one can be passed on, read or dropped.
export class SseSplitter {
  private pending = '';

  /** Whole events (each with its trailing blank line) completed by this chunk. */
  push(chunk: string): string[] {
    const text = this.pending + chunk;
    const events: string[] = [];
    // One pass with an index: slicing the remainder after every event would
    // copy a large chunk once per event it holds.
    const boundary = /\r?\n\r?\n/g;
    let start = 0;
    for (let match = boundary.exec(text); match !== null; match = boundary.exec(text)) {
      const end = match.index + match[0].length;
      events.push(text.slice(start, end));
      start = end;
    }
    this.pending = start === 0 ? text : text.slice(start);
    return events;
  }

  /** What is left at the end of the stream (an event without its blank line). */
  rest(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }
}

/** The JSON of an event's data lines, or undefined ([DONE], comments, junk). */
export function eventData(event: string): unknown {
  const data = event.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
  if (data === '' || data === '[DONE]') return undefined;
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
