import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { measurePiiQuality } from '../../bench/pii-quality.js';
import { screenFreeText } from '../../src/domain/datamap/minimise.js';
import { CORPUS_TEMPLATES, generateCorpus } from '../../src/domain/pii/corpus.js';
import {
  applyFreeTextPolicy,
  detectPii,
  maskPiiInText,
  PII_TYPES,
  type PiiFinding,
  type PiiType,
} from '../../src/domain/pii/detect.js';
import {
  isBankCard,
  isEmail,
  isValidResidentId,
  isValidUscc,
  isVirtualNumber,
  luhnCheckDigit,
  luhnValid,
  normalizeMobile,
  residentIdCheckDigit,
} from '../../src/domain/pii/validators.js';

/** The findings reduced to type and the text they cover. */
function found(text: string, options: Parameters<typeof detectPii>[1] = {}): [PiiType, string][] {
  return detectPii(text, options).map((f) => [f.type, text.slice(f.start, f.end)]);
}

function only(text: string): PiiFinding {
  const findings = detectPii(text, { minConfidence: 0 });
  expect(findings).toHaveLength(1);
  return findings[0]!;
}

/** A Luhn-valid number made of `prefix` and random-looking filler, `length` digits long. */
function luhnNumber(prefix: string, length: number, filler = '8273645190'): string {
  let body = prefix;
  while (body.length < length - 1) body += filler[body.length % filler.length]!;
  return body + luhnCheckDigit(body);
}

const ID = '11010519491231002X';
const ID2 = '440524188001010014';
const CARD19 = '6222021234567893445';
const CARD16 = '6212345678901232';

