// The gateway refuses browsers from origins it was not told about, and
// requests through a proxy it does not trust. ocm merges exactly those keys
// into the user's openclaw.json and leaves everything else as it was.
import { createRequire } from 'node:module';
import { OcmError } from './errors.js';
import { METER_KEY_PREFIX } from './meter-key.js';

export interface GatewayConfigKeys {
  allowedOrigins: string[];
  trustedProxies: string[];
  /**
   * models.providers.<id> entries pointing at the model meter, with the
   * user's own meter key. ocm owns exactly these ids; other providers stay.
   * An entry ocm wrote earlier (its apiKey is a meter key) and no longer
   * wants is removed: the provider left the manifest.
   */
  modelProviders?: Record<string, { baseUrl: string; apiKey: string; api: string; models: Array<{ id: string; name: string }> }>;
  /**
   * Entries another root merged in (a user imported from there): taken out
   * first, unless wanted here too, so that root's bridge address is trusted
   * no more and its origin no longer allowed.
   */
  forget?: { allowedOrigins: readonly string[]; trustedProxies: readonly string[] };
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

function addAll(existing: unknown, wanted: string[], forget: readonly string[] = []): string[] {
  const list = Array.isArray(existing) ? existing.filter((x): x is string => typeof x === 'string' && (!forget.includes(x) || wanted.includes(x))) : [];
  for (const item of wanted) if (!list.includes(item)) list.push(item);
  return list;
}

/** An entry ocm merged in: only ocm hands out meter keys. */
const isMetered = (entry: unknown): boolean => {
  const key = asObject(entry).apiKey;
  return typeof key === 'string' && key.startsWith(METER_KEY_PREFIX);
};

/** The user's providers in their order, ocm's replaced or dropped, new ones of ocm's at the end. */
function mergeProviders(existing: Json, wanted: NonNullable<GatewayConfigKeys['modelProviders']>): Json {
  const out: Json = {};
  for (const [id, entry] of Object.entries(existing)) {
    if (Object.hasOwn(wanted, id)) out[id] = wanted[id];
    else if (!isMetered(entry)) out[id] = entry;
  }
  for (const [id, entry] of Object.entries(wanted)) if (!Object.hasOwn(out, id)) out[id] = entry;
  return out;
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
  const origins = addAll(controlUi.allowedOrigins, keys.allowedOrigins, keys.forget?.allowedOrigins);
  const proxies = addAll(gateway.trustedProxies, keys.trustedProxies, keys.forget?.trustedProxies);
  const models = asObject(doc.models);
  const providers = mergeProviders(asObject(models.providers), keys.modelProviders ?? {});
  const providersChanged = JSON.stringify(providers) !== JSON.stringify(asObject(models.providers));
  const unchanged = JSON.stringify(origins) === JSON.stringify(controlUi.allowedOrigins)
    && JSON.stringify(proxies) === JSON.stringify(gateway.trustedProxies)
    && !providersChanged;
  if (unchanged && existing !== undefined) return undefined;
  const next: Json = { ...doc, gateway: { ...gateway, controlUi: { ...controlUi, allowedOrigins: origins }, trustedProxies: proxies } };
  if (providersChanged) {
    // Emptied by ocm: no empty providers (or models) object left behind.
    const { providers: _dropped, ...rest } = models;
    const nextModels = Object.keys(providers).length > 0 ? { ...models, providers } : rest;
    if (Object.keys(nextModels).length > 0) next.models = nextModels;
    else delete next.models;
  }
  return `${JSON.stringify(next, null, 2)}\n`;
}
