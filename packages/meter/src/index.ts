export { createMeterServer, meterHandler, type MeterOptions, type MeterLog } from './meter-server.js';
export { MeterListeners } from './meter-listeners.js';
export { meterConfig, type MeterConfig, type MeterUser } from './meter-config.js';
export { openUsageStore, type UsageStore, type CallRecord, type UsageRow } from './usage-store.js';
export { refusalBody, type RefusalKind } from './provider-error.js';
export { openaiUsage, anthropicUsage, responsesUsage } from './provider-usage.js';
export { usageTap, type UsageTap } from './usage-tap.js';
export { SseSplitter, eventData } from './sse-events.js';
export { addressInCidr } from './source-address.js';
