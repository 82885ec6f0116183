import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { legalBasisText, type PolicyLang } from '../../../src/domain/policy/labels.js';
import { buildPolicyModel, policyModelFromScope } from '../../../src/domain/policy/model.js';
import {
  POLICY_SECTION_IDS,
  policyTitle,
  renderPolicy,
  renderPolicyDocument,
  type PolicyFormat,
} from '../../../src/domain/policy/render.js';
import { parsePolicyScope, policyScope } from '../../../src/domain/policy/scope.js';
import { escapeHtml } from '../../../src/domain/policy/text.js';
import { exampleDatamap, sectionOf } from './fixtures.js';

const LANGS: readonly PolicyLang[] = ['zh-CN', 'en'];
const FORMATS: readonly PolicyFormat[] = ['html', 'md'];
const CASES = LANGS.flatMap((lang) => FORMATS.map((format) => ({ lang, format })));

const datamap = exampleDatamap();
const model = buildPolicyModel(datamap);
const RENDERER_TAG =
  /^<\/?(article|header|h1|h2|h3|p|nav|ol|ul|li|a|section|strong|div|table|caption|thead|tbody|tr|th|td)( [a-z-]+="[^"<>]*")*$/;
const version = { number: 3, publishedAt: '2026-11-30T08:00:00.000Z', requiresReconsent: false };

