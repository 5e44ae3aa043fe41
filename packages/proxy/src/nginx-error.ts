// Reads nginx's complaint ("... in /etc/nginx/conf.d/alice.conf:12") into
// the file and line an error message can name.

export interface NginxDiagnostic {
  /** nginx's own words, without the "nginx: [emerg]" prefix and location. */
  reason: string;
  file?: string;
  line?: number;
}

// "nginx: [emerg] ..." before logging is set up, "2024/01/02 03:04:05 [emerg] 12#12: ..." after.
const LEVELED = /\[(emerg|alert|crit|error)\] (?:\d+#\d+: )?(.*)$/;
const LOCATION = /^(.*?) in (\/.+):(\d+)$/;

export function parseNginxError(stderr: string): NginxDiagnostic {
  const lines = stderr.split('\n').map((line) => line.trim());
  const messages = lines.flatMap((line) => {
    const match = LEVELED.exec(line);
    return match === null ? [] : [{ level: match[1], text: match[2] ?? '' }];
  });
  // An unprivileged nginx warns about its default error log first; the located or [emerg] line is the cause.
  const best =
    messages.find((m) => LOCATION.test(m.text)) ?? messages.find((m) => m.level === 'emerg') ?? messages[0];
  const message = best?.text ?? lines.find((line) => line.length > 0) ?? 'nginx failed without a message';
  const located = LOCATION.exec(message);
  if (located === null) return { reason: message };
  return { reason: located[1] ?? message, file: located[2], line: Number(located[3]) };
}
