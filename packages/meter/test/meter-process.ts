// A meter in its own process, so a test can kill -9 it mid-stream.
import type { AddressInfo } from 'node:net';
import { createMeterServer, openUsageStore, type MeterConfig } from '@ocm/meter';

const { METER_DB = '', STAND_IN = '', METER_SECRET = '', DAILY = '' } = process.env;
const config: MeterConfig = {
  providers: { openai: { api: 'openai-completions', baseUrl: `${STAND_IN}/v1`, apiKey: 'sk-admin-kill', models: ['gpt-5'], prices: { 'gpt-5': { input: 1.25, output: 10, cacheRead: 0.125 } } } },
  timezone: 'Asia/Tokyo',
  users: new Map([['alice', { subnet: '127.0.1.0/28', limits: { own: { daily: Number(DAILY) }, group: undefined } }]]),
};
const server = createMeterServer({ config: () => config, secret: METER_SECRET, store: openUsageStore(METER_DB) });
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
