import type { Migration, MigrationProvider } from 'kysely';
import type { ColumnTypes } from '../dialect.js';
import { foundation } from './0001-foundation.js';
import { vault } from './0002-vault.js';
import { policy } from './0003-policy.js';
import { auditMerkle } from './0004-audit-merkle.js';
import { access } from './0005-access.js';
import { consent } from './0006-consent.js';
import { imports } from './0007-imports.js';
import { incidents } from './0008-incidents.js';
import { privacyCentre } from './0009-privacy-centre.js';
import { auditRetention } from './0010-audit-retention.js';
import { exportReceiver } from './0011-export-receiver.js';
import { dropUnusedKeyIndex } from './0012-drop-unused-key-index.js';
import { indexRoots } from './0013-index-roots.js';
import { nonUniquePolicyFingerprint } from './0014-policy-fingerprint.js';

/**
 * Migrations live in code (no folder scan), so the packaged CLI carries them. Names sort in
 * order of application; never rename or edit one that has shipped — add a new one.
 */
export function migrationProvider(types: ColumnTypes): MigrationProvider {
  return {
    getMigrations(): Promise<Record<string, Migration>> {
      return Promise.resolve({
        '0001-foundation': foundation(types),
        '0002-vault': vault(types),
        '0003-policy': policy(types),
        '0004-audit-merkle': auditMerkle(types),
        '0005-access': access(types),
        '0006-consent': consent(types),
        '0007-imports': imports(types),
        '0008-incidents': incidents(types),
        '0009-privacy-centre': privacyCentre(types),
        '0010-audit-retention': auditRetention(types),
        '0011-export-receiver': exportReceiver(),
        '0012-drop-unused-key-index': dropUnusedKeyIndex(),
        '0013-index-roots': indexRoots(),
        '0014-policy-fingerprint': nonUniquePolicyFingerprint(),
      });
    },
  };
}
