// What a CA says when it cannot validate a host is written for the CA's own
// operators ("Get \"http://...\": could not resolve URL ...", "DNS problem:
// NXDOMAIN looking up A for ..."). Pure: turn the two causes an admin can fix
// into words that say what to fix, keeping the CA's own line after them.

/** The one line shown in `ocm tls`, the status page and the log for a failed order. */
export function describeAcmeFailure(host: string, detail: string): string {
  const said = detail.split('\n')[0]?.trim() ?? '';
  if (/could not resolve|DNS problem|NXDOMAIN|SERVFAIL|no valid (A|AAAA) records/i.test(said)) {
    return `certificate for ${host}: the CA cannot resolve ${host}; give it an A (or AAAA) record pointing at this server (the CA said: ${said})`;
  }
  if (/connection refused|timeout during connect|Timeout after connect|fetching .*acme-challenge/i.test(said)) {
    return `certificate for ${host}: the CA cannot reach ${host} on port 80; open port 80 to the proxy's HTTP listener (the CA said: ${said})`;
  }
  return `certificate for ${host}: ${said}`;
}
