import { describe, expect, it } from 'vitest';
import { LANGS, MESSAGES, translator } from '../../src/web/i18n.js';

describe('privacy centre dictionaries', () => {
  it('have every message key in both languages, none empty', () => {
    const zh = Object.keys(MESSAGES['zh-CN']).sort();
    const en = Object.keys(MESSAGES.en).sort();
    expect(en).toEqual(zh);
    for (const lang of LANGS)
      for (const [key, text] of Object.entries(MESSAGES[lang]))
        expect(text.trim(), `${lang} ${key}`).not.toBe('');
  });

  it('use the same placeholders in both languages', () => {
    for (const key of Object.keys(MESSAGES['zh-CN']) as (keyof (typeof MESSAGES)['en'])[]) {
      const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(names(MESSAGES.en[key]), key).toEqual(names(MESSAGES['zh-CN'][key]));
    }
  });

  it('fills placeholders', () => {
    expect(translator('en')('signIn.sent', { minutes: 10 })).toContain('10 minutes');
    expect(translator('zh-CN')('signIn.sent', { minutes: 10 })).toContain('10 分钟');
  });
});
