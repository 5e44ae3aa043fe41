// One certificate order over ACME with HTTP-01. acme-client does the protocol
// (JWS, nonces, polling); this file only joins it to our key store and
// challenge table.
import { Agent } from 'node:https';
import { readFile } from 'node:fs/promises';
import acme from 'acme-client';
import type { ChallengeTable } from './challenge-table.js';
import type { CertStore } from './cert-store.js';
import { probeDirectory } from './directory-probe.js';

export interface IssuerSettings {
  email: string;
  directory: string;
  caFile?: string;
}

export interface Issuer {
  /** Orders a certificate for one host; resolves with the PEM chain and its key. */
  issue(host: string): Promise<{ cert: string; key: string }>;
}

export function createAcmeIssuer(settings: IssuerSettings, store: CertStore, challenges: ChallengeTable): Issuer {
  let client: Promise<acme.Client> | undefined;
  let agent: Agent | undefined;

  async function makeClient(): Promise<acme.Client> {
    if (settings.caFile !== undefined) {
      // The CA of the ACME server itself (a private CA, a test CA); the module's one HTTP client serves one daemon.
      agent = new Agent({ ca: await readFile(settings.caFile) });
      acme.axios.defaults.httpsAgent = agent;
    }
    // Our own backoff (renewal-policy) spaces attempts; acme-client's inner retries only delay the error.
    Object.assign((acme.axios.defaults as { acmeSettings?: object }).acmeSettings ?? {}, { retryMaxAttempts: 2, retryDefaultDelay: 1 });
    let accountKey = await store.readAccountKey();
    if (accountKey === undefined) {
      accountKey = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
      await store.writeAccountKey(accountKey);
    }
    return new acme.Client({ directoryUrl: settings.directory, accountKey, backoffAttempts: 8, backoffMin: 250, backoffMax: 5_000 });
  }

  return {
    async issue(host) {
      client ??= makeClient().catch((err: unknown) => {
        client = undefined;
        throw err;
      });
      await client;
      await probeDirectory(settings.directory, agent);
      const [key, csr] = await acme.crypto.createCsr({ commonName: host, altNames: [host] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
      const cert = await (await client).auto({
        csr,
        email: settings.email,
        termsOfServiceAgreed: true,
        challengePriority: ['http-01'],
        // The CA checks the challenge; a self-check from this host would need port 80 to loop back.
        skipChallengeVerification: true,
        challengeCreateFn: async (_authz, challenge, keyAuthorization) => challenges.set(challenge.token, keyAuthorization),
        challengeRemoveFn: async (_authz, challenge) => challenges.delete(challenge.token),
      });
      return { cert, key: key.toString() };
    },
  };
}
