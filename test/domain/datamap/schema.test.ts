import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import {
  datamapSchema,
  declaredFields,
  isCompleteField,
  isSensitiveField,
  maskStyleOf,
} from '../../../src/domain/datamap/schema.js';
import { CATEGORY_IDS, PII_TYPES } from '../../../src/domain/datamap/taxonomy.js';
import { CustodianError } from '../../../src/domain/errors.js';
import { datamap, exampleRaw, field, recipient, TEMPLATE, type RawDatamap } from './fixtures.js';

/** The schema issues of the example data map after `edit`, as `path: message`. */
function issuesAfter(edit: (raw: RawDatamap) => void): string[] {
  const raw = exampleRaw();
  edit(raw);
  const result = datamapSchema.safeParse(raw);
  if (result.success) return [];
  return result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('data map schema: fields', () => {
  it('loads a field without category, purposes or retention, but not into the collectable fields', () => {
    const map = datamap((raw) => {
      raw.collections['profile']!.fields['nickname'] = { protection: 'encrypt' };
      delete field(raw, 'profile', 'birthDate').retention;
    });
    const profile = map.collections['profile']!;
    expect(Object.keys(profile.fields)).toEqual(['name', 'phone', 'email']);
    expect(Object.keys(profile.incomplete)).toEqual(['birthDate', 'nickname']);
    expect(declaredFields(profile).map(([name]) => name)).toEqual([
      'name',
      'phone',
      'email',
      'birthDate',
      'nickname',
    ]);
    const nickname = profile.incomplete['nickname']!;
    expect(nickname.category).toBeUndefined();
    expect(nickname.purposes).toBeUndefined();
    expect(isCompleteField(nickname)).toBe(false);
    expect(maskStyleOf(nickname)).toBe('full');
  });

  it('keeps an empty purposes map apart from a missing one', () => {
    const map = datamap((raw) => (field(raw, 'profile', 'birthDate').purposes = {}));
    expect(map.collections['profile']!.incomplete['birthDate']!.purposes).toEqual({});
  });

  it('still refuses an unknown category and an unknown purpose', () => {
    expect(
      issuesAfter((raw) => (field(raw, 'customs', 'nationalId').category = 'identity.nationalid')),
    ).toEqual([expect.stringMatching(/^collections\.customs\.fields\.nationalId\.category: /)]);
    expect(
      issuesAfter((raw) => {
        field(raw, 'profile', 'birthDate').purposes = { marketting: 'masked' };
      }),
    ).toEqual(['collections.profile.fields.birthDate.purposes.marketting: unknown purpose "marketting"']);
  });

  it('defaults sensitivity to sensitive for sensitive categories and declared sensitive free text', () => {
    const map = datamap((raw) => {
      delete field(raw, 'customs', 'nationalId').sensitivity;
      field(raw, 'order', 'buyerMessage').freeText = { pii: 'mask', declares: ['national-id'] };
    });
    expect(map.collections['customs']!.fields['nationalId']!.sensitivity).toBe('sensitive');
    expect(map.collections['order']!.fields['buyerMessage']!.sensitivity).toBe('sensitive');
    expect(map.collections['profile']!.fields['phone']!.sensitivity).toBeUndefined();
    expect(isSensitiveField(map.collections['profile']!.fields['phone']!)).toBe(false);
  });

  it('never lets an explicit general downgrade a sensitive category', () => {
    const map = datamap((raw) => (field(raw, 'customs', 'nationalId').sensitivity = 'general'));
    const nationalId = map.collections['customs']!.fields['nationalId']!;
    expect(nationalId.sensitivity).toBe('general');
    expect(isSensitiveField(nationalId)).toBe(true);
  });

  it('reads a free-text policy and refuses an unknown PI type', () => {
    const map = datamap();
    expect(map.collections['order']!.fields['buyerMessage']!.freeText).toEqual({ pii: 'mask', declares: [] });
    expect(
      issuesAfter(
        (raw) => (field(raw, 'order', 'buyerMessage').freeText = { pii: 'mask', declares: ['qq'] }),
      ),
    ).toEqual([expect.stringMatching(/^collections\.order\.fields\.buyerMessage\.freeText\.declares\.0: /)]);
    expect(issuesAfter((raw) => (field(raw, 'order', 'buyerMessage').freeText = { pii: 'hide' }))).toEqual([
      expect.stringMatching(/^collections\.order\.fields\.buyerMessage\.freeText\.pii: /),
    ]);
  });

  it('lists the PI types and keeps the taxonomy ids', () => {
    expect(PII_TYPES).toEqual(['mobile', 'national-id', 'bank-card', 'email', 'uscc', 'passport']);
    expect(CATEGORY_IDS).toContain('identity.national-id');
  });
});

describe('data map schema: collections', () => {
  it('defaults minimise to refuse and accepts strip', () => {
    const map = datamap((raw) => (raw.collections['order']!.minimise = 'strip'));
    expect(map.collections['profile']!.minimise).toBe('refuse');
    expect(map.collections['order']!.minimise).toBe('strip');
    expect(issuesAfter((raw) => (raw.collections['order']!.minimise = 'drop'))).toEqual([
      expect.stringMatching(/^collections\.order\.minimise: /),
    ]);
  });
});

describe('data map schema: purposes and recipients', () => {
  it('reads the example recipients with derived defaults', () => {
    const map = datamap();
    expect(map.recipients.map((r) => [r.id, r.role, r.country, r.crossBorder])).toEqual([
      ['sf-express', 'processor', 'CN', false],
      ['china-customs', 'third-party', 'CN', false],
    ]);
    expect(map.purposes.find((p) => p.id === 'customs-clearance')?.crossBorder).toBe(false);
  });

  it('treats recipients outside the mainland as cross-border, Hong Kong included', () => {
    const map = datamap((raw) => {
      recipient(raw, 'sf-express').country = 'HK';
      recipient(raw, 'china-customs').crossBorder = true;
    });
    expect(map.recipients.map((r) => r.crossBorder)).toEqual([true, true]);
  });

  it('defaults recipients to none', () => {
    const map = datamap((raw) => {
      delete (raw as { recipients?: unknown }).recipients;
    });
    expect(map.recipients).toEqual([]);
  });

  it('refuses unknown purposes and categories in recipients, naming their path', () => {
    expect(issuesAfter((raw) => recipient(raw, 'sf-express').purposes.push('delivery'))).toEqual([
      'recipients.0.purposes.1: unknown purpose "delivery"',
    ]);
    expect(issuesAfter((raw) => (recipient(raw, 'sf-express').categories[1] = 'contact.mobile'))).toEqual([
      expect.stringMatching(/^recipients\.0\.categories\.1: /),
    ]);
  });

  it('refuses duplicate recipients, bad countries and a recipient abroad marked not cross-border', () => {
    expect(
      issuesAfter((raw) => raw.recipients.push({ ...recipient(raw, 'sf-express'), purposes: ['marketing'] })),
    ).toEqual(['recipients.2.id: duplicate recipient "sf-express"']);
    expect(issuesAfter((raw) => (recipient(raw, 'sf-express').country = 'cn'))).toEqual([
      'recipients.0.country: an ISO 3166-1 alpha-2 country code such as CN',
    ]);
    expect(
      issuesAfter((raw) => {
        recipient(raw, 'sf-express').country = 'JP';
        recipient(raw, 'sf-express').crossBorder = false;
      }),
    ).toEqual(['recipients.0.crossBorder: a recipient in JP is abroad: providing PI to it is cross-border']);
    expect(issuesAfter((raw) => (recipient(raw, 'sf-express').role = 'carrier'))).toEqual([
      expect.stringMatching(/^recipients\.0\.role: /),
    ]);
  });

  it('names file, line and key of a bad recipient reference through the config loader', () => {
    const text = TEMPLATE.replace(
      '      purposes: [customs-clearance]\n',
      '      purposes: [customs-clearence]\n',
    );
    expect(text).not.toBe(TEMPLATE);
    let error: unknown;
    try {
      parseConfig(text, 'custodian.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CustodianError);
    const line = text.split('\n').findIndex((l) => l.includes('customs-clearence')) + 1;
    expect((error as CustodianError).message).toMatch(
      new RegExp(
        `^custodian\\.yaml:${line}:\\d+: datamap\\.recipients\\.1\\.purposes\\.0: unknown purpose "customs-clearence"$`,
      ),
    );
  });

  it('loads a map whose fields lack category, purposes or retention (lint reports them)', () => {
    const text = TEMPLATE.replace('          category: identity.birth-date\n', '').replace(
      '          purposes: { marketing: masked }\n',
      '',
    );
    const config = parseConfig(text, 'custodian.yaml');
    expect(config.datamap.collections['profile']!.incomplete['birthDate']).toBeDefined();
  });
});
