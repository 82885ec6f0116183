import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openExport } from '../../src/crypto/export-file.js';
import { recipientSchema } from '../../src/domain/datamap/schema.js';
import { residentIdCheckDigit } from '../../src/domain/pii/validators.js';
import type { RecordConsentInput } from '../../src/services/consent.js';
import { PolicyService } from '../../src/services/policy.js';
import type { Principal } from '../../src/services/tokens.js';
import type { SubjectView } from '../../src/services/vault.js';
import { testApp, type TestApp } from '../support/app.js';
import { tester } from '../support/roles.js';
import { codeOf } from '../support/codes.js';

const marketer: Principal = {
  kind: 'token',
  id: 'tok-mkt',
  name: 'mkt',
  role: 'marketing',
  trainingCurrent: true,
};
const service: Principal = {
  kind: 'staff',
  id: 'staff-cs',
  name: 'cs',
  role: 'operator',
  trainingCurrent: true,
};

/** Adds a sensitive field that marketing uses, so the sensitive-PI separate consent can be seen at work. */
const withSensitiveField = (yaml: string): string =>
  yaml.replace(
    `        birthDate:
          category: identity.birth-date
          purposes: { marketing: masked }
          retention: { keep: 3y, from: last-activity }
`,
    `        birthDate:
          category: identity.birth-date
          purposes: { marketing: masked }
          retention: { keep: 3y, from: last-activity }
        lastLocation:
          category: location.precise
          description: The store a member last checked in at, for local offers; reveals where they go.
          purposes: { marketing: masked }
          retention: { keep: 30d }
`,
  );

function fields(view: SubjectView): Record<string, { access: string; reason?: string; value?: string }> {
  return Object.assign({}, ...view.records.map((r) => r.fields)) as Record<
    string,
    { access: string; reason?: string; value?: string }
  >;
}

