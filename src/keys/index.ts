import type { RootKeyConfig } from '../config/schema.js';
import { FileRootKeyProvider } from './file-provider.js';
import { Pkcs11RootKeyProvider } from './pkcs11.js';
import type { RootKeyProvider } from './provider.js';

export type { RootKeyProvider } from './provider.js';
export { FileRootKeyProvider, WRAP_MIN_BYTES, WRAP_NONCE_BYTES, WRAP_TAG_BYTES } from './file-provider.js';
export { Pkcs11RootKeyProvider, type EnsureKeyResult, type Pkcs11RootKeyOptions } from './pkcs11.js';

/**
 * Opens the root-key provider a configuration names. The PKCS#11 provider loads its native
 * binding only here, on first use, so a file-key installation never needs it.
 */
export async function openRootKeyProvider(config: RootKeyConfig): Promise<RootKeyProvider> {
  switch (config.provider) {
    case 'file':
      return FileRootKeyProvider.open(config.path);
    case 'pkcs11':
      return Pkcs11RootKeyProvider.open(config);
  }
}
