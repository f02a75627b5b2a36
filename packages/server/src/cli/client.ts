// A small HTTP client for the CLI commands that talk to a running server.

export function baseUrl(flags: Record<string, string>): string {
  return (flags.url ?? process.env.ARIADNE_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
}

export async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  let res: Response;
  try {
    res = await fetch(url, { headers: apiKeyHeader() });
  } catch (e) {
    throw new Error(`cannot reach ${url}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
  }
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as T };
  } catch {
    throw new Error(`${url} answered ${res.status} with non-JSON: ${text.slice(0, 200)}`);
  }
}

function apiKeyHeader(): Record<string, string> {
  const key = process.env.ARIADNE_API_KEY;
  return key ? { authorization: `Bearer ${key}` } : {};
}