describe('consent enforcement at use', () => {
  let t: TestApp;
  let clock = new Date('2026-03-01T02:00:00.000Z');
  beforeAll(async () => {
    t = await testApp({ now: () => clock, edit: withSensitiveField });
    await t.runtime.privacyPolicy.publish();
  });
  afterAll(() => t.close());

  const record = (subjectId: string, input: Partial<RecordConsentInput> = {}) =>
    t.runtime.consent.record(service, subjectId, {
      purpose: 'marketing',
      action: 'grant',
      channel: 'customer-service',
      ...input,
    });

  const member = async (extra: Record<string, string> = {}) => {
    const { subjectId } = await t.runtime.vault.collect(tester, {
      collection: 'profile',
      fields: {
        name: '王芳',
        phone: '13812345678',
        birthDate: '1990-07-08',
        lastLocation: '杭州市西湖区文三路 90 号',
        ...extra,
      },
      purpose: 'marketing',
    });
    await t.runtime.vault.collect(tester, {
      collection: 'profile',
      subjectId,
      fields: { phone: '13812345678' },
      purpose: 'customer-service',
    });
    return subjectId;
  };

  it('withholds a marketing read without consent, follows the role after a grant, withholds again after a withdrawal', async () => {
    const id = await member();
    const before = fields(await t.runtime.vault.read(marketer, id, 'marketing'));
    expect(before['name']).toEqual({ access: 'withheld', reason: 'no-consent' });
    expect(before['phone']).toEqual({ access: 'withheld', reason: 'no-consent' });
    expect(JSON.stringify(before)).not.toContain('王芳');
    const [search] = await t.runtime.vault.search(marketer, 'phone', '13812345678', 'marketing');
    expect(fields(search!)['phone']).toEqual({ access: 'withheld', reason: 'no-consent' });
    const exported = await t.runtime.vault.exportViews(tester, [id], 'marketing', 'exp-1');
    expect(fields(exported.views[0]!)['name']?.reason).toBe('no-consent');

    await record(id);
    const after = fields(await t.runtime.vault.read(marketer, id, 'marketing'));
    // The marketing role's policy: personal data masked (R15).
    expect(after['name']).toEqual({ access: 'masked', value: '王*' });
    expect(after['phone']).toEqual({ access: 'masked', value: '138****5678' });
    expect(after['birthDate']?.access).toBe('masked');
    // Sensitive PI needs the separate consent (PIPL Art. 29) on top of the purpose consent.
    expect(after['lastLocation']).toEqual({ access: 'withheld', reason: 'no-consent' });
    await record(id, { kind: 'sensitive_pi' });
    expect(fields(await t.runtime.vault.read(marketer, id, 'marketing'))['lastLocation']?.access).toBe(
      'masked',
    );

    clock = new Date(clock.getTime() + 60_000);
    await record(id, { action: 'withdraw' });
    // Withdrawal stops processing (R4): nothing more is collected for marketing, while the
    // necessary purposes carry on; a new grant opens it again.
    const stored = await t.store.records.listForSubject(id);
    expect(
      await codeOf(
        t.runtime.vault.collect(tester, {
          collection: 'profile',
          subjectId: id,
          fields: { name: '王芳' },
          purpose: 'marketing',
        }),
      ),
    ).toBe('ERR_CONSENT_WITHDRAWN');
    expect(await t.store.records.listForSubject(id)).toHaveLength(stored.length);
    await t.runtime.vault.collect(tester, {
      collection: 'profile',
      subjectId: id,
      fields: { phone: '13812345678' },
      purpose: 'customer-service',
    });
    const withdrawn = fields(await t.runtime.vault.read(marketer, id, 'marketing'));
    expect(withdrawn['name']).toEqual({ access: 'withheld', reason: 'no-consent' });
    expect(withdrawn['lastLocation']).toEqual({ access: 'withheld', reason: 'no-consent' });
    const [again] = await t.runtime.vault.search(marketer, 'phone', '13812345678', 'marketing');
    expect(fields(again!)['phone']?.reason).toBe('no-consent');

    // The read's audit entry names the withheld fields.
    const last = await t.store.audit.range(
      (await t.store.audit.count()) - 1,
      (await t.store.audit.count()) + 1,
    );
    const entry = JSON.parse(last.at(-1)!.canonical.toString('utf8')) as { decision: { withheld: string[] } };
    expect(entry.decision.withheld).toContain('profile.name');

    clock = new Date(clock.getTime() + 60_000);
    await record(id);
    await t.runtime.vault.collect(tester, {
      collection: 'profile',
      subjectId: id,
      fields: { name: '王芳' },
      purpose: 'marketing',
    });
  });

  it('collects no more sensitive PI once the sensitive_pi consent is withdrawn (PIPL Art. 29, R4)', async () => {
    const id = await member();
    clock = new Date(clock.getTime() + 60_000);
    await record(id);
    await record(id, { kind: 'sensitive_pi' });
    clock = new Date(clock.getTime() + 60_000);
    await record(id, { kind: 'sensitive_pi', action: 'withdraw' });
    const stored = await t.store.records.listForSubject(id);
    const sensitive = {
      collection: 'profile',
      subjectId: id,
      fields: { lastLocation: '杭州市西湖区文一路 1 号' },
      purpose: 'marketing',
    };
    expect(await codeOf(t.runtime.vault.collect(tester, sensitive))).toBe('ERR_CONSENT_WITHDRAWN');
    expect(await t.store.records.listForSubject(id)).toHaveLength(stored.length);
    // The purpose consent still stands: a record without sensitive PI is collected.
    await t.runtime.vault.collect(tester, { ...sensitive, fields: { name: '王芳' } });
    expect(await t.store.records.listForSubject(id)).toHaveLength(stored.length + 1);
    // A new grant of the separate consent opens it again.
    clock = new Date(clock.getTime() + 60_000);
    await record(id, { kind: 'sensitive_pi' });
    await t.runtime.vault.collect(tester, sensitive);
    expect(await t.store.records.listForSubject(id)).toHaveLength(stored.length + 2);
  });

  it('never gates purposes necessary for the service (PIPL Art. 16)', async () => {
    const id = await member();
    await record(id, { action: 'refuse' });
    const operator: Principal = { ...service, role: 'operator' };
    const view = fields(await t.runtime.vault.read(operator, id, 'customer-service'));
    expect(view['phone']).toEqual({ access: 'masked', value: '138****5678' });
    expect(Object.values(view).some((f) => f.reason === 'no-consent')).toBe(false);
    expect(await codeOf(record(id, { purpose: 'customer-service' }))).toBe('ERR_CONSENT_NOT_APPLICABLE');
    expect(await codeOf(record(id, { purpose: 'resale' }))).toBe('ERR_PURPOSE_UNKNOWN');
  });

  it('does not ask again within the quiet period after a refusal, but records a later grant', async () => {
    const id = await member();
    const start = clock;
    await record(id, { action: 'refuse', channel: 'mini-program' });
    expect(await t.runtime.consent.mayAsk(id, 'marketing')).toBe(false);
    clock = new Date(start.getTime() + 364 * 86_400_000);
    expect(await t.runtime.consent.mayAsk(id, 'marketing')).toBe(false);
    const listed = await t.runtime.consent.list(tester, id);
    expect(listed.purposes.find((p) => p.purpose === 'marketing')).toMatchObject({
      granted: false,
      mayAsk: false,
      askAfter: new Date(start.getTime() + 365 * 86_400_000).toISOString(),
    });
    clock = new Date(start.getTime() + 366 * 86_400_000);
    expect(await t.runtime.consent.mayAsk(id, 'marketing')).toBe(true);

    const other = await member();
    clock = new Date(clock.getTime() + 1000);
    await record(other, { action: 'refuse' });
    clock = new Date(clock.getTime() + 1000);
    // The customer changes their mind on their own: recording it is fine.
    await record(other);
    expect(await t.runtime.consent.mayAsk(other, 'marketing')).toBe(true);
    expect(fields(await t.runtime.vault.read(marketer, other, 'marketing'))['name']?.access).toBe('masked');
  });

  it('refuses to enrol a child under 14 without a guardian, and treats the child’s data as sensitive', async () => {
    clock = new Date('2026-03-01T02:00:00.000Z');
    const child = await member({ birthDate: '2015-06-01', name: '李小明' });
    const error = (await record(child).catch((e: unknown) => e)) as { code: string; message: string };
    expect(error.code).toBe('ERR_CONSENT_GUARDIAN_REQUIRED');
    expect(error.message).not.toContain('2015');
    expect(await t.store.consents.listForSubject(child)).toEqual([]);

    const { claims } = await record(child, { guardian: { name: '李大明', relationship: 'parent' } });
    expect(claims.guardian).toEqual({ relationship: 'parent' });
    // A child's PI is all sensitive (Art. 28): the purpose consent alone shows nothing.
    expect(fields(await t.runtime.vault.read(marketer, child, 'marketing'))['name']).toEqual({
      access: 'withheld',
      reason: 'no-consent',
    });
    expect(await codeOf(record(child, { kind: 'sensitive_pi' }))).toBe('ERR_CONSENT_GUARDIAN_REQUIRED');
    await record(child, { kind: 'sensitive_pi', guardian: { name: '李大明', relationship: 'parent' } });
    expect(fields(await t.runtime.vault.read(marketer, child, 'marketing'))['name']?.access).toBe('masked');
    // Withdrawing needs nothing (R4).
    await record(child, { action: 'withdraw' });
    expect((await t.runtime.consent.list(tester, child)).minor).toBe(true);

    // From a resident id number (customs) instead of a birth date.
    const first17 = '11010520160315123';
    const { subjectId: customs } = await t.runtime.vault.collect(tester, {
      collection: 'customs',
      fields: { realName: '张小红', nationalId: first17 + residentIdCheckDigit(first17) },
      purpose: 'customs-clearance',
    });
    expect(await t.runtime.vault.ageOf(customs)).toBe(9);
    expect(await codeOf(record(customs))).toBe('ERR_CONSENT_GUARDIAN_REQUIRED');

    // From a declared birth date, for a customer whose stored data tells none.
    const { subjectId: unknownAge } = await t.runtime.vault.collect(tester, {
      collection: 'profile',
      fields: { name: '赵某' },
      purpose: 'marketing',
    });
    expect(await t.runtime.vault.ageOf(unknownAge)).toBeUndefined();
    expect(await codeOf(record(unknownAge, { birthDate: '2016-01-01' }))).toBe(
      'ERR_CONSENT_GUARDIAN_REQUIRED',
    );
    expect(await codeOf(record(unknownAge, { birthDate: 'yesterday' }))).toBe('ERR_CONSENT_INVALID');
    await record(unknownAge, { birthDate: '1988-01-01' });
    expect(fields(await t.runtime.vault.read(marketer, unknownAge, 'marketing'))['name']?.access).toBe(
      'masked',
    );
  });

  it('keeps no raw evidence or guardian name, and unlinks the events when the subject is erased', async () => {
    const id = await member({ birthDate: '2016-02-02' });
    const { claims } = await record(id, {
      guardian: { name: '孙监护', relationship: 'legal-guardian' },
      evidence: {
        uiVersion: 'consent-ui/7',
        locale: 'zh-CN',
        ip: '203.0.113.77',
        userAgent: 'Mozilla/5.0 ConsentProbe',
      },
    });
    const [row] = await t.store.consents.listForSubject(id);
    expect(row?.ipHash).toHaveLength(32);
    expect(row?.userAgentHash).toHaveLength(32);
    expect(row?.guardianHash).toHaveLength(32);
    expect(row).toMatchObject({
      uiVersion: 'consent-ui/7',
      locale: 'zh-CN',
      guardianRelationship: 'legal-guardian',
    });
    expect(claims.sub).toBe(t.runtime.pseudonymize(id));
    const listed = JSON.stringify(await t.runtime.consent.list(tester, id));
    for (const secret of ['203.0.113.77', 'ConsentProbe', '孙监护', id]) {
      expect(JSON.stringify(claims)).not.toContain(secret);
      if (secret !== id) expect(listed).not.toContain(secret);
    }

    const receipt = await t.runtime.vault.erase(tester, id);
    expect(receipt.subjectId).toBe(id);
    expect(await t.store.consents.listForSubject(id)).toEqual([]);
    const kept = await t.store.consents.byReceiptId(claims.jti);
    expect(kept).toMatchObject({
      subjectId: null,
      subjectRef: claims.sub,
      ipHash: null,
      userAgentHash: null,
      guardianHash: null,
      guardianRelationship: 'legal-guardian',
      action: 'grant',
    });
    expect(await codeOf(t.runtime.consent.list(tester, id))).toBe('ERR_SUBJECT_ERASED');
    expect(await codeOf(record(id))).toBe('ERR_SUBJECT_ERASED');

    await t.store.scrub();
    const db = join(t.dir, 'data', 'custodian.db');
    const bytes = Buffer.concat([readFileSync(db), readFileSync(`${db}-wal`, { flag: 'a+' })]);
    for (const secret of ['203.0.113.77', 'ConsentProbe', '孙监护'])
      expect(bytes.includes(Buffer.from(secret))).toBe(false);
  });
});

