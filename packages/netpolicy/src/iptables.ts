// The one wrapper around the host's iptables: every call waits for the
// xtables lock (-w), keeps stderr and the exit code, and speaks in rule
// arguments exactly as `iptables -S` prints them, so desired and actual
// rules compare as plain strings.
import { execa, type ExecaError } from 'execa';
import { OcmError } from '@ocm/core';

export interface Iptables {
  /** Whether the chain exists in the filter table. */
  hasChain(chain: string): Promise<boolean>;
  /** The chain's rules in order, each as its `-S` arguments after "-A <chain>". */
  rules(chain: string): Promise<string[][]>;
  newChain(chain: string): Promise<void>;
  /** Deletes an empty chain nobody jumps to. */
  deleteChain(chain: string): Promise<void>;
  insert(chain: string, position: number, rule: readonly string[]): Promise<void>;
  append(chain: string, rule: readonly string[]): Promise<void>;
  /** Deletes the first rule matching this exact spec. */
  delete(chain: string, rule: readonly string[]): Promise<void>;
}

export interface HostIptablesOptions {
  /** "iptables" (default) or "ip6tables". */
  binary?: string;
  timeoutMs?: number;
}

/** Splits one `-S` line; ocm's rules carry no quoted arguments. */
export function parseRuleLine(line: string, chain: string): string[] | undefined {
  const words = line.trim().split(/\s+/);
  if (words[0] !== '-A' || words[1] !== chain) return undefined;
  return words.slice(2);
}

export class HostIptables implements Iptables {
  readonly binary: string;
  readonly #timeoutMs: number;

  constructor(options: HostIptablesOptions = {}) {
    this.binary = options.binary ?? 'iptables';
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async #run(args: readonly string[], okCodes: readonly number[] = [0]): Promise<{ code: number; stdout: string }> {
    try {
      const r = await execa(this.binary, ['-w', '10', '-t', 'filter', ...args], { stdin: 'ignore', reject: false, timeout: this.#timeoutMs });
      const code = r.exitCode ?? -1;
      if (!okCodes.includes(code)) {
        throw new OcmError('OCM_E_FIREWALL_FAILED', `${this.binary} ${args.join(' ')} failed (exit ${code}): ${String(r.stderr).trim().split('\n')[0] ?? ''}`, { details: { exitCode: code, stderr: String(r.stderr).slice(0, 1000) } });
      }
      return { code, stdout: String(r.stdout) };
    } catch (error) {
      if (error instanceof OcmError) throw error;
      const e = error as ExecaError;
      throw new OcmError('OCM_E_FIREWALL_FAILED', `${this.binary} could not be run: ${e.shortMessage ?? e.message}`, { cause: error, hint: 'install iptables (apt-get install iptables) and run ocm as root, or set settings.network.egress.policy: open' });
    }
  }

  async hasChain(chain: string): Promise<boolean> {
    // 1: iptables' "No chain/target/match by that name".
    return (await this.#run(['-S', chain], [0, 1])).code === 0;
  }

  async rules(chain: string): Promise<string[][]> {
    const { stdout } = await this.#run(['-S', chain]);
    return stdout.split('\n').map((l) => parseRuleLine(l, chain)).filter((r): r is string[] => r !== undefined);
  }

  async newChain(chain: string): Promise<void> {
    await this.#run(['-N', chain]);
  }

  async deleteChain(chain: string): Promise<void> {
    await this.#run(['-X', chain]);
  }

  async insert(chain: string, position: number, rule: readonly string[]): Promise<void> {
    await this.#run(['-I', chain, String(position), ...rule]);
  }

  async append(chain: string, rule: readonly string[]): Promise<void> {
    await this.#run(['-A', chain, ...rule]);
  }

  async delete(chain: string, rule: readonly string[]): Promise<void> {
    await this.#run(['-D', chain, ...rule]);
  }
}
