import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Decodes quoted-printable text (soft line breaks and =XX escapes). */
export function decodeQuotedPrintable(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Polls the server's mail folder (E2E_MAIL_DIR, set by scripts/test.sh) until `find`
 * returns something for one of the mails to `to` (newest first), and returns that.
 */
async function waitFor<T>(to: string, what: string, timeoutMs: number, find: (mail: string) => T | null): Promise<T> {
  const dir = process.env.E2E_MAIL_DIR;
  if (!dir) throw new Error('E2E_MAIL_DIR is not set: run the suite through scripts/test.sh');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
    } catch {
      files = [];
    }
    const mails = files
      .map((f) => ({ file: join(dir, f), at: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => b.at - a.at)
      .map(({ file }) => decodeQuotedPrintable(readFileSync(file, 'utf8')));
    for (const mail of mails) {
      if (!mail.includes(`To: ${to}`)) continue;
      const found = find(mail);
      if (found !== null) return found;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail to ${to} ${what} within ${timeoutMs} ms`);
}

/** Waits for a mail to `to` that links to `path` (e.g. "/verify-email"); returns the link's path and query. */
export async function waitForLink(to: string, path: string, timeoutMs = 15_000): Promise<string> {
  const pattern = new RegExp(`https?://[^\\s"<>]+(${path.replace(/\//g, '\\/')}\\?token=[A-Za-z0-9_-]+)`);
  return waitFor(to, `with a ${path} link`, timeoutMs, (mail) => mail.match(pattern)?.[1] ?? null);
}

/** Waits for a mail to `to` whose text contains `needle` (e.g. a subject); returns the decoded mail. */
export async function waitForMail(to: string, needle: string, timeoutMs = 15_000): Promise<string> {
  return waitFor(to, `containing ${needle}`, timeoutMs, (mail) => (mail.includes(needle) ? mail : null));
}

/** A unique address for one test. */
export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}
