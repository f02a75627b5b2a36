// The one place that reads flags, environment variables and the config file.
// Precedence: flag > ARIADNE_* env var > config file > default.

import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { parseDuration, type Nanos } from '@ariadne/model';

export interface ServerConfig {
  dataDir: string;
  host: string;
  port: number;
  otlpHttpPort: number;
  otlpGrpcPort: number;
  storage: 'embedded' | 'clickhouse';
  /** engine behind --storage embedded: our block files (default) or DuckDB */
  embeddedEngine: 'blocks' | 'duckdb';
  clickhouseUrl: string;
  retentionNanos: Nanos;
  /** how often retention runs (also once at start) */
  retentionIntervalMs: number;
  /** largest request body, checked after decompression */
  maxBodyBytes: number;
  /** request bodies being processed at once before new ones get 503 */
  maxInflightBytes: number;
  /**
   * The process's resident memory the server keeps under: above 90% of it
   * receivers answer 503 (retryable) and the store flushes; the store's
   * buffers are sized from it.
   */
  memoryLimitBytes: number;
  /** WAL fsync policy: 'always' acknowledges only after fdatasync */
  walSync: 'always' | 'none';
  /** how often the store is flushed and the WAL truncated */
  checkpointIntervalMs: number;
  apiKeys: string[];
}

export const DEFAULTS: ServerConfig = {
  dataDir: './ariadne-data',
  host: '0.0.0.0',
  port: 3000,
  otlpHttpPort: 4318,
  otlpGrpcPort: 4317,
  storage: 'embedded',
  embeddedEngine: 'blocks',
  clickhouseUrl: 'http://localhost:8123',
  retentionNanos: parseDuration('7d')!,
  retentionIntervalMs: 60_000,
  maxBodyBytes: 20 * 1024 * 1024,
  maxInflightBytes: 512 * 1024 * 1024,
  memoryLimitBytes: defaultMemoryLimit(),
  walSync: 'always',
  checkpointIntervalMs: 10_000,
  apiKeys: [],
};

/** flag name (without --) → how to apply its text */
const FLAGS: Record<string, (c: ServerConfig, v: string) => void> = {
  data: (c, v) => (c.dataDir = v),
  host: (c, v) => (c.host = v),
  port: (c, v) => (c.port = port('port', v)),
  'otlp-http-port': (c, v) => (c.otlpHttpPort = port('otlp-http-port', v)),
  'otlp-grpc-port': (c, v) => (c.otlpGrpcPort = port('otlp-grpc-port', v)),
  storage: (c, v) => {
    if (v !== 'embedded' && v !== 'clickhouse') throw new ConfigError(`--storage must be 'embedded' or 'clickhouse', not '${v}'`);
    c.storage = v;
  },
  'clickhouse-url': (c, v) => (c.clickhouseUrl = v),
  'embedded-engine': (c, v) => {
    if (v !== 'blocks' && v !== 'duckdb') throw new ConfigError(`--embedded-engine must be 'blocks' or 'duckdb', not '${v}'`);
    c.embeddedEngine = v;
  },
  retention: (c, v) => {
    const d = parseDuration(v);
    if (d === undefined || d <= 0) throw new ConfigError(`--retention must be a duration like 7d or 12h, not '${v}'`);
    c.retentionNanos = d;
  },
  'max-body-bytes': (c, v) => (c.maxBodyBytes = positiveInt('max-body-bytes', v)),
  'max-inflight-bytes': (c, v) => (c.maxInflightBytes = positiveInt('max-inflight-bytes', v)),
  'memory-limit': (c, v) => {
    const n = parseSize(v);
    if (n === undefined || n < 64 * 2 ** 20) throw new ConfigError(`--memory-limit must be a size of at least 64MiB like 2GiB or 1536MiB, not '${v}'`);
    c.memoryLimitBytes = n;
  },
  'wal-sync': (c, v) => {
    if (v !== 'always' && v !== 'none') throw new ConfigError(`--wal-sync must be 'always' or 'none', not '${v}'`);
    c.walSync = v;
  },
  'checkpoint-interval': (c, v) => {
    const d = parseDuration(v);
    if (d === undefined || d <= 0) throw new ConfigError(`--checkpoint-interval must be a duration like 10s, not '${v}'`);
    c.checkpointIntervalMs = d / 1e6;
  },
  'api-keys': (c, v) => (c.apiKeys = v.split(',').map((s) => s.trim()).filter(Boolean)),
};

export class ConfigError extends Error {}

/** 2 GiB, or half the machine's memory when that is less. */
export function defaultMemoryLimit(): number {
  return Math.min(2 * 2 ** 30, Math.floor(totalmem() / 2));
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };

/** Bytes of `1536MiB`, `2GiB`, `1.5GB`, `1048576`; undefined for anything else. */
export function parseSize(v: string): number | undefined {
  const m = /^(\d{1,15}(?:\.\d{1,6})?)\s?([a-zA-Z]{0,3})$/.exec(v.trim());
  if (!m) return undefined;
  const unit = SIZE_UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) return undefined;
  return Math.floor(Number(m[1]) * unit);
}

function port(name: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new ConfigError(`--${name} must be a port number 0-65535 (0 picks a free port), not '${v}'`);
  return n;
}

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n <= 0) throw new ConfigError(`--${name} must be a positive integer, not '${v}'`);
  return n;
}

export const SERVE_FLAGS = Object.keys(FLAGS).concat('config');

/**
 * Builds the server configuration from parsed flags, the environment
 * (`ARIADNE_<FLAG_IN_CAPS>`, dashes as underscores) and an optional JSON
 * config file whose keys are the flag names.
 */
export function loadConfig(flags: Record<string, string>, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const c: ServerConfig = { ...DEFAULTS, apiKeys: [] };
  const file = flags.config ?? env.ARIADNE_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`config file ${file} must hold a JSON object`);
    for (const [k, v] of Object.entries(parsed)) {
      const apply = FLAGS[k];
      if (!apply) throw new ConfigError(`config file ${file}: unknown key '${k}' (known: ${Object.keys(FLAGS).join(', ')})`);
      apply(c, String(v));
    }
  }
  for (const [name, apply] of Object.entries(FLAGS)) {
    const v = env[`ARIADNE_${name.toUpperCase().replace(/-/g, '_')}`];
    if (v !== undefined && v !== '') apply(c, v);
  }
  for (const [name, v] of Object.entries(flags)) {
    if (name === 'config') continue;
    const apply = FLAGS[name];
    if (!apply) throw new ConfigError(`unknown flag --${name}`);
    apply(c, v);
  }
  return c;
}

/** Splits `--name value` / `--name=value` flags from positional arguments. */
export function parseArgs(
  argv: readonly string[],
  booleans: readonly string[] = [],
): { flags: Record<string, string>; all: Record<string, string[]>; positional: string[] } {
  const flags: Record<string, string> = {};
  const all: Record<string, string[]> = {};
  const positional: string[] = [];
  const set = (name: string, v: string) => {
    flags[name] = v;
    (all[name] ??= []).push(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (eq > 0) set(name, a.slice(eq + 1));
    else if (booleans.includes(name)) set(name, 'true');
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new ConfigError(`flag --${name} needs a value`);
      set(name, v);
      i++;
    }
  }
  return { flags, all, positional };
}
