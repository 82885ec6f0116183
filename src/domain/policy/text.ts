/**
 * Escaping for the policy's output formats. Everything that comes from the data map (names,
 * contacts, descriptions) is untrusted text: it must render as written, never as markup.
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * Escapes text for Markdown (CommonMark/GFM) so that it renders as written and never as HTML,
 * a link, emphasis or a table cell break. Runs of white space (new lines included) become one
 * space, so untrusted text cannot start a block of its own.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[\\`*_{}[\]<>|~&]/g, (c) => `\\${c}`);
}

/** Escapes what would start a block at the beginning of a Markdown line (`#`, `-`, `1.` …). */
export function escapeMarkdownLineStart(line: string): string {
  return line.replace(/^(\s*)([#+\-=>]|\d+[.)])/, (_, space: string, mark: string) => {
    return /^\d/.test(mark) ? `${space}${mark.slice(0, -1)}\\${mark.slice(-1)}` : `${space}\\${mark}`;
  });
}

const EMAIL_RE = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;
const WEB_RE = /^https?:\/\/[A-Za-z0-9.-]+(?::\d+)?(?:\/[A-Za-z0-9\-._~%/?#=&+:@!$,;]*)?$/;
const PHONE_RE = /^\+?[0-9][0-9 -]{5,}[0-9]$/;

/**
 * A link target for a contact written in the data map: `mailto:` for an email address,
 * `tel:` for a phone number, the URL itself for an http(s) URL; otherwise none, and the contact is
 * shown as plain text.
 */
export function contactHref(contact: string): string | undefined {
  const value = contact.trim();
  if (EMAIL_RE.test(value)) return `mailto:${value}`;
  if (WEB_RE.test(value)) return value;
  if (PHONE_RE.test(value)) return `tel:${value.replace(/[ -]/g, '')}`;
  return undefined;
}

/** True for link targets the renderer emits: in-page anchors, site paths, http(s), mailto and tel. */
export function isSafeHref(href: string): boolean {
  return (
    /^#[A-Za-z][A-Za-z0-9-]*$/.test(href) ||
    /^\/(?!\/)[A-Za-z0-9\-._~%/?#=&+]*$/.test(href) ||
    WEB_RE.test(href) ||
    /^mailto:[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$/.test(href) ||
    /^tel:\+?[0-9]+$/.test(href)
  );
}