describe('renderPolicy', () => {
  it.each(CASES)('has every required section with a stable id ($lang, $format)', ({ lang, format }) => {
    const out = renderPolicy(model, { lang, format, version });
    for (const id of POLICY_SECTION_IDS) {
      expect(out, id).toContain(`id="${id}"`);
      expect(out, `link to ${id}`).toContain(format === 'html' ? `href="#${id}"` : `](#${id})`);
    }
    // Sections come in the documented order.
    const positions = POLICY_SECTION_IDS.map((id) => out.indexOf(`id="${id}"`));
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it.each(CASES)(
    'names the processor, the officer and their contacts ($lang, $format)',
    ({ lang, format }) => {
      const out = renderPolicy(model, { lang, format });
      const processor = sectionOf(out, 'processor');
      expect(processor).toContain('Test');
      expect(processor).toContain('privacy@example.com');
      expect(processor).toContain('dpo@example.com');
      const contact = sectionOf(out, 'contact');
      expect(contact).toContain('privacy@example.com');
      expect(contact).toContain('dpo@example.com');
      expect(contact).toContain('/privacy');
    },
  );

  it.each(CASES)('shows the four purposes with their legal bases ($lang, $format)', ({ lang, format }) => {
    const out = renderPolicy(model, { lang, format });
    expect(datamap.purposes).toHaveLength(4);
    for (const purpose of datamap.purposes) {
      const section = sectionOf(out, `purpose-${purpose.id}`, 3);
      expect(section).toContain(purpose.name[lang]);
      const basis = legalBasisText(purpose.legalBasis, lang);
      expect(section).toContain(format === 'html' ? escapeHtml(basis) : basis);
    }
    const bases = {
      'zh-CN': [
        '合同所必需',
        '法定义务所必需',
        '取得您的同意',
        '第十三条第一款第二项',
        '第十三条第一款第一项',
      ],
      en: ['perform a contract with you', 'legal duty or obligation', 'Your consent', 'Art. 13(1), item 3'],
    }[lang];
    for (const text of bases) expect(sectionOf(out, 'purposes')).toContain(text);
  });

  it.each(CASES)(
    'tells that marketing is optional and can be withdrawn ($lang, $format)',
    ({ lang, format }) => {
      const section = sectionOf(renderPolicy(model, { lang, format }), 'purpose-marketing', 3);
      expect(section).toContain(lang === 'zh-CN' ? '非必需' : 'only with your consent');
      expect(section).toContain(lang === 'zh-CN' ? '撤回同意' : 'withdraw consent');
    },
  );

  it.each(CASES)('explains the national id’s necessity and impact ($lang, $format)', ({ lang, format }) => {
    const section = sectionOf(renderPolicy(model, { lang, format }), 'sensitive');
    if (lang === 'zh-CN') {
      for (const text of ['身份证号码', '必要性', '跨境商品清关', '海关', '对您权益的影响', '冒用']) {
        expect(section).toContain(text);
      }
    } else {
      for (const text of [
        'ID card number',
        'Why it is necessary',
        'Customs clearance',
        'customs',
        'Impact on you',
      ]) {
        expect(section).toContain(text);
      }
    }
  });

  it.each(CASES)(
    'lists the recipients with role, purposes and categories ($lang, $format)',
    ({ lang, format }) => {
      const section = sectionOf(renderPolicy(model, { lang, format }), 'recipients');
      if (lang === 'zh-CN') {
        for (const text of [
          '顺丰速运',
          '受托处理者',
          '95338',
          '订单履行与配送',
          '详细地址',
          '中华人民共和国海关',
        ]) {
          expect(section).toContain(text);
        }
      } else {
        for (const text of [
          'SF Express',
          'processor acting for us',
          '95338',
          'street address',
          'China Customs',
        ]) {
          expect(section).toContain(text);
        }
      }
    },
  );

  it.each(CASES)(
    'states retention periods and what happens at expiry ($lang, $format)',
    ({ lang, format }) => {
      const section = sectionOf(renderPolicy(model, { lang, format }), 'retention');
      if (lang === 'zh-CN') {
        for (const text of ['3 年', '1 年', '最后一次', '删除', '买家留言', '存储和采取必要的安全保护措施']) {
          expect(section).toContain(text);
        }
      } else {
        for (const text of ['3 years', '1 year,', 'last activity', 'Deleted', 'buyer', 'storage']) {
          expect(section).toContain(text);
        }
      }
    },
  );

  it.each(CASES)(
    'lists the rights, how to use them and the deadlines ($lang, $format)',
    ({ lang, format }) => {
      const section = sectionOf(renderPolicy(model, { lang, format }), 'rights');
      const words =
        lang === 'zh-CN'
          ? [
              '查阅',
              '复制',
              '转移',
              '更正',
              '补充',
              '删除',
              '限制或者拒绝处理',
              '撤回同意',
              '注销账户',
              '解释说明',
            ]
          : [
              'Access',
              'Copy',
              'Transfer',
              'Correction',
              'Completion',
              'Deletion',
              'Restriction',
              'Withdraw consent',
            ];
      for (const word of words) expect(section).toContain(word);
      expect(section).toContain(lang === 'zh-CN' ? '15 个工作日' : '15 working days');
      expect(section).toContain(lang === 'zh-CN' ? '30 天' : '30 days');
      expect(section).toContain('/privacy');
      expect(section).toContain('dpo@example.com');
    },
  );

  it.each(CASES)(
    'has the minors notice and the cross-border statement ($lang, $format)',
    ({ lang, format }) => {
      const out = renderPolicy(model, { lang, format });
      expect(sectionOf(out, 'minors')).toContain(lang === 'zh-CN' ? '不满十四周岁' : 'under 14');
      expect(sectionOf(out, 'minors')).toContain(lang === 'zh-CN' ? '监护人' : 'guardian');
      expect(sectionOf(out, 'cross-border')).toContain(
        lang === 'zh-CN' ? '不向中华人民共和国境外' : 'do not transfer',
      );
    },
  );

  it.each(CASES)(
    'lists recipients abroad in the cross-border section ($lang, $format)',
    ({ lang, format }) => {
      const map = exampleDatamap();
      map.purposes.find((p) => p.id === 'marketing')!.separateConsents.push('cross_border');
      map.recipients.push({
        id: 'crm-sg',
        name: { 'zh-CN': '新加坡客户关系服务', en: 'CRM Singapore Pte' },
        contact: 'privacy@crm.example.sg',
        role: 'processor',
        purposes: ['marketing'],
        categories: ['contact.phone', 'contact.email'],
        country: 'SG',
        crossBorder: true,
      });
      const section = sectionOf(renderPolicy(buildPolicyModel(map), { lang, format }), 'cross-border');
      expect(section).toContain(lang === 'zh-CN' ? '新加坡客户关系服务' : 'CRM Singapore Pte');
      expect(section).toContain(lang === 'zh-CN' ? '新加坡' : 'Singapore');
      expect(section).toContain(lang === 'zh-CN' ? '单独同意' : 'separate consent');
      expect(section).toContain('privacy@crm.example.sg');
    },
  );

  it.each(CASES)(
    'names a purpose declared cross-border without a recipient abroad ($lang, $format)',
    ({ lang, format }) => {
      const map = exampleDatamap();
      map.purposes.find((p) => p.id === 'marketing')!.crossBorder = true;
      const out = renderPolicy(buildPolicyModel(map), { lang, format });
      const section = sectionOf(out, 'cross-border');
      expect(section).toContain(
        lang === 'zh-CN' ? '会员营销可能涉及向境外提供' : 'Member marketing may involve a transfer',
      );
      expect(sectionOf(out, 'summary')).toContain(
        lang === 'zh-CN' ? '我们会向境外提供' : 'some information goes abroad',
      );
    },
  );

  it.each(CASES)(
    'shows the version, and the re-consent notice when it applies ($lang, $format)',
    ({ lang, format }) => {
      const draft = sectionOf(renderPolicy(model, { lang, format }), 'changes');
      expect(draft).toContain(lang === 'zh-CN' ? '草稿' : 'draft');
      const published = sectionOf(renderPolicy(model, { lang, format, version }), 'changes');
      expect(published).toContain('2026-11-30');
      expect(published).toContain(lang === 'zh-CN' ? '第 3 版' : 'version 3');
      expect(published).not.toContain(lang === 'zh-CN' ? '重新同意之前' : 'Until you consent again');
      const widened = sectionOf(
        renderPolicy(model, { lang, format, version: { ...version, requiresReconsent: true } }),
        'changes',
      );
      expect(widened).toContain(lang === 'zh-CN' ? '重新同意之前' : 'Until you consent again');
      expect(widened).toContain(model.fingerprint.slice(0, 16));
    },
  );

  it.each(CASES)('escapes text from the data map ($lang, $format)', ({ lang, format }) => {
    const map = exampleDatamap('<script>alert("x")</script> & **Co** [x](javascript:alert(1))');
    map.officer = { name: '<img src=x onerror=alert(1)>', contact: 'javascript:alert(1)' };
    map.purposes[0]!.name[lang] = '<b>bold</b> | pipe';
    const out = renderPolicy(buildPolicyModel(map), { lang, format });
    // No raw tag, and in Markdown no unescaped markup, comes from the data map.
    expect(out).not.toMatch(/(?<!\\)<(script|img|b>|\/b>)/);
    expect(out).not.toContain('href="javascript');
    if (format === 'md') expect(out).not.toMatch(/(?<!\\)\]\(javascript/);
    if (format === 'html') {
      expect(out).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; **Co**');
      expect(out).toContain('&lt;img src=x onerror=alert(1)&gt;');
    } else {
      expect(out).toContain(
        '\\<script\\>alert("x")\\</script\\> \\& \\*\\*Co\\*\\* \\[x\\](javascript:alert(1))',
      );
      expect(out).toContain('\\<b\\>bold\\</b\\> \\| pipe');
    }
  });

  it('escapes any processor name in HTML', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (name) => {
        const map = exampleDatamap();
        map.processor = { name, contact: 'privacy@example.com' };
        const out = renderPolicy(buildPolicyModel(map), { lang: 'en', format: 'html' });
        expect(out).toContain(escapeHtml(name));
        // Every `<` in the output opens or closes one of the renderer's own tags.
        for (const tag of out.match(/<[^>]*/g) ?? []) expect(tag).toMatch(RENDERER_TAG);
      }),
      { numRuns: 50 },
    );
  });

  it('renders the same text from a stored scope', () => {
    const stored = parsePolicyScope(JSON.parse(JSON.stringify(policyScope(datamap))));
    for (const { lang, format } of CASES) {
      expect(renderPolicy(policyModelFromScope(stored), { lang, format, version })).toBe(
        renderPolicy(model, { lang, format, version }),
      );
    }
  });

  it('writes Chinese without English fragments from the renderer', () => {
    const out = renderPolicy(model, { lang: 'zh-CN', format: 'html' });
    // Latin text comes only from the data map: names, contacts and the template's officer name.
    const text = out.replace(/<[^>]*>/g, '').replace(model.fingerprint.slice(0, 16), '');
    for (const word of new Set(text.match(/[A-Za-z]{3,}/g))) {
      expect(['Test', 'privacy', 'example', 'com', 'dpo', 'protection', 'officer', 'OAID']).toContain(word);
    }
    expect(out).toContain('个人信息保护政策');
    expect(out).toContain('《个人信息保护法》');
  });

  it('masks nothing it should show: markdown escapes the masking example', () => {
    expect(renderPolicy(model, { lang: 'zh-CN', format: 'md' })).toContain('138\\*\\*\\*\\*1234');
    expect(renderPolicy(model, { lang: 'zh-CN', format: 'html' })).toContain('138****1234');
  });
});