describe('detectPii: each type', () => {
  it('finds mainland mobiles in their usual layouts (R32)', () => {
    for (const text of [
      '电话13812345678',
      '电话 138 1234 5678',
      '电话138-1234-5678',
      '电话+86 13812345678',
      '电话+8613812345678',
      '电话0086-138-1234-5678',
      '电话(+86)13812345678',
      '电话8613812345678',
    ]) {
      const f = only(text);
      expect(f.type, text).toBe('mobile');
      expect(text.slice(f.start, f.end), text).toBe(text.slice(2).trim());
      expect(f.masked).toBe('138****5678');
      expect(f.confidence).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('finds mobiles written with full-width digits, plus and spaces', () => {
    const text = '手机：＋８６　１３８　１２３４　５６７８，谢谢';
    expect(found(text)).toEqual([['mobile', '＋８６　１３８　１２３４　５６７８']]);
    expect(detectPii(text)[0]!.masked).toBe('138****5678');
    expect(found('电话１３８１２３４５６７８')).toEqual([['mobile', '１３８１２３４５６７８']]);
  });

  it('reports Taobao privacy numbers as virtual-number, never as a mobile (R30)', () => {
    for (const [text, value] of [
      ['系统显示号码18877771111-123，打不通', '18877771111-123'],
      ['隐私号18877771111-1234', '18877771111-1234'],
      ['号码18877771111转123', '18877771111转123'],
      ['号码１８８７７７７１１１１－１２３', '１８８７７７７１１１１－１２３'],
    ] as const) {
      expect(found(text), text).toEqual([['virtual-number', value]]);
    }
    expect(detectPii('18877771111-123')[0]!.masked).toBe('188****1111-***');
    expect(detectPii('隐私号18877771111-123', { types: ['mobile'] })).toEqual([]);
  });

  it('finds resident ids with a valid region, birth date and MOD 11-2 check (GB 11643)', () => {
    expect(isValidResidentId(ID)).toBe(true);
    const f = only(`身份证号${ID}`);
    expect(f).toMatchObject({ type: 'national-id', start: 4, end: 22, masked: '110***********002X' });
    expect(found(`清关用：${ID.toLowerCase()}`)).toEqual([['national-id', ID.toLowerCase()]]);
    expect(found(`身份证 110105 19491231 002X`)).toEqual([['national-id', '110105 19491231 002X']]);
    expect(found(`身份证${ID2}`)).toEqual([]); // born 1880: outside the 1900–2099 scan window
    // One wrong check digit, one impossible date, one unknown region: none is an id.
    expect(found('身份证110105194912310021')).toEqual([]);
    const badDate = '11010519490231' + '002';
    expect(found(`身份证${badDate}${residentIdCheckDigit(badDate)}`)).toEqual([]);
    const badRegion = '99010519491231002';
    expect(found(`身份证${badRegion}${residentIdCheckDigit(badRegion)}`)).toEqual([]);
  });

  it('finds bank cards of 16–19 digits that pass Luhn, with or without separators', () => {
    expect(isBankCard(CARD19) && isBankCard(CARD16)).toBe(true);
    expect(found(`退到银行卡${CARD19}`)).toEqual([['bank-card', CARD19]]);
    expect(found(`卡号 6222 0212 3456 7893 445，工行`)).toEqual([['bank-card', '6222 0212 3456 7893 445']]);
    expect(found(`卡号6212-3456-7890-1232`)).toEqual([['bank-card', '6212-3456-7890-1232']]);
    expect(found(`卡号６２２２０２１２３４５６７８９３４４５`)).toEqual([
      ['bank-card', '６２２２０２１２３４５６７８９３４４５'],
    ]);
    expect(detectPii(`卡号 6222 0212 3456 7893 445`)[0]!.masked).toBe('622202*********3445');
    expect(found(`卡号6222021234567893446`)).toEqual([]); // Luhn fails
  });

  it('finds emails, USCCs and passport-like numbers', () => {
    expect(found('发票发我邮箱zhang.san88@163.com，谢谢')).toEqual([['email', 'zhang.san88@163.com']]);
    expect(detectPii('邮箱zhang.san88@163.com')[0]!.masked).toBe('z***@163.com');
    expect(found('邮箱ｚｈａｎｇ＠qq.com')).toEqual([['email', 'ｚｈａｎｇ＠qq.com']]);
    expect(isValidUscc('91350100M000100Y43')).toBe(true);
    expect(found('开专票，税号91350100M000100Y43')).toEqual([['uscc', '91350100M000100Y43']]);
    expect(found('统一社会信用代码：91110000600037341L')).toEqual([['uscc', '91110000600037341L']]);
    expect(found('税号91350100M000100Y44')).toEqual([]); // MOD 31 check fails
    expect(found('护照号E12345678，姓名张三')).toEqual([['passport', 'E12345678']]);
    expect(found('用护照吧：EA1234567')).toEqual([['passport', 'EA1234567']]);
    expect(found('passport G12345678')).toEqual([['passport', 'G12345678']]);
  });

  it('reports spans in UTF-16 units, in text order, without overlaps', () => {
    const text = `😀手机13812345678，身份证${ID}，卡号${CARD19}，邮箱a.b@qq.com`;
    const findings = detectPii(text);
    expect(findings.map((f) => f.type)).toEqual(['mobile', 'national-id', 'bank-card', 'email']);
    expect(findings.map((f) => text.slice(f.start, f.end))).toEqual([
      '13812345678',
      ID,
      CARD19,
      'a.b@qq.com',
    ]);
    for (let i = 1; i < findings.length; i++)
      expect(findings[i]!.start).toBeGreaterThanOrEqual(findings[i - 1]!.end);
  });
});

describe('detectPii: context', () => {
  it('raises confidence with context words found by the segmenter', () => {
    const bare = only(CARD19);
    const labelled = only(`工商银行卡号${CARD19}`);
    expect(labelled.confidence).toBeGreaterThan(bare.confidence);
    expect(labelled.context).toEqual(expect.arrayContaining(['卡号']));
    expect(only(`请先打电话13812345678确认`).context).toContain('打电话');
    expect(only(`请拨13812345678`).context).toEqual(['请拨']);
    expect(only(`新手机13812345678`).context).toEqual(['手机']);
    expect(only(`身份证号码是${ID}`).context).toContain('身份证号码');
    expect(only('13812345678').context).toBeUndefined();
  });

  it('lowers confidence after look-alike labels, which decides Luhn-valid order numbers', () => {
    const order = luhnNumber('62', 19);
    expect(luhnValid(order)).toBe(true);
    const asCard = only(`银行卡${order}`);
    const asOrder = only(`订单号${order}`);
    expect(asOrder.confidence).toBeLessThan(asCard.confidence);
    expect(asOrder.context).toContain('订单号');
    expect(found(`订单号${order}`)).toEqual([]);
    expect(found(`订单号：${order}，退款到卡号${CARD19}`)).toEqual([['bank-card', CARD19]]);
    expect(found(`运单号 ${order}`)).toEqual([]);
    expect(found(`编号${order}`)).toEqual([]);
  });

  it('ignores topic words that do not label the number, and words that label another number', () => {
    expect(found('物流好几天没动了，有消息直接回13812345678')).toHaveLength(1);
    expect(found('王五 13812345678 订单3012345678901234567')).toEqual([['mobile', '13812345678']]);
    expect(found('送货前请先打电话13812345678确认时间')).toEqual([['mobile', '13812345678']]);
    expect(found('付了99元 13812345678 尽快发货')).toEqual([['mobile', '13812345678']]);
  });

  it('does not take a product (手机壳) for a context word', () => {
    const order = luhnNumber('4', 19);
    expect(found(`手机壳订单${order}`)).toEqual([]);
  });

  it('keeps a checksummed id reportable even next to an order label', () => {
    const f = only(`订单号${ID}`);
    expect(f.type).toBe('national-id');
    expect(f.confidence).toBeGreaterThanOrEqual(0.5);
    expect(f.confidence).toBeLessThan(only(`身份证${ID}`).confidence);
  });
});

describe('detectPii: look-alikes', () => {
  it('does not flag order numbers, including Luhn-valid ones', () => {
    for (const order of [
      '3012345678901234567',
      '201234567890123456',
      luhnNumber('3', 19),
      luhnNumber('4', 19),
      luhnNumber('1', 18),
    ]) {
      expect(found(`订单号${order}什么时候发货`), order).toEqual([]);
      expect(found(`${order}这个怎么还没发`), order).toEqual([]);
    }
  });

  it('does not cut mobiles, ids or cards out of longer digit runs', () => {
    expect(found('交易号2026010122001413812345678901')).toEqual([]);
    expect(found(`流水${ID.slice(0, 17)}12345`)).toEqual([]);
    expect(found(`1${CARD19}`)).toEqual([]);
    expect(found('4200001234202601011381234567890123')).toEqual([]);
  });

  it('does not flag tracking numbers', () => {
    for (const tracking of [
      'SF1234567890123',
      'YT1381234567890',
      'JT1381234567812',
      '75123456789012',
      '431381234567890',
      'JDVA13812345678',
      'EA138123456CN',
      'DPK138123456789',
    ]) {
      expect(found(`运单号${tracking}一直没更新`), tracking).toEqual([]);
      expect(found(`麻烦查一下${tracking}`), tracking).toEqual([]);
    }
  });

  it('does not flag timestamps, amounts and other numbers', () => {
    for (const text of [
      '下单时间20260101123045',
      '付款时间2026-01-01 12:30:45',
      '2026/01/01 12:30 签收',
      '时间戳1767225600123',
      '金额¥1,288.00',
      '实付￥12888.00，共12,888.88元',
      '客服电话10012345678打不通',
      '客服电话11012345678',
      '客服电话12012345678',
      '会员号813812345678',
      '条形码6901234567892',
      'IMEI：861381234567898',
      '发票号码26138123456789012345',
      '拼单号260101-138123456789012',
      '门店电话0571-88886666',
      '售后热线400-820-8820',
      '页面显示的电话138****5678',
      '取件码3-2-1380',
      '货号E20231588 尺码L',
    ]) {
      expect(found(text), text).toEqual([]);
    }
  });

  it('does not take digits inside emails, URLs or alphanumeric codes for a mobile', () => {
    expect(found('邮箱13812345678@163.com')).toEqual([['email', '13812345678@163.com']]);
    expect(found('订单ABC13812345678')).toEqual([]);
    expect(found('13812345678X')).toEqual([]);
    expect(found('价格13812345678.00')).toEqual([]);
    expect(found('tel13812345678')).toEqual([['mobile', '13812345678']]);
  });
});

describe('detectPii: a look-alike word only labels the number written against it', () => {
  const MOBILE = '13800138000';

  it('finds a mobile after a look-alike word when other words stand between them', () => {
    for (const text of [
      '订单没收到，13800138000',
      '订单发错了13800138000',
      '已付款，13800138000',
      '价格太贵了，13800138000',
      '送货时间：周末，13800138000',
      '单号呢？13800138000',
    ]) {
      const masked = text.replace(MOBILE, '138****8000');
      expect(found(text), text).toEqual([['mobile', MOBILE]]);
      expect(applyFreeTextPolicy(text, { declared: [], policy: 'mask' }).text, text).toBe(masked);
      expect(applyFreeTextPolicy(text, { declared: [], policy: 'reject' }).action, text).toBe('rejected');
      expect(screenFreeText({ pii: 'mask', declares: [] }, text), text).toEqual({
        action: 'masked',
        value: masked,
        types: ['mobile'],
      });
    }
  });

  it('finds a bank card after a look-alike word when other words stand between them', () => {
    const text = `订单没收到，${CARD19}`;
    expect(found(text)).toEqual([['bank-card', CARD19]]);
    expect(applyFreeTextPolicy(text, { declared: [], policy: 'mask' }).text).toBe(
      '订单没收到，622202*********3445',
    );
    expect(screenFreeText({ pii: 'reject', declares: [] }, text)).toEqual({
      action: 'rejected',
      types: ['bank-card'],
    });
  });

  it('ignores a look-alike word after a value unless it touches it', () => {
    const text = '13800138000，快递放门口';
    expect(found(text)).toEqual([['mobile', MOBILE]]);
    expect(only(text).confidence).toBe(only(MOBILE).confidence);
    expect(applyFreeTextPolicy(text, { declared: [], policy: 'mask' }).text).toBe('138****8000，快递放门口');
  });

  it('still takes a number written right after 订单 or 单号 for an order number', () => {
    const order = luhnNumber('62', 19);
    expect(found(order)).toEqual([['bank-card', order]]);
    for (const text of [
      `订单${order}`,
      `订单号：${order}`,
      `订单号 ${order}`,
      `订单号为${order}`,
      `单号是${order}`,
      `订单#${order}`,
      `单号：${order}，还没到`,
      `订单没收到，订单号：${order}`,
    ]) {
      expect(found(text), text).toEqual([]);
      expect(applyFreeTextPolicy(text, { declared: [], policy: 'reject' }).action, text).toBe('clean');
    }
  });
});

describe('detectPii: WeChat ids written as the mobile', () => {
  it('finds a mobile right after vx, wx, V, weixin or wechat', () => {
    for (const text of [
      '加vx13800138000',
      '加wx13800138000',
      '加V13800138000 备注',
      '微信：wx13800138000',
      '加weixin13800138000',
      'wechat13800138000',
    ]) {
      expect(found(text), text).toEqual([['mobile', '13800138000']]);
      expect(applyFreeTextPolicy(text, { declared: [], policy: 'mask' }).text, text).toBe(
        text.replace('13800138000', '138****8000'),
      );
    }
  });

  it('still ignores digits inside other letter codes', () => {
    expect(found('快递SF13800138000')).toEqual([]);
    expect(found('会员VIP13800138000')).toEqual([]);
    expect(found('货号AV13800138000')).toEqual([]);
  });
});

describe('detectPii: options', () => {
  const text = `手机13812345678，卡号${CARD19}`;

  it('filters by type', () => {
    expect(found(text, { types: ['bank-card'] })).toEqual([['bank-card', CARD19]]);
    expect(found(text, { types: [] })).toEqual([]);
  });

  it('drops findings below minConfidence', () => {
    const bareVisa = luhnNumber('4', 19);
    expect(found(bareVisa)).toEqual([]);
    expect(found(bareVisa, { minConfidence: 0 })).toEqual([['bank-card', bareVisa]]);
    expect(found(text, { minConfidence: 1.01 })).toEqual([]);
  });

  it('stays fast on long inputs (the segmenter only sees the text around candidates)', () => {
    const text = `请尽快发货，电话13812345678，订单号3012345678901234567，卡号${CARD19}。\n`.repeat(5000);
    const began = performance.now();
    expect(detectPii(text)).toHaveLength(10000);
    expect(performance.now() - began).toBeLessThan(5000);
  });

  it('returns for 400,000 dots and hyphens inside an email-shaped match', () => {
    for (const run of ['-'.repeat(400_000), '.-'.repeat(200_000)]) {
      expect(detectPii(`a@b.${run}c`)).toEqual([]);
      expect(found(`邮箱zhangsan@qq.com，a@b.${run}c`)).toEqual([['email', 'zhangsan@qq.com']]);
    }
  });

  it('returns nothing for text without digits or @', () => {
    expect(detectPii('')).toEqual([]);
    expect(detectPii('请尽快发货，谢谢')).toEqual([]);
  });
});

describe('maskPiiInText', () => {
  it('replaces each finding by its masked form', () => {
    const text = `手机13812345678，身份证${ID}，卡号 6222 0212 3456 7893 445。`;
    expect(maskPiiInText(text, detectPii(text))).toBe(
      '手机138****5678，身份证110***********002X，卡号 622202*********3445。',
    );
  });

  it('skips overlapping and out-of-range findings', () => {
    expect(
      maskPiiInText('abcdef', [
        { start: 1, end: 3, masked: '*' },
        { start: 2, end: 4, masked: '#' },
        { start: 10, end: 12, masked: '!' },
      ]),
    ).toBe('a*def');
  });
});

describe('applyFreeTextPolicy', () => {
  const text = `请送到公司，电话13812345678，退款到卡号${CARD19}`;

  it('masks PII the field does not declare, and reports it', () => {
    const result = applyFreeTextPolicy(text, { declared: ['mobile'], policy: 'mask' });
    expect(result.action).toBe('masked');
    expect(result.text).toBe('请送到公司，电话13812345678，退款到卡号622202*********3445');
    expect(result.findings).toEqual([
      {
        type: 'bank-card',
        start: 25,
        end: 44,
        masked: '622202*********3445',
        confidence: expect.any(Number),
      },
    ]);
  });

  it('rejects or only flags, leaving the text unchanged', () => {
    const rejected = applyFreeTextPolicy(text, { declared: [], policy: 'reject' });
    expect(rejected.action).toBe('rejected');
    expect(rejected.findings.map((f) => f.type)).toEqual(['mobile', 'bank-card']);
    const flagged = applyFreeTextPolicy(text, { declared: ['bank-card'], policy: 'flag' });
    expect(flagged).toMatchObject({ action: 'flagged', text });
    expect(flagged.findings.map((f) => f.type)).toEqual(['mobile']);
  });

  it('is clean when all PII is declared or there is none', () => {
    expect(applyFreeTextPolicy(text, { declared: ['mobile', 'bank-card'], policy: 'reject' })).toEqual({
      text,
      findings: [],
      action: 'clean',
    });
    expect(applyFreeTextPolicy('尽快发货', { declared: [], policy: 'mask' }).action).toBe('clean');
  });
});

describe('property: the masked text never contains a detected value in clear', () => {
  const digits = (n: number): fc.Arbitrary<string> =>
    fc
      .array(fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'), {
        minLength: n,
        maxLength: n,
      })
      .map((d) => d.join(''));
  const mobile = fc
    .tuple(
      fc.constantFrom('130', '138', '152', '177', '186', '199'),
      digits(8),
      fc.integer({ min: 0, max: 3 }),
    )
    .map(([p, d, style]) => {
      const m = p + d;
      return [
        m,
        `${m.slice(0, 3)} ${m.slice(3, 7)} ${m.slice(7)}`,
        `+86${m}`,
        `${m.slice(0, 3)}-${m.slice(3, 7)}-${m.slice(7)}`,
      ][style]!;
    });
  const id = fc
    .tuple(
      fc.constantFrom('110105', '330106', '440305', '510104'),
      fc.integer({ min: 1950, max: 2010 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 28 }),
      digits(3),
    )
    .map(([region, y, m, d, seq]) => {
      const first17 = `${region}${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}${seq}`;
      return first17 + residentIdCheckDigit(first17);
    });
  const card = fc
    .tuple(fc.constantFrom('622202', '621700', '622848'), digits(12), fc.boolean())
    .map(([iin, d, spaced]) => {
      const partial = iin + d;
      const value = partial + luhnCheckDigit(partial);
      return spaced ? (value.match(/.{1,4}/g) ?? []).join(' ') : value;
    });
  const email = fc
    .tuple(fc.stringMatching(/^[a-z][a-z0-9]{1,8}$/), fc.constantFrom('qq.com', '163.com', 'gmail.com'))
    .map(([local, domain]) => `${local}@${domain}`);
  const filler = fc.constantFrom(
    '，',
    '。',
    ' ',
    '手机',
    '电话',
    '身份证',
    '卡号',
    '订单号',
    '运单号',
    '请尽快发货',
    '谢谢',
    '¥99.00',
    '2026-01-01 12:30:45',
    'SF1234567890123',
  );
  const text = fc
    .array(fc.oneof(mobile, id, card, email, filler, filler, digits(5)), { maxLength: 12 })
    .map((parts) => parts.join(''));

  it('holds for random messages with embedded PII', () => {
    fc.assert(
      fc.property(text, (t) => {
        const findings = detectPii(t);
        const masked = maskPiiInText(t, findings);
        const serialised = JSON.stringify(findings);
        for (const f of findings) {
          const value = t.slice(f.start, f.end);
          const compact = value.replace(/[\s-]/g, '');
          expect(masked).not.toContain(value);
          if (f.type !== 'email') expect(masked).not.toContain(compact.replace(/^\+?(?:0086|86)/, ''));
          expect(serialised).not.toContain(value);
          expect(f.start).toBeGreaterThanOrEqual(0);
          expect(f.end).toBeLessThanOrEqual(t.length);
          expect(f.confidence).toBeGreaterThanOrEqual(0.5);
          expect(f.confidence).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('labelled corpus', () => {
  const corpus = generateCorpus('pii-test-2000', 2000);

  it('is deterministic, large enough, with ≥ 30 % look-alike negatives and ≥ 40 templates', () => {
    expect(corpus).toHaveLength(2000);
    expect(generateCorpus('pii-test-2000', 50)).toEqual(corpus.slice(0, 50));
    expect(generateCorpus('another', 50)).not.toEqual(corpus.slice(0, 50));
    const negatives = corpus.filter((s) => s.labels.length === 0);
    expect(negatives.length / corpus.length).toBeGreaterThanOrEqual(0.3);
    expect(negatives.filter((s) => s.decoys.length > 0).length / corpus.length).toBeGreaterThanOrEqual(0.3);
    expect(CORPUS_TEMPLATES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(corpus.map((s) => s.template)).size).toBeGreaterThanOrEqual(40);
    const decoyKinds = new Set(corpus.flatMap((s) => s.decoys.map((d) => d.kind)));
    for (const kind of [
      'order-number',
      'tracking-number',
      'timestamp',
      'amount',
      'non-mobile-number',
      'membership-number',
    ]) {
      expect(decoyKinds).toContain(kind);
    }
  });

  it('labels exact spans whose values validate as their type', () => {
    const fold = (s: string): string =>
      s
        .replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
        .replace(/\u3000/g, ' ');
    const seen = new Set<PiiType>();
    for (const snippet of corpus) {
      for (const label of snippet.labels) {
        const value = fold(snippet.text.slice(label.start, label.end));
        seen.add(label.type);
        const ok: Record<PiiType, (v: string) => boolean> = {
          mobile: (v) => normalizeMobile(v.replace(/^\(\+86\)/, '')) !== undefined,
          'virtual-number': (v) => isVirtualNumber(v),
          'national-id': (v) =>
            isValidResidentId(v.replace(/\s/g, '').toUpperCase(), { today: '2099-12-31' }),
          'bank-card': (v) => isBankCard(v),
          email: (v) => isEmail(v),
          uscc: (v) => isValidUscc(v),
          passport: (v) => /^(?:[EG]\d{8}|E[A-Z]\d{7})$/.test(v),
        };
        expect(ok[label.type](value), `${snippet.id} ${label.type}`).toBe(true);
      }
    }
    expect([...seen].sort()).toEqual([...PII_TYPES].sort());
  });

  it('meets the quality targets: precision ≥ 0.99 and recall ≥ 0.98 for ids, mobiles and bank cards', () => {
    const report = measurePiiQuality(corpus, { seed: 'pii-test-2000' });
    for (const type of ['mobile', 'national-id', 'bank-card'] as const) {
      const q = report.perType[type];
      expect(q.tp, type).toBeGreaterThan(100);
      expect(q.precision, type).toBeGreaterThanOrEqual(0.99);
      expect(q.recall, type).toBeGreaterThanOrEqual(0.98);
    }
    for (const type of ['virtual-number', 'email', 'uscc', 'passport'] as const) {
      expect(report.perType[type].precision, type).toBeGreaterThanOrEqual(0.95);
      expect(report.perType[type].recall, type).toBeGreaterThanOrEqual(0.95);
    }
  });
});
