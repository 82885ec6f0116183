import { parseConfig } from '../../../src/config/load.js';
import { configTemplate } from '../../../src/config/template.js';
import type { Datamap } from '../../../src/domain/datamap/schema.js';

/** The data map of the `custodian init` template, as a fresh, mutable copy. */
export function exampleDatamap(storeName = 'Test'): Datamap {
  const config = parseConfig(configTemplate({ suite: 'aes-256-gcm', storeName }), 'x.yaml');
  return structuredClone(config.datamap);
}

/**
 * The text from `id="<id>"` to the next heading of the same or a higher level (HTML or
 * Markdown): level 2 for sections, 3 for subsections.
 */
export function sectionOf(output: string, id: string, level: 2 | 3 = 2): string {
  const start = output.indexOf(`id="${id}"`);
  if (start < 0) throw new Error(`no section ${id}`);
  const rest = output.slice(start + 1);
  const next = rest.search(level === 2 ? /<h2[ >]|\n## / : /<h[23][ >]|\n##+ /);
  return next < 0 ? rest : rest.slice(0, next);
}