describe('re-consent after a widening policy version (R5)', () => {
  let t: TestApp;
  const clock = new Date('2026-04-01T02:00:00.000Z');
  beforeAll(async () => {
    t = await testApp({ now: () => clock });
  });
  afterAll(() => t.close());

  it('withholds until the customer grants again at the new version', async () => {
    const v1 = await t.runtime.privacyPolicy.publish();
    expect(v1.version.number).toBe(1);
    const { subjectId: id } = await t.runtime.vault.collect(tester, {
      collection: 'profile',
      fields: { name: '周杰', phone: '13900001111' },
      purpose: 'marketing',
    });
    await t.runtime.consent.record(service, id, { purpose: 'marketing', action: 'grant', channel: 'h5' });
    const read = async () => fields(await t.runtime.vault.read(marketer, id, 'marketing'))['name'];
    expect((await read())?.access).toBe('masked');

    // v2 adds a third party that receives marketing data: customers must consent again.
    const widened = {
      ...t.config.datamap,
      recipients: [
        ...t.config.datamap.recipients,
        recipientSchema.parse({
          id: 'acme-crm',
          name: { 'zh-CN': '某营销服务商', en: 'Acme CRM' },
          contact: 'privacy@acme.example',
          role: 'third-party',
          purposes: ['marketing'],
          categories: ['contact.phone'],
        }),
      ],
    };
    const v2 = await new PolicyService({ store: t.store, datamap: widened, now: () => clock }).publish();
    expect(v2.version).toMatchObject({
      number: 2,
      requiresReconsent: true,
      reconsentPurposes: ['marketing'],
    });
    expect(await read()).toEqual({ access: 'withheld', reason: 'no-consent' });
    const listed = await t.runtime.consent.list(tester, id);
    expect(listed.purposes.find((p) => p.purpose === 'marketing')).toMatchObject({
      granted: false,
      needsReconsent: true,
      requiredVersion: 2,
    });
    // A grant against the old text does not cover the new one.
    await t.runtime.consent.record(service, id, {
      purpose: 'marketing',
      action: 'grant',
      channel: 'h5',
      policyVersion: 1,
    });
    expect((await read())?.reason).toBe('no-consent');
    const { claims } = await t.runtime.consent.record(service, id, {
      purpose: 'marketing',
      action: 'grant',
      channel: 'h5',
    });
    expect(claims.policyVersion).toBe(2);
    expect((await read())?.access).toBe('masked');

    // The separate consent to provide to the new third party (Art. 23) names it.
    expect(await t.runtime.consent.stands(id, 'marketing', 'provide_to_third_party', 'acme-crm')).toBe(false);
    expect(
      await codeOf(
        t.runtime.consent.record(service, id, {
          purpose: 'marketing',
          action: 'grant',
          channel: 'h5',
          kind: 'provide_to_third_party',
          recipient: 'acme-crm',
          policyVersion: 1,
        }),
      ),
    ).toBe('ERR_CONSENT_NOT_IN_POLICY');
    const separate = await t.runtime.consent.record(service, id, {
      purpose: 'marketing',
      action: 'grant',
      channel: 'h5',
      kind: 'provide_to_third_party',
      recipient: 'acme-crm',
    });
    expect(separate.claims.separateConsents).toMatchObject({
      provide_to_third_party: true,
      sensitive_pi: false,
    });
    expect(separate.claims.recipient).toMatchObject({ id: 'acme-crm', contact: 'privacy@acme.example' });
    expect(await t.runtime.consent.stands(id, 'marketing', 'provide_to_third_party', 'acme-crm')).toBe(true);
  });

  it('refuses a consent when no policy version names it', async () => {
    const { subjectId } = await t.runtime.vault.collect(tester, {
      collection: 'profile',
      fields: { name: '吴某' },
      purpose: 'marketing',
    });
    expect(
      await codeOf(
        t.runtime.consent.record(service, subjectId, {
          purpose: 'marketing',
          action: 'grant',
          channel: 'offline',
          policyVersion: 9,
        }),
      ),
    ).toBe('ERR_POLICY_NOT_FOUND');
    expect(
      await codeOf(
        t.runtime.consent.record(service, '01890000-0000-7000-8000-000000000000', {
          purpose: 'marketing',
          action: 'grant',
          channel: 'offline',
        }),
      ),
    ).toBe('ERR_SUBJECT_NOT_FOUND');
  });
});

