import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Decodes quoted-printable text (soft line breaks and =XX escapes). */
export function decodeQuotedPrintable(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Waits for a mail to `to` that links to `path` (e.g. "/verify-email") in the server's mail
 * folder (E2E_MAIL_DIR, set by scripts/test.sh) and returns the link's path and query.
 */
export async function waitForLink(to: string, path: string, timeoutMs = 15_000): Promise<string> {
  const dir = process.env.E2E_MAIL_DIR;
  if (!dir) throw new Error('E2E_MAIL_DIR is not set: run the suite through scripts/test.sh');
  const deadline = Date.now() + timeoutMs;
  const pattern = new RegExp(`https?://[^\\s"<>]+(${path.replace(/\//g, '\\/')}\\?token=[A-Za-z0-9_-]+)`);
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
      const m = mail.match(pattern);
      if (m) return m[1];
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail to ${to} with a ${path} link within ${timeoutMs} ms`);
}

/** A unique address for one test. */
export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/**
 * Waits for a mail to `to` whose text contains `needle` (e.g. a subject) in the server's
 * mail folder and returns the decoded mail.
 */
export async function waitForMail(to: string, needle: string, timeoutMs = 15_000): Promise<string> {
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
    for (const f of files) {
      const mail = decodeQuotedPrintable(readFileSync(join(dir, f), 'utf8'));
      if (mail.includes(`To: ${to}`) && mail.includes(needle)) return mail;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail to ${to} containing ${needle} within ${timeoutMs} ms`);
}
