// Splits a server-sent event stream into whole events without holding more
// than the event being read, so each one can be passed on, read or dropped.
export class SseSplitter {
  private pending = '';

  /** Whole events (each with its trailing blank line) completed by this chunk. */
  push(chunk: string): string[] {
    this.pending += chunk;
    const events: string[] = [];
    for (;;) {
      const match = /\r?\n\r?\n/.exec(this.pending);
      if (match === null) break;
      const end = match.index + match[0].length;
      events.push(this.pending.slice(0, end));
      this.pending = this.pending.slice(end);
    }
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
