import { describe, expect, it } from 'vitest';
import { parseConfig, type ConfigProblem } from '../../src/config/load.js';
import { configTemplate } from '../../src/config/template.js';
import { CustodianError } from '../../src/domain/errors.js';
import { assertScenePurpose } from '../../src/platforms/tmall/rules.js';

const template = configTemplate({ suite: 'aes-256-gcm', storeName: 'Test Store' });

/** The template with a contract-based care purpose declared next to marketing (consent-based). */
const withCare = template.replace(
  '    - id: marketing\n',
  [
    '    - id: customer-care',
    '      name: { zh-CN: 客户关怀, en: Customer care }',
    '      legalBasis: contract',
    '      necessary: false',
    '    - id: marketing',
    '',
  ].join('\n'),
);

function withScenes(base: string, scenes: string): string {
  return `${base}\ntmall:\n  scenes: ${scenes}\n`;
}

function problemsOf(text: string): { error: CustodianError; problems: readonly ConfigProblem[] } {
  try {
    parseConfig(text, 'custodian.yaml', {});
  } catch (error) {
    if (!(error instanceof CustodianError)) throw error;
    const { problems } = error.details as { problems: readonly ConfigProblem[] };
    return { error, problems };
  }
  throw new Error('expected the configuration to be refused');
}

describe('tmall.scenes overrides (R30)', () => {
  it('accepts mapping customer care (2002) to a contract-based care purpose', () => {
    expect(withCare).toContain('id: customer-care');
    const { tmall } = parseConfig(withScenes(withCare, "{ '2002': customer-care }"), 'custodian.yaml', {});
    expect(tmall.scenes['2002']).toBe('customer-care');
    expect(tmall.scenes['2001']).toBe('customer-service');
    expect(tmall.scenes['1001']).toBe('order-fulfilment');
    expect(() => assertScenePurpose(2002, 'customer-care', tmall.scenes)).not.toThrow();
  });

  it('accepts naming a scene’s own default purpose', () => {
    const text = withScenes(template, "{ '1001': order-fulfilment, '2001': customer-service }");
    expect(parseConfig(text, 'custodian.yaml', {}).tmall.scenes['1001']).toBe('order-fulfilment');
  });

  it('refuses mapping a shipping scene to another purpose, naming the key', () => {
    const text = withScenes(template, "{ '1001': marketing }");
    const { error, problems } = problemsOf(text);
    expect(error.code).toBe('ERR_CONFIG_INVALID');
    expect(error.exitCode).toBe(2); // the CLI exits 2
    expect(problems.map((p) => p.key)).toEqual(['tmall.scenes.1001']);
    expect(problems[0]?.line).toBe(text.split('\n').findIndex((l) => l.includes("'1001': marketing")) + 1);
    expect(error.message).toMatch(
      /custodian\.yaml:\d+:\d+: tmall\.scenes\.1001: scene 1001 .* "order-fulfilment" only \(R30\)/,
    );
  });

  it('refuses mapping the after-sales scene to another purpose', () => {
    const { problems } = problemsOf(withScenes(withCare, "{ '2001': customer-care }"));
    expect(problems.map((p) => p.key)).toEqual(['tmall.scenes.2001']);
  });

  it('refuses mapping customer care to a consent-based purpose such as marketing', () => {
    const { error, problems } = problemsOf(withScenes(template, "{ '2002': marketing }"));
    expect(error.code).toBe('ERR_CONFIG_INVALID');
    expect(problems.map((p) => p.key)).toEqual(['tmall.scenes.2002']);
    expect(problems[0]?.message).toMatch(/rests on consent/);
  });

  it('refuses mapping customer care to a purpose the data map does not declare', () => {
    const { problems } = problemsOf(withScenes(template, "{ '2002': customer-kare }"));
    expect(problems.map((p) => [p.key, p.message])).toEqual([
      ['tmall.scenes.2002', 'unknown purpose "customer-kare"'],
    ]);
  });
});
