import type { Recipient } from './schema.js';

/**
 * Why the recipient `id` may not receive `category` as an entrusted processor (受托人), or
 * `undefined` when it may. A service Custodian itself hands personal data to (the SMS provider
 * that delivers sign-in codes) must be declared in `datamap.recipients` so the privacy policy
 * lists it (R6), must act only on our instructions under an entrustment contract (PIPL Art. 21;
 * R13: role `processor`, not a third party deciding its own purposes), and must list the
 * category it receives.
 */
export function processorProblem(
  recipients: readonly Recipient[],
  id: string,
  category: string,
): string | undefined {
  const recipient = recipients.find((r) => r.id === id);
  if (recipient === undefined)
    return `no datamap.recipients entry "${id}": the provider receives customers' personal data and must be declared so the privacy policy lists it (R6, R13)`;
  if (recipient.role !== 'processor')
    return `datamap recipient "${id}" has role ${recipient.role}: the provider must be an entrusted processor (role processor, PIPL Art. 21; R13)`;
  if (!(recipient.categories as readonly string[]).includes(category))
    return `datamap recipient "${id}" does not list category ${category}, which the provider receives (R6)`;
  return undefined;
}