describe('renderPolicyDocument', () => {
  it.each(LANGS)('is a complete, self-contained, phone-first page (%s)', (lang) => {
    const page = renderPolicyDocument(model, { lang, version });
    expect(page.startsWith('<!doctype html>\n')).toBe(true);
    expect(page).toContain(`<html lang="${lang}">`);
    expect(page).toContain('<meta charset="utf-8">');
    expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(page).toContain(`<title>${escapeHtml(policyTitle(model, lang))}</title>`);
    expect(page).toContain('<main>');
    expect(page).toContain('<style>');
    expect(page).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|@import|url\(/i);
    expect(page).not.toMatch(/https?:\/\//);
    expect(page.trimEnd().endsWith('</html>')).toBe(true);
  });

  it('keeps every output under 50 KB', () => {
    for (const lang of LANGS) {
      const sizes = [
        renderPolicyDocument(model, { lang, version }),
        renderPolicy(model, { lang, format: 'html', version }),
        renderPolicy(model, { lang, format: 'md', version }),
      ].map((text) => Buffer.byteLength(text, 'utf8'));
      for (const size of sizes) expect(size).toBeLessThan(50 * 1024);
    }
  });

  it('titles the policy after the store in each language', () => {
    expect(policyTitle(model, 'zh-CN')).toBe('Test 个人信息保护政策');
    expect(policyTitle(model, 'en')).toBe('Test Privacy Policy');
    expect(policyTitle(buildPolicyModel(exampleDatamap('天猫旗舰店')), 'zh-CN')).toBe(
      '天猫旗舰店个人信息保护政策',
    );
  });
});
