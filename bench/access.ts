/**
 * `npm run bench -- access`: decisions/s of the access decision engine (role × purpose × field),
 * against a baseline of a bare `Map` lookup of the same keys in the same process. Target ≥ 1M/s.
 */
import { parseConfig } from '../src/config/load.js';
import { configTemplate } from '../src/config/template.js';
import { AccessPolicy, type DecisionContext } from '../src/domain/access/engine.js';
import { resolveRoles } from '../src/domain/access/roles.js';
import { perSec } from './lib/out.js';

export const ACCESS_FLOOR = 1_000_000;

export function access(): Promise<Record<string, unknown>> {
  const { datamap } = parseConfig(configTemplate({ suite: 'aes-256-gcm', storeName: 'Bench' }), 'bench.yaml');
  const roles = resolveRoles();
  const policy = new AccessPolicy(datamap, roles);
  const contexts: DecisionContext[] = [];
  for (const role of Object.keys(roles)) {
    for (const purpose of datamap.purposes) {
      for (const [collection, c] of Object.entries(datamap.collections)) {
        for (const field of Object.keys(c.fields)) {
          contexts.push({
            role,
            purpose: purpose.id,
            collection,
            field,
            trainingCurrent: contexts.length % 7 !== 0,
            breakGlass: contexts.length % 11 === 0,
          });
        }
      }
    }
  }
  const baseline = new Map(
    contexts.map((c) => [`${c.role}\u0000${c.purpose}\u0000${c.collection}\u0000${c.field}`, c.field.length]),
  );
  const rounds = 2_000_000;
  let sink = 0;
  const time = (fn: () => void): number => {
    const start = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - start) / 1e9;
  };
  // Warm up both paths, then take the best of three.
  for (let i = 0; i < 200_000; i++) sink += policy.decide(contexts[i % contexts.length]!).access.length;
  const best = (fn: () => void): number => Math.min(time(fn), time(fn), time(fn));
  const engine = best(() => {
    for (let i = 0; i < rounds; i++) sink += policy.decide(contexts[i % contexts.length]!).access.length;
  });
  const lookup = best(() => {
    for (let i = 0; i < rounds; i++) {
      const c = contexts[i % contexts.length]!;
      sink += baseline.get(`${c.role}\u0000${c.purpose}\u0000${c.collection}\u0000${c.field}`) ?? 0;
    }
  });
  const decisionsPerSec = perSec(rounds, engine);
  const mapLookupsPerSec = perSec(rounds, lookup);
  return Promise.resolve({
    bench: 'access',
    decisions: rounds,
    distinctContexts: contexts.length,
    decisionsPerSec,
    mapLookupsPerSec,
    ratio: Number((decisionsPerSec / mapLookupsPerSec).toFixed(3)),
    floor: ACCESS_FLOOR,
    node: process.version,
    sink: sink > 0,
  });
}
