// The gateway refuses browsers from origins it was not told about, and
// requests through a proxy it does not trust. ocm merges exactly those keys
// into the user's openclaw.json and leaves everything else as it was.
import { createRequire } from 'node:module';
import { OcmError } from './errors.js';

export interface GatewayConfigKeys {
  allowedOrigins: string[];
  trustedProxies: string[];
  /**
   * models.providers.<id> entries pointing at the model meter, with the
   * user's own meter key. ocm owns exactly these ids; other providers stay.
   */
  modelProviders?: Record<string, { baseUrl: string; apiKey: string; api: string; models: Array<{ id: string; name: string }> }>;
}

type Json = Record<string, unknown>;

// json5 is only needed when a user's config is merged.
const requireLazy = createRequire(import.meta.url);
const json5 = (): { parse(text: string): unknown } => requireLazy('json5') as { parse(text: string): unknown };

/** JSON5, with plain JSON (what ocm and the gateway write) read without loading json5 at all. */
function parseJson5(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return json5().parse(text);
  }
}

const asObject = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

function addAll(existing: unknown, wanted: string[]): string[] {
  const list = Array.isArray(existing) ? existing.filter((x): x is string => typeof x === 'string') : [];
  for (const item of wanted) if (!list.includes(item)) list.push(item);
  return list;
}

/** Returns the new file text, or undefined when nothing needs to change. */
export function mergeGatewayConfig(existing: string | undefined, keys: GatewayConfigKeys, file = 'openclaw.json'): string | undefined {
  let doc: Json = {};
  if (existing !== undefined && existing.trim() !== '') {
    try {
      const parsed: unknown = parseJson5(existing);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('top level is not an object');
      doc = parsed as Json;
    } catch (error) {
      throw new OcmError('OCM_E_GATEWAY_CONFIG_INVALID', `${file}: cannot be read as JSON5 (${(error as Error).message})`, { cause: error });
    }
  }
  const gateway = asObject(doc.gateway);
  const controlUi = asObject(gateway.controlUi);
  const origins = addAll(controlUi.allowedOrigins, keys.allowedOrigins);
  const proxies = addAll(gateway.trustedProxies, keys.trustedProxies);
  const models = asObject(doc.models);
  const providers = { ...asObject(models.providers), ...(keys.modelProviders ?? {}) };
  const unchanged = JSON.stringify(origins) === JSON.stringify(controlUi.allowedOrigins)
    && JSON.stringify(proxies) === JSON.stringify(gateway.trustedProxies)
    && JSON.stringify(providers) === JSON.stringify(asObject(models.providers));
  if (unchanged && existing !== undefined) return undefined;
  const next: Json = { ...doc, gateway: { ...gateway, controlUi: { ...controlUi, allowedOrigins: origins }, trustedProxies: proxies } };
  if (keys.modelProviders !== undefined && Object.keys(keys.modelProviders).length > 0) next.models = { ...models, providers };
  return `${JSON.stringify(next, null, 2)}\n`;
}