/** Marketing data for a third party at home and a processor abroad, both on the customer's consent. */
const withMarketingRecipients = (yaml: string): string =>
  yaml
    .replace(
      `      legalBasis: consent           # PIPL Art. 13(1); never required for the order (Art. 16)
      necessary: false
`,
      `      legalBasis: consent           # PIPL Art. 13(1); never required for the order (Art. 16)
      necessary: false
      separateConsents: [provide_to_third_party, cross_border]
`,
    )
    .replace(
      `  recipients:
`,
      `  recipients:
    - id: acme-crm
      name: { zh-CN: 某营销服务商, en: Acme CRM }
      contact: privacy@acme.example
      role: third-party
      purposes: [marketing]
      categories: [contact.email]
    - id: sg-mailer
      name: { zh-CN: 新加坡邮件服务商, en: SG Mailer }
      contact: privacy@mailer.example
      role: processor
      country: SG
      purposes: [marketing]
      categories: [contact.email]
`,
    );

describe('separate consents at export (PIPL Arts. 23, 39; R2, R28)', () => {
  let t: TestApp;
  let clock = new Date('2026-04-01T02:00:00.000Z');
  beforeAll(async () => {
    t = await testApp({ now: () => clock, edit: withMarketingRecipients });
    await t.runtime.privacyPolicy.publish();
  });
  afterAll(() => t.close());

  const record = (subjectId: string, input: Partial<RecordConsentInput> = {}) => {
    clock = new Date(clock.getTime() + 60_000);
    return t.runtime.consent.record(service, subjectId, {
      purpose: 'marketing',
      action: 'grant',
      channel: 'customer-service',
      ...input,
    });
  };
  const exported = async (subjectId: string, recipientId: string) => {
    const { oversight } = t.runtime;
    const request = await oversight.requestExport(tester, {
      purpose: 'marketing',
      subjectIds: [subjectId],
      recipient: { kind: 'passphrase' },
      recipientId,
    });
    const { file, subjects } = await oversight.downloadExport(tester, request.id, {
      kind: 'passphrase',
      passphrase: 'a long passphrase',
    });
    const content = JSON.parse(openExport(file, { passphrase: 'a long passphrase' }).toString()) as {
      withoutConsent: number;
      subjects: SubjectView[];
    };
    expect(content.subjects).toHaveLength(subjects);
    return content;
  };

  it('gives a third party only the customers whose provide_to_third_party consent stands', async () => {
    const { subjectId } = await t.runtime.vault.collect(tester, {
      collection: 'profile',
      fields: { name: '周杰', email: 'zhou.jie@example.com' },
      purpose: 'marketing',
    });
    await record(subjectId);
    // The purpose consent alone does not cover giving the data to someone else.
    expect(await exported(subjectId, 'acme-crm')).toMatchObject({ withoutConsent: 1, subjects: [] });
    await record(subjectId, { kind: 'provide_to_third_party', recipient: 'acme-crm' });
    const granted = await exported(subjectId, 'acme-crm');
    expect(granted.withoutConsent).toBe(0);
    // As the data map lets marketing see it: masked.
    expect(fields(granted.subjects[0]!)['email']?.access).toBe('masked');
    await record(subjectId, { kind: 'provide_to_third_party', recipient: 'acme-crm', action: 'withdraw' });
    expect(await exported(subjectId, 'acme-crm')).toMatchObject({ withoutConsent: 1, subjects: [] });
    // The download's audit entry counts who was left out.
    const last = await t.store.audit.range(1, 1_000_000);
    const download = last.filter((r) => r.action === 'export.download').at(-1)!;
    expect(download.canonical.toString()).toContain('"withoutConsent":1');
  });

  it('sends data abroad, even to a processor, only with the cross_border consent', async () => {
    const { subjectId } = await t.runtime.vault.collect(tester, {
      collection: 'profile',
      fields: { name: '林青', email: 'lin.qing@example.com' },
      purpose: 'marketing',
    });
    await record(subjectId);
    expect(await exported(subjectId, 'sg-mailer')).toMatchObject({ withoutConsent: 1, subjects: [] });
    // A cross-border consent that names no recipient covers every recipient abroad.
    await record(subjectId, { kind: 'cross_border' });
    expect(await exported(subjectId, 'sg-mailer')).toMatchObject({ withoutConsent: 0 });
  });
});
